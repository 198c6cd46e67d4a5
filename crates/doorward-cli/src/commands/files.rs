//! `doorward files ...`.

use std::io::Write as _;
use std::path::Path;

use doorward::{Error, FileInfo, Result};
use futures_util::TryStreamExt as _;
use serde::Serialize;

use super::Ctx;
use crate::args::{FilesCommand, utf8, utf8_opt};
use crate::output::{table, time};

#[derive(Debug, Serialize)]
struct Removed {
    key: String,
    deleted: bool,
}

pub async fn run(ctx: &Ctx, command: FilesCommand) -> Result<()> {
    match command {
        FilesCommand::Put {
            key,
            path,
            content_type,
        } => {
            let key = utf8("key", key)?;
            let content_type = utf8_opt("content_type", content_type)?;
            let dw = ctx.open().await?;
            let info = if path == Path::new("-") {
                dw.files()
                    .put_stream(&key, tokio::io::stdin(), content_type.as_deref())
                    .await?
            } else {
                dw.files()
                    .put_file(&key, &path, content_type.as_deref())
                    .await?
            };
            ctx.out.emit(&info, |w| {
                writeln!(w, "stored {} ({} bytes)", info.key, info.size)
            })
        }
        FilesCommand::Get { key, path } => {
            let key = utf8("key", key)?;
            let dw = ctx.open().await?;
            match path.filter(|p| p != Path::new("-")) {
                Some(path) => {
                    let info = dw.files().get_to_file(&key, &path).await?;
                    ctx.out.emit(&info, |w| {
                        writeln!(w, "wrote {} bytes to {}", info.size, path.display())
                    })
                }
                None if ctx.out.json => Err(Error::validation(
                    "path",
                    "with --json the file cannot go to standard output; name a PATH",
                )),
                None => to_stdout(&dw, &key).await,
            }
        }
        FilesCommand::Head { key } => {
            let key = utf8("key", key)?;
            let info = ctx.open().await?.files().head(&key).await?;
            ctx.out.emit(&info, |w| {
                let rows = vec![
                    vec!["key".to_string(), info.key.clone()],
                    vec!["size".to_string(), info.size.to_string()],
                    vec!["content_type".to_string(), dash(&info.content_type)],
                    vec!["etag".to_string(), dash(&info.etag)],
                    vec!["created_at".to_string(), time(&info.created_at)],
                ];
                table(w, &["FIELD", "VALUE"], &rows)
            })
        }
        FilesCommand::Ls {
            prefix,
            cursor,
            limit,
        } => {
            let prefix = utf8_opt("prefix", prefix)?;
            let cursor = utf8_opt("cursor", cursor)?;
            let dw = ctx.open().await?;
            let page = dw
                .files()
                .list(prefix.as_deref(), cursor.as_deref(), limit)
                .await?;
            ctx.out.emit(&page, |w| {
                let rows: Vec<Vec<String>> = page.items.iter().map(row).collect();
                table(w, &["KEY", "SIZE", "CREATED"], &rows)?;
                match &page.next_cursor {
                    Some(next) => writeln!(w, "more: --cursor {next}"),
                    None => Ok(()),
                }
            })
        }
        FilesCommand::Rm { key } => {
            let key = utf8("key", key)?;
            let dw = ctx.open().await?;
            if !dw.files().delete(&key).await? {
                return Err(Error::NotFound { what: "file" });
            }
            let removed = Removed { key, deleted: true };
            ctx.out
                .emit(&removed, |w| writeln!(w, "removed {}", removed.key))
        }
    }
}

/// The body, streamed, as the command's output.
async fn to_stdout(dw: &doorward::Doorward, key: &str) -> Result<()> {
    let (_, mut stream) = dw.files().get_stream(key).await?;
    let mut out = std::io::stdout().lock();
    let failed = |e: std::io::Error| Error::Internal(format!("cannot write output: {e}"));
    while let Some(chunk) = stream.try_next().await? {
        out.write_all(&chunk).map_err(failed)?;
    }
    out.flush().map_err(failed)
}

fn row(info: &FileInfo) -> Vec<String> {
    vec![
        info.key.clone(),
        info.size.to_string(),
        time(&info.created_at),
    ]
}

fn dash(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "-".to_string())
}
