//! `agent-check`, `agent-port`, `agent-addr`, `agent-inter`, `agent-send`: the
//! auxiliary agent check of HAProxy 2.6 (`tcpcheck_agent_expect_reply`). The agent's
//! one-line answer is made of words separated by spaces, tabs or commas: a health word
//! (`up`, `down`, `fail`, `stopped`), an admin word (`ready`, `drain`, `maint`), a weight
//! percentage (`75%`) and `maxconn:N` (the server's `maxconn` from then on, as `set
//! maxconn server`), then an optional `# description`. The rule set
//! connects, sends `agent-send` and reads that line ([`rules`]); [`parse`] reads it and
//! [`apply`] acts on it.

use super::rule::{Custom, Expect, Pattern, Rule};
use crate::runtime::health::{CheckResult, CheckStatus};
use crate::runtime::live::BackendLive;
use crate::runtime::server::{AdminState, ServerLive};
use std::sync::atomic::Ordering;

/// The agent's rule set: connect (implicit), send `agent-send`, read one line.
pub fn rules(send: Option<&str>) -> Vec<Rule> {
    let mut v = Vec::new();
    if let Some(s) = send.filter(|s| !s.is_empty()) {
        v.push(Rule::Send {
            data: s.as_bytes().to_vec(),
            comment: None,
        });
    }
    v.push(Rule::Expect(Box::new(Expect::new(Pattern::Custom(
        Custom::AgentLine,
    )))));
    v
}

/// Waits for the agent's line: passes with the line (up to its CR or LF); at the end of
/// the answer without one, "Ignoring incomplete line from agent" without a status
/// change.
pub fn judge_line(buf: &[u8], last: bool) -> super::proto::Verdict {
    use super::proto::Verdict;
    match buf.iter().position(|&b| b == b'\n' || b == b'\r' || b == 0) {
        Some(i) if buf[i] != 0 => Verdict::Pass(String::from_utf8_lossy(&buf[..i]).into_owned()),
        _ if !last => Verdict::Wait,
        _ => Verdict::Fail {
            status: CheckStatus::Checked,
            info: "Ignoring incomplete line from agent".into(),
            code: None,
        },
    }
}

/// A health word of the agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HealthWord {
    /// `up`.
    Up,
    /// `down`, `fail` or `stopped` (the word is kept for the message).
    Down(&'static str),
}

/// What the agent's line says (the last word of each kind wins).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    /// The health word.
    pub health: Option<HealthWord>,
    /// The admin word.
    pub admin: Option<AdminState>,
    /// The weight word (`75%`).
    pub weight: Option<String>,
    /// The `maxconn:N` word.
    pub maxconn: Option<String>,
    /// The first word not understood.
    pub error: Option<String>,
    /// The text after `#`.
    pub description: String,
}

/// Reads the agent's line as HAProxy does.
pub fn parse(line: &str) -> Reply {
    let mut r = Reply::default();
    let (words, desc) = match line.find('#') {
        Some(i) => (&line[..i], &line[i + 1..]),
        None => (line, ""),
    };
    r.description = desc.trim_start_matches([' ', '\t', '\n']).to_owned();
    for w in words.split([' ', '\t', ',']).filter(|w| !w.is_empty()) {
        let lw = w.to_ascii_lowercase();
        match lw.as_str() {
            "up" => r.health = Some(HealthWord::Up),
            "down" => r.health = Some(HealthWord::Down("down")),
            "stopped" => r.health = Some(HealthWord::Down("stopped")),
            "fail" => r.health = Some(HealthWord::Down("fail")),
            "ready" => r.admin = Some(AdminState::Ready),
            "drain" => r.admin = Some(AdminState::Drain),
            "maint" => r.admin = Some(AdminState::Maint),
            _ if w.as_bytes()[0].is_ascii_digit() && w.contains('%') => {
                r.weight = Some(w.to_owned())
            }
            _ if lw.starts_with("maxconn:") => r.maxconn = Some(w.to_owned()),
            _ => {
                if r.error.is_none() {
                    r.error = Some(w.to_owned());
                }
            }
        }
    }
    r
}

/// The weight `word` gives a server whose configured weight is `initial`
/// (`server_parse_weight_change_request`): the weight, or HAProxy's warning.
/// `dynamic`: the algorithm takes any weight (else only 0% and 100%).
pub fn weight(word: &str, initial: u32, dynamic: bool) -> Result<u32, &'static str> {
    let digits = word.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err("Empty weight string empty or preceded by garbage");
    }
    let w: u64 = word[..digits].parse().unwrap_or(u64::MAX);
    let rest = &word[digits..];
    let w = if rest == "%" {
        (u64::from(initial) * w.min(25600) / 100).min(256) as u32
    } else if w > 256 {
        return Err("Absolute weight can only be between 0 and 256 inclusive.\n");
    } else if !rest.is_empty() {
        return Err("Trailing garbage in weight string");
    } else {
        w as u32
    };
    if w != 0 && w != initial && !dynamic {
        return Err(
            "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n",
        );
    }
    Ok(w)
}

/// The server `maxconn` the agent's `maxconn:N` word sets (the same check as `set
/// maxconn server`, HAProxy's `server_parse_maxconn_change_request`): N, 0 for no
/// limit (a negative N too), or HAProxy's warning.
pub fn maxconn(v: &str) -> Result<u32, &'static str> {
    if v.is_empty() {
        return Err("Require <maxconn>.\n");
    }
    let sign = usize::from(v.starts_with(['-', '+']));
    let digits = v[sign..].bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return Err("maxconn string empty or preceded by garbage");
    }
    if sign + digits != v.len() {
        return Err("Trailing garbage in maxconn string");
    }
    if v.starts_with('-') {
        return Ok(0);
    }
    Ok(v[sign..]
        .parse::<u64>()
        .map_or(u32::MAX, |n| n.min(u64::from(u32::MAX)) as u32))
}

/// Acts on the agent's answer `r` (the run's result) for `server`: admin state, weight,
/// then the agent's own health. Returns the result to record (status and info as
/// HAProxy records them). `dynamic`: the backend's algorithm takes any weight.
pub fn apply(
    r: CheckResult,
    server: &ServerLive,
    backend: &BackendLive,
    dynamic: bool,
) -> CheckResult {
    if !r.status.passed() {
        // Connection problems and timeouts are the health check's business.
        return r;
    }
    let reply = parse(&r.info);
    if let Some(a) = reply.admin {
        backend.set_admin(server, a);
    }
    let mut warning: Option<&str> = None;
    if let Some(w) = &reply.weight {
        match weight(w, server.initial_weight(), dynamic) {
            Ok(w) => {
                if server.weight.swap(w, Ordering::Relaxed) != w
                    && let Some(b) = backend.current()
                {
                    b.balancer.refresh();
                }
            }
            Err(e) => warning = Some(e),
        }
    }
    if let Some(m) = &reply.maxconn {
        match maxconn(&m["maxconn:".len()..]) {
            Ok(n) => {
                server.set_maxconn(n);
                // More room may let queued requests through at once.
                if let Some(b) = backend.current()
                    && let Some(i) = b
                        .servers
                        .iter()
                        .position(|s| std::ptr::eq(&*s.live, server))
                {
                    b.serve_queue(i);
                }
            }
            Err(e) => {
                if warning.is_none() {
                    warning = Some(e);
                }
            }
        }
    }
    let error = reply.error.as_deref();
    let (status, info) = match reply.health {
        Some(h) => {
            let (word, status) = match h {
                HealthWord::Up => ("up", CheckStatus::L7Ok),
                HealthWord::Down(w) => (w, CheckStatus::L7Sts),
            };
            let mut msg = reply.description.as_str();
            if msg.is_empty() || status == CheckStatus::L7Ok {
                if let Some(e) = error {
                    msg = e;
                } else if let Some(w) = warning {
                    msg = w;
                }
            }
            let info = if msg.is_empty() {
                format!("via agent : {word}")
            } else {
                format!("via agent : {word} ({msg})")
            };
            (status, info)
        }
        None => match (error, warning) {
            (Some(e), _) => (
                CheckStatus::Checked,
                format!("agent reports an error : {e}"),
            ),
            (None, Some(w)) => (CheckStatus::Checked, format!("agent warns : {w}")),
            (None, None) => (CheckStatus::Checked, String::new()),
        },
    };
    CheckResult {
        status,
        code: None,
        info,
        duration: r.duration,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_in_any_order_last_wins() {
        let r = parse("drain 75%, up\tmaint # busy now");
        assert_eq!(r.health, Some(HealthWord::Up));
        assert_eq!(r.admin, Some(AdminState::Maint));
        assert_eq!(r.weight.as_deref(), Some("75%"));
        assert_eq!(r.description, "busy now");
        let r = parse("DOWN bogus other");
        assert_eq!(r.health, Some(HealthWord::Down("down")));
        assert_eq!(r.error.as_deref(), Some("bogus"));
        assert_eq!(parse("").health, None);
    }

    #[test]
    fn weights_as_haproxy_computes_them() {
        assert_eq!(weight("75%", 100, true), Ok(75));
        assert_eq!(weight("50%", 1, true), Ok(0));
        assert_eq!(weight("300%", 100, true), Ok(256));
        assert_eq!(weight("0%", 10, false), Ok(0));
        assert_eq!(weight("100%", 10, false), Ok(10));
        assert!(weight("50%", 10, false).is_err());
        assert_eq!(
            weight("5%x", 10, true),
            Err("Trailing garbage in weight string")
        );
    }

    #[test]
    fn maxconn_words_as_haproxy_reads_them() {
        assert_eq!(maxconn("12"), Ok(12));
        assert_eq!(maxconn("0"), Ok(0));
        assert_eq!(maxconn("-3"), Ok(0));
        assert_eq!(maxconn(""), Err("Require <maxconn>.\n"));
        assert_eq!(
            maxconn("x1"),
            Err("maxconn string empty or preceded by garbage")
        );
        assert_eq!(maxconn("1x"), Err("Trailing garbage in maxconn string"));
        assert_eq!(parse("up maxconn:4").maxconn.as_deref(), Some("maxconn:4"));
    }

    #[test]
    fn a_line_needs_its_end() {
        use super::super::proto::Verdict;
        assert_eq!(judge_line(b"up\r\n", false), Verdict::Pass("up".into()));
        assert_eq!(judge_line(b"up", false), Verdict::Wait);
        assert!(matches!(
            judge_line(b"up", true),
            Verdict::Fail {
                status: CheckStatus::Checked,
                ..
            }
        ));
    }
}
