//! One server's checker: a task of its own that runs the check every `inter`
//! (`fastinter` while going up or down, `downinter` while down, ± `spread-checks`),
//! moves HAProxy's health counter, and on a state change updates the server's live
//! state, tells the current balancer and logs the change as HAProxy 2.6 does.

use super::run::{self, Limits, RuleSet, Target};
use crate::log::Logger;
use crate::runtime::health::{CheckResult, HealthState};
use crate::runtime::live::BackendLive;
use crate::runtime::server::ServerLive;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

/// Everything one server's checker needs.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The backend's name.
    pub backend: String,
    /// The server's name.
    pub server: String,
    /// The backend is a `listen` section (HAProxy then says "proxy" in its alert).
    pub listen: bool,
    /// Declared `backup`.
    pub backup: bool,
    /// The rules.
    pub rules: Arc<RuleSet>,
    /// Where to connect.
    pub target: Target,
    /// Time limits.
    pub limits: Limits,
    /// `fastinter` (default `inter`).
    pub fastinter: Duration,
    /// `downinter` (default `inter`).
    pub downinter: Duration,
    /// `rise`.
    pub rise: u32,
    /// `fall`.
    pub fall: u32,
    /// `spread-checks` (percent).
    pub spread: u32,
    /// The delay before the first check (HAProxy spreads the first checks of all
    /// servers over one interval).
    pub first: Duration,
    /// The backend's log targets.
    pub logger: Option<Arc<Logger>>,
    /// `-q`: no warnings on stderr.
    pub quiet: bool,
}

impl Plan {
    /// What identifies the plan's behaviour (a changed one restarts the checker).
    pub fn fingerprint(&self) -> String {
        format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{}|{}|{}|{}|{}",
            self.rules,
            self.target,
            self.limits,
            self.fastinter,
            self.downinter,
            self.rise,
            self.fall,
            self.spread,
            self.backup,
            self.listen
        )
    }

    fn full(&self) -> u32 {
        self.rise + self.fall - 1
    }

    /// HAProxy's `srv_getinter`.
    fn interval(&self, h: &HealthState) -> Duration {
        let base = if h.health == self.full() {
            self.limits.inter
        } else if h.health == 0 {
            self.downinter
        } else {
            self.fastinter
        };
        if self.spread == 0 {
            return base;
        }
        let ms = base.as_millis() as i64;
        let span = ms * self.spread as i64 / 100;
        let delta = fastrand::i64(-span..=span);
        Duration::from_millis((ms + delta).max(1) as u64)
    }
}

/// Runs the checker of `server` until aborted.
pub async fn checker(plan: Plan, server: Arc<ServerLive>, backend: Arc<BackendLive>) {
    tokio::time::sleep(plan.first).await;
    loop {
        let result = run::run(&plan.rules, &plan.target, &plan.limits).await;
        let h = apply(&plan, &server, &backend, result);
        tokio::time::sleep(plan.interval(&h)).await;
    }
}

/// A state change a check caused.
enum Change {
    Down,
    Up,
}

/// Applies a check result to the server's health (HAProxy's
/// `set_server_check_status`), then acts on a state change.
fn apply(plan: &Plan, server: &ServerLive, backend: &BackendLive, r: CheckResult) -> HealthState {
    let full = plan.full();
    let (state, change) = server.health.update(|h| {
        let was_up = h.health >= plan.rise;
        if r.status.passed() {
            if h.health < full {
                h.health += 1;
                if h.health >= plan.rise {
                    h.health = full;
                }
            }
        } else if h.health > 0 {
            h.chkfail += 1;
            h.health -= 1;
            if h.health < plan.rise {
                h.health = 0;
            }
        }
        h.last = r.clone();
        let is_up = h.health >= plan.rise;
        let change = match (was_up, is_up) {
            (true, false) => {
                h.chkdown += 1;
                h.last_change = Some(SystemTime::now());
                Some(Change::Down)
            }
            (false, true) => {
                if let Some(since) = h.last_change {
                    h.downtime += since.elapsed().unwrap_or_default();
                }
                h.last_change = Some(SystemTime::now());
                Some(Change::Up)
            }
            _ => None,
        };
        (h.clone(), change)
    });
    if let Some(c) = change {
        server.up.store(matches!(c, Change::Up), Ordering::Relaxed);
        if matches!(c, Change::Down) {
            server.pool.clear();
        }
        let cur = backend.current();
        if let Some(b) = &cur {
            b.balancer.refresh();
        }
        let (act, bck) = cur.as_ref().map_or((0, 0), |b| {
            let n = |backup: bool| {
                b.servers
                    .iter()
                    .filter(|s| s.backup == backup && s.usable())
                    .count()
            };
            (n(false), n(true))
        });
        report(plan, server, &r, &c, act, bck);
    }
    state
}

/// HAProxy's `check_append_info`: reason, code, info and duration.
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
    s.push_str(&format!(", check duration: {}ms", r.duration.as_millis()));
    s
}

fn report(plan: &Plan, server: &ServerLive, r: &CheckResult, c: &Change, act: usize, bck: usize) {
    let who = format!(
        "{}Server {}/{}",
        if plan.backup { "Backup " } else { "" },
        plan.backend,
        plan.server
    );
    let on_backup = if bck > 0 && act == 0 {
        " Running on backup."
    } else {
        ""
    };
    let queued = server.queued.load(Ordering::Relaxed);
    let msg = match c {
        Change::Down => format!(
            "{who} is DOWN{}. {act} active and {bck} backup servers left.{on_backup} {} sessions active, 0 requeued, {queued} remaining in queue.",
            describe(r),
            server.cur_conns.load(Ordering::Relaxed),
        ),
        Change::Up => format!(
            "{who} is UP{}. {act} active and {bck} backup servers online.{on_backup} 0 sessions requeued, {queued} total in queue.",
            describe(r),
        ),
    };
    let pid = std::process::id();
    if !plan.quiet {
        eprintln!("[WARNING]  ({pid}) : {msg}");
    }
    // LOG_ALERT for a server going down, LOG_NOTICE for one coming up.
    let level = if matches!(c, Change::Down) { 1 } else { 5 };
    if let Some(l) = &plan.logger {
        l.log(level, &msg);
    }
    if matches!(c, Change::Down) && act == 0 && bck == 0 {
        // HAProxy 2.6 calls a `listen` section a "proxy" here.
        let kind = if plan.listen { "proxy" } else { "backend" };
        eprintln!(
            "[ALERT]    ({pid}) : {kind} '{}' has no server available!",
            plan.backend
        );
        if let Some(l) = &plan.logger {
            l.log(
                0,
                &format!("{kind} {} has no server available!", plan.backend),
            );
        }
    }
}
