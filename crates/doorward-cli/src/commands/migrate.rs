//! `doorward migrate`.

use doorward::Result;
use serde::Serialize;

use super::Ctx;

#[derive(Debug, Serialize)]
struct Migrated {
    migrated: bool,
    backend: &'static str,
    roles: Vec<String>,
}

/// Opening is all it takes (migrations and role seeding run on open); the
/// command exists so deployments can do it as a step of their own, before
/// the application starts.
pub async fn run(ctx: &Ctx) -> Result<()> {
    let dw = ctx.open().await?;
    let roles = dw.roles().list().await?;
    let report = Migrated {
        migrated: true,
        backend: dw.backend(),
        roles: roles.into_iter().map(|r| r.name).collect(),
    };
    ctx.out.emit(&report, |w| {
        writeln!(
            w,
            "schema up to date ({} backend); roles: {}",
            report.backend,
            report.roles.join(", ")
        )
    })
}
