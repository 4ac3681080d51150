//! The log's destination: lines gather in memory and a thread of their own writes them out a few
//! milliseconds later, many in one `write`.
//!
//! One `write` to stdout per request log line was 5% of the server's CPU on a get by id (perf;
//! the system call, plus the file system or pipe behind it). Lines are never dropped: a writer
//! that finds [`HIGH_WATER`] bytes waiting writes them out itself, so a slow log reader slows
//! the server down rather than growing memory or losing lines. What can be lost is the last
//! [`FLUSH_EVERY`] of lines if the process is killed outright; [`FlushGuard`] writes the rest at
//! a normal exit.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tracing_subscriber::fmt::MakeWriter;

/// How long a line may wait in memory in the server.
pub const FLUSH_EVERY: Duration = Duration::from_millis(10);
/// A buffer this full is written out by the thread that filled it.
pub const HIGH_WATER: usize = 256 * 1024;

/// The destination, and the buffer that last went to it: swapped with the one lines gather in,
/// so both keep their capacity instead of the request threads growing a new one from empty
/// after every write.
struct Output {
    sink: Box<dyn Write + Send>,
    spare: Vec<u8>,
}

struct Gathered {
    lines: Vec<u8>,
    closed: bool,
}

struct Shared {
    gathered: Mutex<Gathered>,
    /// Signalled when the first line lands in an empty buffer, and at shutdown.
    wake: Condvar,
    /// Held while writing, and taken before `gathered`, so that batches leave in the order they
    /// were gathered.
    output: Mutex<Output>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock left a byte buffer, which is still usable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn flush(&self) {
        let mut output = lock(&self.output);
        let Output { sink, spare } = &mut *output;
        std::mem::swap(spare, &mut lock(&self.gathered).lines);
        if !spare.is_empty() {
            // Nowhere to report a failing log sink but the log itself; carry on serving.
            let _ = sink.write_all(spare);
            spare.clear();
        }
        let _ = sink.flush();
    }
}

/// Hands out writers for `tracing_subscriber::fmt().with_writer(..)`.
#[derive(Clone)]
pub struct BufferedLog {
    shared: Arc<Shared>,
}

/// Writes what is left when dropped (keep it alive in `main`), and stops the writing thread.
pub struct FlushGuard {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BufferedLog {
    /// Starts the thread that writes to `sink` at most `every` after a line arrived.
    pub fn start(
        sink: impl Write + Send + 'static,
        every: Duration,
    ) -> std::io::Result<(BufferedLog, FlushGuard)> {
        let shared = Arc::new(Shared {
            gathered: Mutex::new(Gathered {
                lines: Vec::new(),
                closed: false,
            }),
            wake: Condvar::new(),
            output: Mutex::new(Output {
                sink: Box::new(sink),
                spare: Vec::new(),
            }),
        });
        let worker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || run(&worker, every))?;
        let log = BufferedLog {
            shared: shared.clone(),
        };
        let guard = FlushGuard {
            shared,
            thread: Some(thread),
        };
        Ok((log, guard))
    }
}

/// Waits for a first line, lets more gather for `every`, writes them all; sleeps while nothing
/// is waiting, so an idle server does not wake a hundred times a second.
fn run(shared: &Shared, every: Duration) {
    let mut gathered = lock(&shared.gathered);
    loop {
        while gathered.lines.is_empty() && !gathered.closed {
            gathered = shared
                .wake
                .wait(gathered)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let deadline = Instant::now() + every;
        while !gathered.closed {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            gathered = shared
                .wake
                .wait_timeout(gathered, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        if gathered.closed {
            // The guard writes the rest.
            return;
        }
        drop(gathered);
        shared.flush();
        gathered = lock(&shared.gathered);
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        lock(&self.shared.gathered).closed = true;
        self.shared.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.shared.flush();
    }
}

/// One event's writer; the fmt layer writes each line with one `write_all`.
pub struct LineWriter<'a> {
    shared: &'a Shared,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let full = {
            let mut gathered = lock(&self.shared.gathered);
            if gathered.lines.is_empty() {
                self.shared.wake.notify_one();
            }
            gathered.lines.extend_from_slice(buf);
            gathered.lines.len() >= HIGH_WATER
        };
        if full {
            self.shared.flush();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BufferedLog {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            shared: &self.shared,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sink that records each `write_all` it is given.
    #[derive(Clone, Default)]
    struct Recorder(Arc<Mutex<Vec<Vec<u8>>>>);

    impl Write for Recorder {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().push(buf.to_vec());
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Recorder {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().concat()).unwrap()
        }
        fn writes(&self) -> usize {
            self.0.lock().unwrap().len()
        }
    }

    const NEVER: Duration = Duration::from_secs(3600);

    #[test]
    fn lines_arrive_in_order_in_one_write() {
        let sink = Recorder::default();
        let (log, _guard) = BufferedLog::start(sink.clone(), Duration::from_millis(50)).unwrap();
        let expected: String = (0..100).map(|i| format!("line {i}\n")).collect();
        for i in 0..100 {
            log.make_writer()
                .write_all(format!("line {i}\n").as_bytes())
                .unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while sink.text().len() < expected.len() {
            assert!(Instant::now() < deadline, "not written: {:?}", sink.text());
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(sink.text(), expected);
        // One write per line would be 100; the thread gathers them.
        assert!(sink.writes() <= 2, "{} writes", sink.writes());
    }

    #[test]
    fn lines_wait_in_memory_until_the_interval_and_the_guard_writes_them() {
        let sink = Recorder::default();
        let (log, guard) = BufferedLog::start(sink.clone(), NEVER).unwrap();
        log.make_writer().write_all(b"last words\n").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(sink.text(), "");
        // Also stops the thread, though it is in the middle of its hour-long wait.
        drop(guard);
        assert_eq!(sink.text(), "last words\n");
    }

    #[test]
    fn a_full_buffer_is_written_by_the_thread_that_filled_it() {
        let sink = Recorder::default();
        let (log, _guard) = BufferedLog::start(sink.clone(), NEVER).unwrap();
        log.make_writer().write_all(b"first\n").unwrap();
        let line = vec![b'x'; HIGH_WATER];
        log.make_writer().write_all(&line).unwrap();
        assert_eq!(sink.text().len(), "first\n".len() + HIGH_WATER);
        assert!(sink.text().starts_with("first\n"));
    }
}
