//! Log lines captured in a test: a `tracing` subscriber scoped to the test's thread that
//! writes plain text (no colours, every level) into a buffer the test then reads, to show
//! what is logged and that no secret is.
//!
//! The subscriber is the thread's default only while the guard [`CapturedLogs::start`]
//! returns lives, and only on that thread: a `#[tokio::test(flavor = "current_thread")]`
//! runs the tasks it spawns (a server's, say) on it too, so their lines are captured.
//!
//! Safe beside other tests: while one dispatcher only is registered, tracing-core asks the
//! default subscriber of the thread that first reaches a log line whether it is wanted, so
//! a line first reached on another test's thread (no subscriber there) would be switched
//! off for good, here too. [`CapturedLogs::start`] keeps a second one registered for the
//! process (it wants nothing), so every registered subscriber is asked.

use std::sync::{Arc, Mutex, OnceLock};

use tracing::Dispatch;
use tracing::subscriber::{DefaultGuard, NoSubscriber};
use tracing_subscriber::fmt::MakeWriter;

/// Everything the scoped subscriber wrote, shared with it. Also a `tracing_subscriber`
/// writer of its own, for a test that builds its subscriber otherwise (as JSON, say).
#[derive(Debug, Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl CapturedLogs {
    /// Captures every event on this thread, at any level, as plain text, until the guard
    /// is dropped.
    pub fn start() -> (Self, DefaultGuard) {
        static BESIDE: OnceLock<Dispatch> = OnceLock::new();
        BESIDE.get_or_init(|| Dispatch::new(NoSubscriber::default()));
        let logs = Self::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::TRACE)
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        (logs, guard)
    }

    /// What was written so far.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().expect("the captured logs").clone();
        String::from_utf8(bytes).expect("logs in UTF-8")
    }
}

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .expect("the captured logs")
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLogs {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_captured_while_the_guard_lives() {
        let (logs, guard) = CapturedLogs::start();
        tracing::trace!(order = "ORD1", "kept");
        drop(guard);
        tracing::info!("after the guard");
        let text = logs.text();
        assert!(text.contains("TRACE") && text.contains("kept"), "{text}");
        assert!(text.contains("order=\"ORD1\""), "{text}");
        assert!(!text.contains("after the guard"), "{text}");
        assert!(!text.contains('\u{1b}'), "no colours: {text}");
    }
}
