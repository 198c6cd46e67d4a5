//! Pages of a listing: the one request shape, default size and rule that
//! every list of the library (`users().list`, `events().list`,
//! `events().deliveries`, `audit().list`, `files().list`) applies, so a
//! page size means the same in every service and every language.
//!
//! The rule: no limit means [`PageRequest::DEFAULT_LIMIT`]; a limit from 1
//! to the listing's largest page is used as given; anything else is a
//! `validation_error` on `limit`. Nothing is clamped: a caller asking for
//! 5,000 rows and silently getting 1,000 would read a short page as the
//! end of the listing. The bindings pass an absent limit through as
//! `None`, so their default is this one.
//!
//! Listings that return everything at once (a user's sessions, roles,
//! webhooks) are small by nature and take no page.

use serde::Serialize;

use crate::error::{Error, Result};

/// One page of a listing, and where the next one starts: users, events
/// and audit rows oldest first, files in key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    /// The items, in the listing's order.
    pub items: Vec<T>,
    /// Pass to the next call; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// Which page of a listing to read: after `cursor` (a previous page's
/// `next_cursor`; from the start without one), `limit` rows at most.
///
/// ```
/// use doorward::PageRequest;
///
/// assert_eq!(PageRequest::new(None, None).limit_within(500).unwrap(), PageRequest::DEFAULT_LIMIT);
/// assert_eq!(PageRequest::new(Some("cursor"), 500).limit_within(500).unwrap(), 500);
/// let err = PageRequest::new(None, 501).limit_within(500).unwrap_err();
/// assert_eq!(err.field(), Some("limit"));
/// assert_eq!(err.to_string(), "invalid limit: must be 1 to 500");
/// assert!(PageRequest::new(None, 0).limit_within(500).is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PageRequest<'a> {
    /// Where to resume: the `next_cursor` of the previous page.
    pub cursor: Option<&'a str>,
    /// Most rows to return; `None` for [`PageRequest::DEFAULT_LIMIT`].
    pub limit: Option<u32>,
}

impl<'a> PageRequest<'a> {
    /// Rows per page when the caller names no limit: small enough for an
    /// admin screen, and within every listing's largest page.
    pub const DEFAULT_LIMIT: u32 = 50;

    /// Largest page of the event, delivery, audit and file listings.
    /// Accounts stop at [`crate::users::MAX_PAGE`].
    pub const MAX_LIMIT: u32 = 1000;

    /// A request for the page after `cursor`; `limit` is a number or
    /// `None` for the default.
    pub fn new(cursor: Option<&'a str>, limit: impl Into<Option<u32>>) -> Self {
        PageRequest {
            cursor,
            limit: limit.into(),
        }
    }

    /// The number of rows to read from a listing whose largest page is
    /// `max`: the default without a limit, the limit when it is 1 to
    /// `max`, and a `validation_error` on `limit` otherwise.
    pub fn limit_within(&self, max: u32) -> Result<u32> {
        match self.limit {
            None => Ok(Self::DEFAULT_LIMIT.min(max)),
            Some(limit) if (1..=max).contains(&limit) => Ok(limit),
            Some(_) => Err(Error::validation("limit", format!("must be 1 to {max}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_applies_only_without_a_limit() {
        for max in [1, 50, 500, PageRequest::MAX_LIMIT] {
            let limit = PageRequest::new(None, None).limit_within(max).unwrap();
            assert!((1..=max).contains(&limit));
            assert_eq!(PageRequest::new(None, max).limit_within(max).unwrap(), max);
            for bad in [0, max + 1, u32::MAX] {
                let err = PageRequest::new(None, bad).limit_within(max).unwrap_err();
                assert_eq!(err.field(), Some("limit"), "{bad} of {max}");
            }
        }
    }
}
