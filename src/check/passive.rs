//! Passive checks: `observe layer4|layer7`, `error-limit`, `on-error` (HAProxy's
//! `health_adjust`). The request path reports what it saw of a checked server with one
//! call ([`connected`], [`responded`]); `error-limit` consecutive errors hand an
//! `on-error` verdict to the server's health checker, which applies it at once
//! ([`super::task`]). A server without `observe` costs one branch.

use crate::config::model::Observe;
use crate::runtime::health::Hana;
use crate::runtime::server::ServerState;
use std::sync::atomic::Ordering;

/// What live traffic showed of a server (HAProxy's `HANA_STATUS_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// The connection was established.
    L4Ok,
    /// The connection failed.
    L4Err,
    /// A response with a valid status (100–499, 501, 505).
    HttpOk,
    /// A response with another status (500, 502–504, 506+).
    HttpSts,
    /// A response that could not be parsed.
    HttpRsp,
    /// A read error while waiting for the response.
    ReadError,
    /// `timeout server` while waiting for the response.
    ReadTimeout,
    /// The server closed before responding.
    BrokenPipe,
}

impl Seen {
    /// HAProxy's description (`analyze_statuses`).
    pub fn description(self) -> &'static str {
        match self {
            Seen::L4Ok => "L4 successful connection",
            Seen::L4Err => "L4 unsuccessful connection",
            Seen::HttpOk => "Correct http response",
            Seen::HttpSts => "Wrong http response",
            Seen::HttpRsp => "Invalid http response",
            Seen::ReadError => "Read error (http)",
            Seen::ReadTimeout => "Read timeout (http)",
            Seen::BrokenPipe => "Close from server (http)",
        }
    }

    /// Whether this is an error (`Some(true)`), a success (`Some(false)`) or ignored
    /// (`None`) in `mode` (HAProxy's `lr` table).
    fn verdict(self, mode: Observe) -> Option<bool> {
        match (self, mode) {
            (Seen::L4Ok, Observe::Layer4) => Some(false),
            (Seen::L4Ok, Observe::Layer7) => None,
            (Seen::L4Err, _) => Some(true),
            (_, Observe::Layer4) => None,
            (Seen::HttpOk, Observe::Layer7) => Some(false),
            (_, Observe::Layer7) => Some(true),
        }
    }

    /// What an HTTP status shows.
    pub fn of_status(status: u16) -> Seen {
        if status >= 100 && (status < 500 || status == 501 || status == 505) {
            Seen::HttpOk
        } else {
            Seen::HttpSts
        }
    }
}

/// Reports what live traffic showed of `server`.
pub fn observe(server: &ServerState, seen: Seen) {
    let Some(p) = server.observe else {
        return;
    };
    let Some(failed) = seen.verdict(p.mode) else {
        return;
    };
    let errors = &server.health.errors;
    if !failed {
        if errors.load(Ordering::Relaxed) != 0 {
            errors.store(0, Ordering::Relaxed);
        }
        return;
    }
    let n = errors.fetch_add(1, Ordering::Relaxed) + 1;
    if n < p.limit {
        return;
    }
    errors.store(0, Ordering::Relaxed);
    server.health.update(|h| {
        h.failed_hana += 1;
        h.hana = Some(Hana {
            on_error: p.on_error,
            info: format!(
                "Detected {n} consecutive errors, last one was: {}",
                seen.description()
            ),
        });
    });
    server.health.wake.notify_one();
}

/// The connect phase's hook: the connection to `server` was established or not.
pub fn connected(server: &ServerState, ok: bool) {
    observe(server, if ok { Seen::L4Ok } else { Seen::L4Err });
}

/// The response phase's hook: `Ok(status)`, or what went wrong reading the head.
pub fn responded(server: &ServerState, head: Result<u16, Seen>) {
    observe(
        server,
        match head {
            Ok(status) => Seen::of_status(status),
            Err(seen) => seen,
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_as_haproxy_judges_them() {
        for ok in [100, 200, 404, 499, 501, 505] {
            assert_eq!(Seen::of_status(ok), Seen::HttpOk, "{ok}");
        }
        for bad in [500, 502, 503, 504, 506, 99] {
            assert_eq!(Seen::of_status(bad), Seen::HttpSts, "{bad}");
        }
        assert_eq!(Seen::L4Ok.verdict(Observe::Layer7), None);
        assert_eq!(Seen::HttpSts.verdict(Observe::Layer4), None);
        assert_eq!(Seen::L4Err.verdict(Observe::Layer7), Some(true));
    }
}
