//! Server state changes as HAProxy 2.6 reports them (`srv_update_status`,
//! `srv_append_status`, `set_backend_down`): the same words, the same syslog levels, the
//! same `[WARNING]`/`[ALERT]` lines on stderr (none with `-q`). The check engine, the
//! agent, passive checks and the admin-state changes of the live-state store all report
//! through here.

use super::backend::Backend;
use super::health::{CheckResult, describe};
use crate::log::Logger;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// `-q`: no state-change warnings on stderr (the process-wide flag, as HAProxy's
/// `MODE_QUIET`).
static QUIET: AtomicBool = AtomicBool::new(false);

/// Sets `-q` for the whole process.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `-q` is set.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Syslog levels HAProxy uses for these messages.
const EMERG: u8 = 0;
const ALERT: u8 = 1;
const NOTICE: u8 = 5;

/// Where a backend's state-change messages go, and how they are worded.
#[derive(Debug)]
pub struct Reporter {
    /// The backend's name.
    pub backend: String,
    /// A `listen` section (HAProxy 2.6 then says "proxy" in its alert).
    pub listen: bool,
    /// The backend's log targets.
    pub logger: Option<Arc<Logger>>,
    /// `option log-health-checks`.
    pub log_health_checks: bool,
}

/// A server's state change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Operational state UP → DOWN.
    Down,
    /// Operational state DOWN → UP.
    Up,
    /// Enters drain (`was_stopping` aside, always notice).
    EnterDrain,
    /// Leaves drain; `up`: its operational state.
    LeaveDrain {
        /// UP (else DOWN).
        up: bool,
    },
    /// Enters maintenance.
    EnterMaint {
        /// It was DOWN already.
        was_down: bool,
        /// It was in drain.
        was_drain: bool,
    },
    /// Leaves maintenance.
    LeaveMaint {
        /// UP (else DOWN).
        up: bool,
        /// Now in drain (else READY).
        drain: bool,
    },
}

/// The facts of a server a message reports.
pub struct ServerFacts<'a> {
    /// The server's name.
    pub name: &'a str,
    /// Declared `backup`.
    pub backup: bool,
    /// Current connections (`cur_sess`).
    pub sessions: u32,
    /// Requests in its own queue.
    pub queued: u32,
    /// In drain (a drained server going down is a notice, not an alert).
    pub drain: bool,
}

impl<'a> ServerFacts<'a> {
    /// The facts of `s` now.
    pub fn of(s: &'a super::server::ServerState) -> Self {
        ServerFacts {
            name: &s.name,
            backup: s.backup,
            sessions: s.cur_conns.load(Ordering::Relaxed),
            queued: s.queued.load(Ordering::Relaxed),
            drain: s.drain.load(Ordering::Relaxed),
        }
    }
}

impl Reporter {
    /// A reporter that logs nowhere but stderr.
    pub fn stderr(backend: &str) -> Self {
        Reporter {
            backend: backend.to_owned(),
            listen: false,
            logger: None,
            log_health_checks: false,
        }
    }

    /// Writes `msg` as a warning on stderr and to the backend's log at `level`.
    pub fn emit(&self, level: u8, msg: &str) {
        if !QUIET.load(Ordering::Relaxed) {
            eprintln!("[WARNING]  ({}) : {msg}.", std::process::id());
        }
        if let Some(l) = &self.logger {
            l.log(level, &format!("{msg}."));
        }
    }

    /// Reports `change` of server `s` in `backend` (the current snapshot's, for the
    /// counts of usable servers), with the check result that caused it, if any.
    pub fn server_change(
        &self,
        backend: Option<&Backend>,
        s: &ServerFacts<'_>,
        change: Change,
        cause: Option<&CheckResult>,
    ) {
        let who = format!(
            "{}Server {}/{}",
            if s.backup { "Backup " } else { "" },
            self.backend,
            s.name
        );
        let (act, bck) = backend.map_or((0, 0), |b| {
            let n = |backup: bool| {
                b.servers
                    .iter()
                    .filter(|x| x.backup == backup && x.usable())
                    .count()
            };
            (n(false), n(true))
        });
        let reason = cause.map(describe).unwrap_or_default();
        let on_backup = if bck > 0 && act == 0 {
            " Running on backup."
        } else {
            ""
        };
        let left = format!(
            ". {act} active and {bck} backup servers left.{on_backup} {} sessions active, 0 requeued, {} remaining in queue",
            s.sessions, s.queued
        );
        let online = format!(
            ". {act} active and {bck} backup servers online.{on_backup} 0 sessions requeued, {} total in queue",
            s.queued
        );
        let updown = |up: bool| if up { "UP" } else { "DOWN" };
        let (level, msg, gone) = match change {
            Change::Down => (
                if s.drain { NOTICE } else { ALERT },
                format!("{who} is DOWN{reason}{left}"),
                true,
            ),
            Change::Up => (NOTICE, format!("{who} is UP{reason}{online}"), false),
            Change::EnterDrain => (NOTICE, format!("{who} enters drain state{online}"), true),
            Change::LeaveDrain { up } => (
                NOTICE,
                format!("{who} is {} (leaving forced drain)", updown(up)),
                false,
            ),
            Change::EnterMaint { was_down: true, .. } => (
                NOTICE,
                format!("{who} was DOWN and now enters maintenance"),
                false,
            ),
            Change::EnterMaint { was_drain, .. } => (
                if was_drain { NOTICE } else { ALERT },
                format!("{who} is going DOWN for maintenance{left}"),
                true,
            ),
            Change::LeaveMaint { up, drain } => (
                NOTICE,
                format!(
                    "{who} is {}/{} (leaving forced maintenance)",
                    updown(up),
                    if drain { "DRAIN" } else { "READY" }
                ),
                false,
            ),
        };
        self.emit(level, &msg);
        if gone && act == 0 && bck == 0 {
            self.no_server_left();
        }
    }

    /// HAProxy's `set_backend_down` alert.
    fn no_server_left(&self) {
        let kind = if self.listen { "proxy" } else { "backend" };
        eprintln!(
            "[ALERT]    ({}) : {kind} '{}' has no server available!",
            std::process::id(),
            self.backend
        );
        if let Some(l) = &self.logger {
            l.log(
                EMERG,
                &format!("{kind} {} has no server available!", self.backend),
            );
        }
    }
}
