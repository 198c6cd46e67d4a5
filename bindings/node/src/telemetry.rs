//! Spans still buffered for an OTLP collector (`otelEndpoint`) are exported
//! when the Node environment exits, instead of being lost with it.

use napi::Env;
use napi_derive::napi;

/// Register the export of buffered spans at exit; the package calls it once
/// when it is loaded.
#[napi(js_name = "_exportSpansAtExit")]
pub fn export_spans_at_exit(env: Env) -> napi::Result<()> {
    env.add_env_cleanup_hook((), |()| {
        // A collector that is down at exit has nowhere to be reported.
        let _ = doorward::telemetry::otel::flush();
    })?;
    Ok(())
}
