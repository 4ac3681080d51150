use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// The server's default log filter: its own events and sqlx's warnings (slow statements).
pub const SERVE_FILTER: &str = "info,sqlx=warn,tower_http=info";
/// The seeder's: its multi-row inserts are slow by design, and sqlx's slow-statement warning
/// would print each 500-row statement over the progress bar.
pub const SEED_FILTER: &str = "info,sqlx=error";

/// Human-readable logs by default, JSON lines with `OMS_LOG_FORMAT=json`; `RUST_LOG` filters.
/// Colours only on a terminal: redirected to a file or a log collector, escape codes are noise.
///
/// Lines reach stdout from `tracing-appender`'s writer thread, so no request waits on a write.
/// It is not lossy: when its queue is full, logging waits rather than dropping lines. Keep the
/// guard until the process ends, so that the last lines are written too.
pub fn init(format: LogFormat, default_filter: &str) -> WorkerGuard {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stdout().is_terminal())
        .with_writer(writer);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
    guard
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
        spawn_upkeep(handle.clone());
        handle
    })
}

/// How often recorded histogram samples are folded into their buckets.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);
/// The name of the thread that does it, so a test can see that it runs.
pub const UPKEEP_THREAD: &str = "metrics-upkeep";

/// The recorder keeps every histogram sample (24 bytes each) in a queue until something drains
/// it; a scrape of /metrics does, but a server nobody scrapes would grow by that much per
/// request, for ever (two samples per request: 300 MB an hour at 6,000 requests a second).
/// A plain thread rather than a task: the recorder is process-wide and must outlive any one
/// tokio runtime (every test has its own).
fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name(UPKEEP_THREAD.into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                handle.run_upkeep();
            }
        });
    if let Err(error) = spawned {
        tracing::error!(%error, "metrics upkeep thread did not start; histograms drain on scrape only");
    }
}

/// Log output kept in memory, for tests that read the lines a subscriber writes.
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct CapturedLog(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(test)]
impl CapturedLog {
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[cfg(test)]
impl std::io::Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    /// Without the upkeep thread, samples pile up in memory until someone scrapes /metrics.
    #[test]
    fn installing_the_recorder_starts_the_thread_that_drains_histograms() {
        super::metrics_handle();
        let names: Vec<String> = std::fs::read_dir("/proc/self/task")
            .expect("procfs")
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .map(|name| name.trim().to_string())
            .collect();
        assert!(
            names.iter().any(|name| name == super::UPKEEP_THREAD),
            "threads: {names:?}"
        );
    }
}
