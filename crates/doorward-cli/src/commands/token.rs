//! `doorward token ...`.

use std::io::{self, Write as _};

use chrono::DateTime;
use doorward::{ClientInfo, Result};
use serde::Serialize;

use super::{Ctx, resolve_user};
use crate::args::{TokenCommand, utf8};
use crate::output::time;
use crate::secrets;

/// `token decode`'s document: the `verified: false` travels with the data,
/// so nobody piping it onwards can mistake it for a checked token.
#[derive(Debug, Serialize)]
struct Decoded {
    verified: bool,
    warning: &'static str,
    header: serde_json::Value,
    claims: serde_json::Value,
}

const UNVERIFIED: &str = "UNVERIFIED: decoded only; the signature and claims were NOT checked (use `doorward token verify`)";

/// Marks sessions started from the command line, so `user show` tells them
/// apart from real logins.
const ISSUED_BY: &str = "doorward-cli (token issue)";

pub async fn run(ctx: &Ctx, command: TokenCommand) -> Result<()> {
    match command {
        TokenCommand::Issue { user } => {
            let user = utf8("user", user)?;
            let dw = ctx.open().await?;
            let user = resolve_user(&dw, &user).await?;
            let client = ClientInfo {
                ip: None,
                user_agent: Some(ISSUED_BY.into()),
            };
            let pair = dw.auth().issue_tokens(&user.id, Some(client)).await?;
            ctx.out.emit(&pair, |w| {
                writeln!(w, "access_token   {}", pair.access_token)?;
                writeln!(w, "refresh_token  {}", pair.refresh_token)?;
                writeln!(w, "token_type     {}", pair.token_type)?;
                writeln!(w, "expires_in     {}s", pair.expires_in)
            })
        }
        TokenCommand::Verify => {
            let token = secrets::token()?;
            let dw = ctx.open().await?;
            let principal = dw.auth().verify_token(&token).await?;
            ctx.out.emit(&principal, |w| {
                writeln!(w, "valid access token")?;
                writeln!(w, "user_id     {}", principal.user_id)?;
                writeln!(w, "username    {}", principal.username)?;
                writeln!(w, "session_id  {}", principal.session_id)?;
                writeln!(w, "roles       {}", principal.roles.join(", "))?;
                writeln!(w, "expires_at  {}", time(&principal.expires_at))
            })
        }
        TokenCommand::Decode => {
            // Needs no store and no keys: it is for looking at any token,
            // including ones this configuration could never verify.
            let token = secrets::token()?;
            let (header, claims) = doorward::token::inspect(&token)?;
            let doc = Decoded {
                verified: false,
                warning: UNVERIFIED,
                header,
                claims,
            };
            ctx.out.emit(&doc, |w| {
                writeln!(w, "{UNVERIFIED}")?;
                writeln!(w, "header:")?;
                writeln!(w, "{}", pretty(&doc.header)?)?;
                writeln!(w, "claims:")?;
                writeln!(w, "{}", pretty(&doc.claims)?)?;
                for claim in ["iat", "nbf", "exp"] {
                    if let Some(at) = doc.claims[claim]
                        .as_i64()
                        .and_then(|s| DateTime::from_timestamp(s, 0))
                    {
                        writeln!(w, "{claim}: {}", time(&at))?;
                    }
                }
                Ok(())
            })
        }
        TokenCommand::Jwks => {
            let dw = ctx.open().await?;
            let jwks = dw.auth().jwks()?;
            let empty = jwks["keys"].as_array().is_none_or(|k| k.is_empty());
            ctx.out.emit(&jwks, |w| {
                writeln!(w, "{}", pretty(&jwks)?)?;
                if empty {
                    // On stderr, so stdout stays a clean JWKS document.
                    let _ = writeln!(
                        io::stderr(),
                        "note: no public keys; HS256 secrets are shared, never published"
                    );
                }
                Ok(())
            })
        }
    }
}

fn pretty(value: &serde_json::Value) -> io::Result<String> {
    serde_json::to_string_pretty(value).map_err(io::Error::other)
}
