use std::io::IsTerminal;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// The server's default log filter: its own events and sqlx's warnings (slow statements).
pub const SERVE_FILTER: &str = "info,sqlx=warn,tower_http=info";
/// The seeder's: its multi-row inserts are slow by design, and sqlx's slow-statement warning
/// would print each 500-row statement over the progress bar.
pub const SEED_FILTER: &str = "info,sqlx=error";

/// Human-readable logs by default, JSON lines with `OMS_LOG_FORMAT=json`; `RUST_LOG` filters.
/// Colours only on a terminal: redirected to a file or a log collector, escape codes are noise
/// (and formatting them was a visible share of the server's time per request).
pub fn init(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal());
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// The process-wide Prometheus recorder (the `metrics` facade is global by design); installed on
/// first use so tests that build many apps share one.
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ])
            .expect("static buckets are valid")
            .build_recorder();
        let handle = recorder.handle();
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}
