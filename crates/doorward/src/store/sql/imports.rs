//! Bulk inserts of accounts, in SQL: one transaction of multi-row
//! `INSERT`s (written once, in [`super::users`], for single accounts too).

/// Implements [`crate::store::ImportStore`] for a [`super::Dialect`].
macro_rules! sql_imports {
    ($store:ty) => {
        const _: () = {
            use $crate::error::Result;
            use $crate::events::Event;
            use $crate::store::sql::Dialect;
            use $crate::store::sql::users::USERS_PER_STATEMENT;
            use $crate::store::{ImportStore, NewUser, TakenKeys, UserRecord};

            type Db = <$store as Dialect>::Db;

            /// The values of `keys` that `column` holds.
            async fn taken(
                store: &$store,
                column: &'static str,
                keys: &[String],
            ) -> Result<std::collections::HashSet<String>> {
                let mut found = std::collections::HashSet::new();
                for slice in keys.chunks(USERS_PER_STATEMENT * 4) {
                    let mut query = sqlx::QueryBuilder::<Db>::new(format!(
                        "SELECT {column} FROM users WHERE {column} IN ("
                    ));
                    let mut list = query.separated(", ");
                    for key in slice {
                        list.push_bind(key);
                    }
                    query.push(")");
                    let rows: Vec<String> =
                        query.build_query_scalar().fetch_all(store.writes()).await?;
                    found.extend(rows);
                }
                Ok(found)
            }

            #[async_trait::async_trait]
            impl ImportStore for $store {
                async fn insert_users(&self, users: &[NewUser], events: &[Event]) -> Result<()> {
                    let roles: Vec<Vec<&str>> = users
                        .iter()
                        .map(|(_, roles)| roles.iter().map(String::as_str).collect())
                        .collect();
                    let rows: Vec<(&UserRecord, &[&str])> = users
                        .iter()
                        .zip(&roles)
                        .map(|((user, _), roles)| (user, roles.as_slice()))
                        .collect();
                    let mut tx = self.begin().await?;
                    Self::insert_users_in(&mut tx, &rows).await?;
                    Self::commit_with(tx, events).await
                }

                async fn taken_keys(
                    &self,
                    email_keys: &[String],
                    username_keys: &[String],
                    ids: &[String],
                ) -> Result<TakenKeys> {
                    Ok(TakenKeys {
                        emails: taken(self, "email_key", email_keys).await?,
                        usernames: taken(self, "username_key", username_keys).await?,
                        ids: taken(self, "id", ids).await?,
                    })
                }
            }
        };
    };
}
pub(crate) use sql_imports;
