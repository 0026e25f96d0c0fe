//! What a stand-in does after it answered (a callback, a delivery report): tasks it owns,
//! aborted when the stand-in is stopped, so nothing posts after a test's stack is gone.

use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::task::JoinSet;

/// A stand-in's background tasks.
#[derive(Debug, Default)]
pub(crate) struct Background(Mutex<JoinSet<()>>);

impl Background {
    fn tasks(&self) -> MutexGuard<'_, JoinSet<()>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `task` until it ends or [`Background::abort_all`] (finished ones are reaped).
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let mut tasks = self.tasks();
        while tasks.try_join_next().is_some() {}
        tasks.spawn(task);
    }

    /// Stops every task still running.
    pub(crate) fn abort_all(&self) {
        self.tasks().abort_all();
    }

    /// Whether no task was ever started or all were reaped.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.tasks().is_empty()
    }
}
