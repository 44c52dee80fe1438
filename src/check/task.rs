//! One server's checker: a task of its own that runs the check every `inter`
//! (`fastinter` while going up or down, `downinter` while down, ± `spread-checks`),
//! moves HAProxy's health counter, and on a state change updates the server's live
//! state, tells the current balancer and logs the change as HAProxy 2.6 does. The
//! agent check (`agent-check`) runs as a second checker of the same server; passive
//! checks (`observe`) wake the health checker with their verdict ([`super::passive`]).

use super::agent;
use super::run::{self, Limits, RuleSet, Target};
use crate::config::model::OnError;
use crate::log::TermCause;
use crate::runtime::events::{Change, Reporter, ServerFacts};
use crate::runtime::health::{CheckResult, CheckStatus, Hana, HealthState, describe};
use crate::runtime::live::BackendLive;
use crate::runtime::server::ServerLive;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// Which of a server's two checks a checker runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The health check (`check`).
    Health,
    /// The agent check (`agent-check`); `dynamic`: the backend's algorithm takes any
    /// weight the agent gives (else only 0% and 100%).
    Agent {
        /// The algorithm takes any weight.
        dynamic: bool,
    },
}

/// Everything one server's checker needs.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The backend's name.
    pub backend: String,
    /// The server's name.
    pub server: String,
    /// Declared `backup`.
    pub backup: bool,
    /// Health or agent check.
    pub kind: Kind,
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
    /// `rise` (1 for the agent).
    pub rise: u32,
    /// `fall` (1 for the agent).
    pub fall: u32,
    /// `spread-checks` (percent).
    pub spread: u32,
    /// The delay before the first check (HAProxy spreads the first checks of all
    /// servers over one interval).
    pub first: Duration,
    /// `on-marked-down shutdown-sessions`.
    pub on_marked_down_shutdown: bool,
    /// `on-marked-up shutdown-backup-sessions`.
    pub on_marked_up_shutdown_backup: bool,
}

impl Plan {
    /// What identifies the plan's behaviour (a changed one restarts the checker).
    pub fn fingerprint(&self) -> String {
        format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}|{}|{}|{}|{}|{}",
            self.kind,
            self.rules,
            self.target,
            self.limits,
            self.fastinter,
            self.downinter,
            self.rise,
            self.fall,
            self.spread,
            self.backup,
            self.on_marked_down_shutdown,
            self.on_marked_up_shutdown_backup,
        )
    }

    fn full(&self) -> u32 {
        self.rise + self.fall - 1
    }

    /// HAProxy's `srv_getinter`.
    fn interval(&self, health: u32) -> Duration {
        let base = if health == self.full() {
            self.limits.inter
        } else if health == 0 {
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

    fn facts<'a>(&'a self, server: &ServerLive) -> ServerFacts<'a> {
        ServerFacts {
            name: &self.server,
            backup: self.backup,
            sessions: server.cur_conns.load(Ordering::Relaxed),
            queued: server.queued.load(Ordering::Relaxed),
            drain: server.drain.load(Ordering::Relaxed),
        }
    }
}

/// Runs the checker of `server` until aborted.
pub async fn checker(plan: Plan, server: Arc<ServerLive>, backend: Arc<BackendLive>) {
    tokio::time::sleep(plan.first).await;
    loop {
        let health = match plan.kind {
            // Maintenance pauses the health check (not the agent).
            // So does `disable health`; `disable agent` pauses the agent.
            Kind::Health if server.maint.load(Ordering::Relaxed) || server.health.get().paused => {
                server.health.get().health
            }
            Kind::Agent { .. } if server.health.get().agent.paused => {
                server.health.get().agent.health
            }
            Kind::Health => {
                let target = plan.target.at(server.addr_override());
                let r = run::run(&plan.rules, &target, &plan.limits).await;
                apply(&plan, &server, &backend, r).health
            }
            Kind::Agent { dynamic } => {
                let target = plan.target.at(server.addr_override());
                let r = run::run(&plan.rules, &target, &plan.limits).await;
                let r = agent::apply(r, &server, &backend, dynamic);
                apply_agent(&plan, &server, &backend, r).agent.health
            }
        };
        let mut until = on_grid(Instant::now() + plan.interval(health), plan.limits.inter);
        if plan.kind != Kind::Health {
            tokio::time::sleep_until(until).await;
            continue;
        }
        // Passive checks may wake the health checker: their verdict applies at once
        // and the next check comes after `fastinter` at the latest.
        loop {
            tokio::select! {
                _ = tokio::time::sleep_until(until) => break,
                _ = server.health.wake.notified() => {
                    if let Some(h) = server.health.update(|h| h.hana.take()) {
                        hana(&plan, &server, &backend, h);
                    }
                    until = until.min(Instant::now() + plan.fastinter);
                }
            }
        }
    }
}

/// The moment checks of a server checked every `inter` start at or after `t`: on a
/// grid of 1/128 of `inter` (at most 16 ms, at least 1 ms) common to all the
/// checkers, so that the checks due within one step of it start together, with one
/// wake-up of the process for all of them (and their answers, which tend to come
/// back together, another) rather than one or two per check: 1,000 servers checked
/// every 2 s start in batches of about eight, each at most 15 ms late.
pub(super) fn on_grid(t: Instant, inter: Duration) -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    let step = (inter.as_millis() / 128).clamp(1, 16) * 1000;
    let since = t.saturating_duration_since(epoch).as_micros();
    let late = (step - since % step) % step;
    t + Duration::from_micros(late as u64)
}

/// Applies a passive-check verdict (HAProxy's `__health_adjust`): `fail-check`
/// counts as a failed check, `sudden-death` first leaves the server one failure from
/// down, `mark-down` takes it down; `fastinter` only reschedules.
fn hana(plan: &Plan, server: &ServerLive, backend: &BackendLive, h: Hana) {
    match h.on_error {
        OnError::FastInter => return,
        OnError::SuddenDeath => server.health.update(|s| {
            if s.health > plan.rise {
                s.health = plan.rise + 1;
            }
        }),
        OnError::MarkDown => server.health.update(|s| s.health = plan.rise),
        OnError::FailCheck => {}
    }
    let r = CheckResult {
        status: CheckStatus::Hana,
        code: None,
        info: h.info,
        duration: Duration::ZERO,
    };
    apply(plan, server, backend, r);
}

/// Applies a check result to the server's health (HAProxy's
/// `set_server_check_status`), then acts on a state change.
fn apply(plan: &Plan, server: &ServerLive, backend: &BackendLive, r: CheckResult) -> HealthState {
    let full = plan.full();
    if r.status.passed() {
        // A passing check clears the passive checks' error count.
        server.health.errors.store(0, Ordering::Relaxed);
    }
    // A passing check puts a stopping server back in service (HAProxy's
    // `srv_set_running`), a failing one that takes it down ends it too.
    if r.status.passed()
        && server.health.get().health + 1 >= plan.rise
        && server.stopping.swap(false, Ordering::Relaxed)
        && let Some(b) = backend.current()
    {
        b.balancer.refresh();
    }
    let (state, before, report) = server.health.update(|h| {
        let before = h.operational();
        let mut moved = false;
        if r.status.passed() {
            if h.health < full {
                moved = true;
                h.health += 1;
                if h.health >= plan.rise {
                    h.health = full;
                }
            }
        } else if r.status.failed() && h.health > 0 {
            moved = true;
            h.chkfail += 1;
            h.health -= 1;
            if h.health < plan.rise {
                h.health = 0;
            }
        }
        let report = moved || h.last.status != r.status;
        h.last = r.clone();
        (h.clone(), before, report)
    });
    settle(plan, server, backend, &r, before, report, state)
}

/// Applies the agent's result (after [`agent::apply`] acted on its words) to the
/// agent's health: `up` sets it, `down`/`fail`/`stopped` clear it; a connection
/// problem or a timeout changes nothing (the health check sees those).
fn apply_agent(
    plan: &Plan,
    server: &ServerLive,
    backend: &BackendLive,
    r: CheckResult,
) -> HealthState {
    let (state, before, report) = server.health.update(|h| {
        let before = h.operational();
        let changed = h.agent.last.status != r.status;
        match r.status {
            CheckStatus::L7Ok => h.agent.health = 1,
            CheckStatus::L7Sts => h.agent.health = 0,
            _ => {}
        }
        let neutral = matches!(r.status, CheckStatus::Checked | CheckStatus::Init);
        h.agent.last = r.clone();
        (h.clone(), before, changed && !neutral)
    });
    settle(plan, server, backend, &r, before, report, state)
}

/// After a result: HAProxy's `option log-health-checks` line, then the server's state
/// change, if any.
fn settle(
    plan: &Plan,
    server: &ServerLive,
    backend: &BackendLive,
    r: &CheckResult,
    before: bool,
    report: bool,
    mut state: HealthState,
) -> HealthState {
    let reporter = backend.reporter(&plan.backend);
    if reporter.log_health_checks && report {
        let health = match plan.kind {
            Kind::Health => state.health,
            Kind::Agent { .. } => state.agent.health,
        };
        log_check(plan, &reporter, server, r, health);
    }
    let after = state.operational();
    if before == after {
        return state;
    }
    state = server.health.update(|h| {
        let now = SystemTime::now();
        if after {
            if let Some(since) = h.last_change {
                h.downtime += since.elapsed().unwrap_or_default();
            }
        } else {
            h.chkdown += 1;
        }
        h.last_change = Some(now);
        h.clone()
    });
    server.up.store(after, Ordering::Relaxed);
    if !after {
        server.stopping.store(false, Ordering::Relaxed);
        server.pool.clear();
    }
    let cur = backend.current();
    shutdown_sessions(plan, server, cur.as_deref(), after);
    if let Some(b) = &cur {
        b.balancer.refresh();
    }
    // A server in maintenance changes state silently (HAProxy ignores it).
    if server.maint.load(Ordering::Relaxed) {
        return state;
    }
    let change = if after { Change::Up } else { Change::Down };
    // With `option log-health-checks`, the check line said why already.
    let cause = (!reporter.log_health_checks).then_some(r);
    reporter.server_change(cur.as_deref(), &plan.facts(server), change, cause);
    state
}

/// `on-marked-down shutdown-sessions`: a server marked down closes its sessions
/// (logged `D`); `on-marked-up shutdown-backup-sessions`: an active server with a
/// weight marked up closes the sessions of the backend's backup servers (logged `U`).
fn shutdown_sessions(
    plan: &Plan,
    server: &ServerLive,
    backend: Option<&crate::runtime::backend::Backend>,
    up: bool,
) {
    if !up && plan.on_marked_down_shutdown {
        server.shutdown.signal(TermCause::Down);
        server.pool.clear();
    }
    if up
        && plan.on_marked_up_shutdown_backup
        && !plan.backup
        && server.weight.load(Ordering::Relaxed) > 0
        && let Some(b) = backend
    {
        for s in b.servers.iter().filter(|s| s.backup) {
            s.shutdown.signal(TermCause::Up);
            s.pool.clear();
        }
    }
}

/// HAProxy's `option log-health-checks` line: "Health check for server be/s
/// succeeded, reason: …, status: 3/3 UP."
fn log_check(plan: &Plan, reporter: &Reporter, server: &ServerLive, r: &CheckResult, health: u32) {
    let up = health >= plan.rise;
    let (num, den) = if up {
        (health - plan.rise + 1, plan.fall)
    } else {
        (health, plan.rise)
    };
    let word = if !up {
        "DOWN"
    } else if server.weight.load(Ordering::Relaxed) == 0 {
        "DRAIN"
    } else {
        "UP"
    };
    let msg = format!(
        "{} check for {}server {}/{} {}{}, status: {num}/{den} {word}",
        match plan.kind {
            Kind::Health => "Health",
            Kind::Agent { .. } => "Agent",
        },
        if plan.backup { "backup " } else { "" },
        plan.backend,
        plan.server,
        if r.status.passed() {
            "succeeded"
        } else {
            "failed"
        },
        describe(r),
    );
    reporter.emit(5, &msg);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_due_within_one_grid_step_start_together_and_never_early() {
        let inter = Duration::from_secs(2);
        // Far enough from the grid's epoch (the first call) for a whole step before.
        let t0 = Instant::now() + Duration::from_secs(1);
        let a = on_grid(t0, inter);
        assert!(a >= t0 && a < t0 + Duration::from_millis(15));
        // Every instant up to the grid point maps to it; the next one to the next.
        for us in [1, 500, 7_000, 14_999] {
            let t = a - Duration::from_millis(15) + Duration::from_micros(us);
            assert_eq!(on_grid(t, inter), a, "{us}");
        }
        assert_eq!(on_grid(a, inter), a);
        let b = on_grid(a + Duration::from_micros(1), inter);
        assert_eq!(b - a, Duration::from_millis(15));
        // A short `inter` gets a fine grid (1 ms at least).
        let fine = on_grid(t0, Duration::from_millis(100));
        assert!(fine >= t0 && fine < t0 + Duration::from_millis(1));
    }
}
