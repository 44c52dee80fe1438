//! Shutting a server's sessions down from outside them: HAProxy's server keywords
//! `on-marked-down shutdown-sessions` (a server marked down by its checks closes its
//! connections, logged `D`) and `on-marked-up shutdown-backup-sessions` (an active
//! server marked up closes the backup servers' connections, logged `U`). The checker
//! signals ([`SessionsShutdown::signal`]); each tcp-mode session to the server waits for
//! the signal beside its byte pump ([`ShutdownWatch::wait`]).

use crate::log::TermCause;
use tokio::sync::watch;

/// The signal of one server, in its live state.
#[derive(Debug)]
pub struct SessionsShutdown {
    /// How many shutdowns so far, and the last one's termination cause.
    tx: watch::Sender<(u64, TermCause)>,
}

impl Default for SessionsShutdown {
    fn default() -> Self {
        SessionsShutdown {
            tx: watch::Sender::new((0, TermCause::None)),
        }
    }
}

impl SessionsShutdown {
    /// Ends every session watching now, logged with `cause` (`Down` or `Up`).
    pub fn signal(&self, cause: TermCause) {
        self.tx.send_modify(|(n, c)| {
            *n += 1;
            *c = cause;
        });
    }

    /// A watch for a session starting now: only later signals end it.
    pub fn watch(&self) -> ShutdownWatch {
        ShutdownWatch(self.tx.subscribe())
    }
}

/// What one session waits on.
#[derive(Debug)]
pub struct ShutdownWatch(watch::Receiver<(u64, TermCause)>);

impl ShutdownWatch {
    /// Waits for the next signal; its termination cause.
    pub async fn wait(&mut self) -> TermCause {
        match self.0.changed().await {
            Ok(()) => self.0.borrow_and_update().1,
            // The server's live state is gone: no signal will come.
            Err(_) => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_watch_sees_signals_after_it_started_only() {
        let s = SessionsShutdown::default();
        s.signal(TermCause::Down);
        let mut w = s.watch();
        let ended = tokio::select! {
            biased;
            _ = w.wait() => true,
            _ = std::future::ready(()) => false,
        };
        assert!(!ended, "an earlier signal ended a later session");
        s.signal(TermCause::Up);
        assert_eq!(w.wait().await, TermCause::Up);
    }
}
