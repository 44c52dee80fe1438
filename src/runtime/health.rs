//! A server's health-check state, kept in its live state ([`super::server::ServerLive`])
//! so that it survives reloads: HAProxy's `health` counter (0 ..= rise + fall - 1, up
//! from `rise` on), the last check's status, code, duration and info, the time of the
//! last state change and the `chkfail`/`chkdown` counters of `show stat`.
//!
//! The check engine (`src/check/`) writes it, and the runtime API when an operator sets
//! a server's health by hand (`set server B/S health`); the stats page, the runtime API
//! and the SIGHUP dump read it.

use crate::config::model::{Observe, OnError};
use std::sync::Mutex;
use std::sync::atomic::AtomicU32;
use std::time::{Duration, SystemTime};

/// The outcome of one check, as HAProxy names it (`check_status` of `show stat`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum CheckStatus {
    /// No check has run yet (`INI`).
    #[default]
    Init,
    /// `L4OK`: the connection was accepted (connect-only check).
    L4Ok,
    /// `L4TOUT`: connecting timed out.
    L4Timeout,
    /// `L4CON`: the connection failed (refused, unreachable…).
    L4Con,
    /// `L6OK`: the TLS hello check passed.
    L6Ok,
    /// `L6TOUT`: no TLS hello answer in time.
    L6Timeout,
    /// `L6RSP`: an invalid TLS hello answer.
    L6Rsp,
    /// `L7OK`: the protocol check passed.
    L7Ok,
    /// `L7TOUT`: no (complete) answer in time.
    L7Timeout,
    /// `L7RSP`: an invalid or unexpected answer.
    L7Rsp,
    /// `L7STS`: a wrong status (HTTP status, protocol error code).
    L7Sts,
    /// `SOCKERR`: a socket error.
    SockErr,
    /// `CHECKED`: the agent answered without a health word ("No status change").
    Checked,
    /// `HANA`: passive checks saw `error-limit` consecutive errors on live traffic.
    Hana,
}

impl CheckStatus {
    /// HAProxy's description (`get_check_status_description`), used in the logs.
    pub fn description(self) -> &'static str {
        match self {
            CheckStatus::Init => "Initializing",
            CheckStatus::L4Ok => "Layer4 check passed",
            CheckStatus::L4Timeout => "Layer4 timeout",
            CheckStatus::L4Con => "Layer4 connection problem",
            CheckStatus::L6Ok => "Layer6 check passed",
            CheckStatus::L6Timeout => "Layer6 timeout",
            CheckStatus::L6Rsp => "Layer6 invalid response",
            CheckStatus::L7Ok => "Layer7 check passed",
            CheckStatus::L7Timeout => "Layer7 timeout",
            CheckStatus::L7Rsp => "Layer7 invalid response",
            CheckStatus::L7Sts => "Layer7 wrong status",
            CheckStatus::SockErr => "Socket error",
            CheckStatus::Checked => "No status change",
            CheckStatus::Hana => "Health analyze",
        }
    }

    /// HAProxy's short name (`L4OK`, `L7STS`…), as `show stat` prints it.
    pub fn name(self) -> &'static str {
        match self {
            CheckStatus::Init => "INI",
            CheckStatus::L4Ok => "L4OK",
            CheckStatus::L4Timeout => "L4TOUT",
            CheckStatus::L4Con => "L4CON",
            CheckStatus::L6Ok => "L6OK",
            CheckStatus::L6Timeout => "L6TOUT",
            CheckStatus::L6Rsp => "L6RSP",
            CheckStatus::L7Ok => "L7OK",
            CheckStatus::L7Timeout => "L7TOUT",
            CheckStatus::L7Rsp => "L7RSP",
            CheckStatus::L7Sts => "L7STS",
            CheckStatus::SockErr => "SOCKERR",
            CheckStatus::Checked => "CHECKED",
            CheckStatus::Hana => "HANA",
        }
    }

    /// True for a passing outcome.
    pub fn passed(self) -> bool {
        matches!(
            self,
            CheckStatus::L4Ok | CheckStatus::L6Ok | CheckStatus::L7Ok
        )
    }

    /// True for an outcome that moves the health counter down (HAProxy's
    /// `CHK_RES_FAILED`; `INI` and `CHECKED` are neutral).
    pub fn failed(self) -> bool {
        !self.passed() && !matches!(self, CheckStatus::Init | CheckStatus::Checked)
    }

    /// HAProxy's `healthcheck_status` number (`show servers state`).
    pub fn code(self) -> u32 {
        CODES
            .iter()
            .find(|(s, _)| *s == self)
            .map_or(0, |(_, c)| *c)
    }

    /// The status HAProxy's number names (a state file's `srv_check_status`).
    pub fn from_code(code: u32) -> Option<CheckStatus> {
        CODES.iter().find(|(_, c)| *c == code).map(|(s, _)| *s)
    }

    /// True when HAProxy reports the code with the status (`L7OK`, `L7STS`: the
    /// statuses past its `L57DATA` mark).
    pub fn has_code(self) -> bool {
        matches!(self, CheckStatus::L7Ok | CheckStatus::L7Sts)
    }
}

/// What one check found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckResult {
    /// The outcome.
    pub status: CheckStatus,
    /// The protocol code (HTTP status…), when there is one.
    pub code: Option<u32>,
    /// HAProxy's `info` text ("Connection refused", the HTTP reason, the server's
    /// error message…); empty when there is none.
    pub info: String,
    /// How long the check took.
    pub duration: Duration,
}

/// HAProxy's reason text for a check result (`srv_append_status`): reason, code
/// (layer-7 statuses), info and duration (none for `HANA`), each after ", ".
pub fn describe(r: &CheckResult) -> String {
    let mut s = format!(", reason: {}", r.status.description());
    if r.status.has_code() {
        s.push_str(&format!(", code: {}", r.code.unwrap_or(0)));
    }
    if !r.info.is_empty() {
        s.push_str(", info: \"");
        for c in r.info.bytes() {
            if !(0x20..0x7f).contains(&c) || c == b'"' {
                s.push_str(&format!("\\x{c:02X}"));
            } else {
                s.push(c as char);
            }
        }
        s.push('"');
    }
    if r.status != CheckStatus::Hana {
        s.push_str(&format!(", check duration: {}ms", r.duration.as_millis()));
    }
    s
}

/// The agent check's part of a server's health (`agent-check`): HAProxy gives the
/// agent a health counter of its own with rise = fall = 1.
#[derive(Clone, Debug, Default)]
pub struct AgentHealth {
    /// An agent checks this server.
    pub enabled: bool,
    /// Stopped at runtime (`disable agent`): the agent's reports no longer change the
    /// server until `enable agent`.
    pub paused: bool,
    /// 1: the agent did not report the server down; 0: it did (`down`, `fail`,
    /// `stopped`).
    pub health: u32,
    /// The agent's last result.
    pub last: CheckResult,
}

/// The health-check state of one server.
#[derive(Debug, Default)]
pub struct Health {
    inner: Mutex<HealthState>,
    /// Wakes the server's checker early: passive checks saw too many errors, so the
    /// next check runs after `fastinter`.
    pub wake: tokio::sync::Notify,
    /// Consecutive errors seen on live traffic (`observe`), reset by a success.
    pub errors: AtomicU32,
}

/// A copy of a server's health-check state.
#[derive(Clone, Debug, Default)]
pub struct HealthState {
    /// Checks are running for this server (`check` in the current configuration).
    pub enabled: bool,
    /// Stopped at runtime (`disable health`): checks no longer change the server's
    /// state until `enable health`.
    pub paused: bool,
    /// The check's `rise` (the health counter's "up" mark).
    pub rise: u32,
    /// HAProxy's health counter: DOWN at 0, UP from `rise` on, fully UP at
    /// `rise + fall - 1`.
    pub health: u32,
    /// The last check's result.
    pub last: CheckResult,
    /// When the operational state last changed.
    pub last_change: Option<SystemTime>,
    /// Failed checks (`chkfail`).
    pub chkfail: u64,
    /// UP → DOWN transitions (`chkdown`).
    pub chkdown: u64,
    /// Time spent DOWN, not counting the current period (`downtime`).
    pub downtime: Duration,
    /// The agent check's state.
    pub agent: AgentHealth,
    /// Times live traffic reached `error-limit` consecutive errors (`hanafail`).
    pub failed_hana: u64,
    /// What passive checks ask the checker to do, not done yet.
    pub hana: Option<Hana>,
}

/// A passive-check verdict for the checker to apply (HAProxy's `__health_adjust`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hana {
    /// `on-error`.
    pub on_error: OnError,
    /// "Detected N consecutive errors, last one was: …".
    pub info: String,
}

/// A server's passive-check settings (`observe`, `error-limit`, `on-error`), set only
/// when the server is also checked (`check`), as HAProxy requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Passive {
    /// `observe`.
    pub mode: Observe,
    /// `error-limit`.
    pub limit: u32,
    /// `on-error`.
    pub on_error: OnError,
}

impl HealthState {
    /// The operational state the checks give (HAProxy's rule): up unless the health
    /// check is below `rise` or the agent reported the server down.
    pub fn operational(&self) -> bool {
        (!self.enabled || self.health >= self.rise)
            && (!self.agent.enabled || self.agent.health > 0)
    }
}

impl Health {
    /// A copy of the state.
    pub fn get(&self) -> HealthState {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Changes the state under its lock and returns what `f` returns.
    pub fn update<R>(&self, f: impl FnOnce(&mut HealthState) -> R) -> R {
        f(&mut self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// HAProxy's `healthcheck_status` numbers of the statuses gatehouse has.
const CODES: &[(CheckStatus, u32)] = &[
    (CheckStatus::Init, 1),
    (CheckStatus::Checked, 3),
    (CheckStatus::Hana, 4),
    (CheckStatus::SockErr, 5),
    (CheckStatus::L4Ok, 6),
    (CheckStatus::L4Timeout, 7),
    (CheckStatus::L4Con, 8),
    (CheckStatus::L6Ok, 9),
    (CheckStatus::L6Timeout, 10),
    (CheckStatus::L6Rsp, 11),
    (CheckStatus::L7Timeout, 12),
    (CheckStatus::L7Rsp, 13),
    (CheckStatus::L7Ok, 15),
    (CheckStatus::L7Sts, 17),
];
