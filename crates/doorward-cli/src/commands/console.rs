//! `doorward console`: the admin console on its own origin.

use std::net::SocketAddr;

use doorward::{Error, Result};

use super::Ctx;

pub async fn run(ctx: &Ctx, listen: SocketAddr) -> Result<()> {
    let dw = ctx.open_serving().await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| Error::Config(format!("cannot listen on {listen}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| Error::Internal(format!("no local address: {e}")))?;
    ctx.out.emit(
        &serde_json::json!({ "console": format!("http://{bound}/") }),
        |w| writeln!(w, "doorward console on http://{bound}/ (Ctrl-C to stop)"),
    )?;
    let app = doorward_console::router(dw).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .await
        .map_err(|e| Error::Internal(format!("the console stopped: {e}")))
}
