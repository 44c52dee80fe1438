//! The audit log (`audit-log FILE|stdout|syslog`): one JSON line per access decision,
//! chained: each line carries the hash of the previous line (`prev`) and its own
//! (`hash`, the SHA-256 of the line up to that field), so that [`verify`] finds the
//! first tampered, removed or reordered line. Lines are written by a thread of their
//! own: the request path only queues them, never waits on the disk. A failed write is
//! counted and makes the log unhealthy until a write succeeds again (with
//! `audit-required`, requests are then refused).

use crate::config::model::AuditTarget;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};

/// Lines queued at most before new ones are dropped (and counted as failures).
const QUEUE: usize = 65_536;

/// The chain's start: the `prev` of the first line.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One access decision.
#[derive(Debug, Default)]
pub struct Record<'a> {
    /// Unique request id.
    pub id: &'a str,
    /// Client address.
    pub client: String,
    /// The identity section that authenticated the request, if any.
    pub identity: Option<&'a str>,
    /// `sub`.
    pub sub: Option<&'a str>,
    /// `email`.
    pub email: Option<&'a str>,
    /// Groups.
    pub groups: Vec<String>,
    /// Method.
    pub method: &'a str,
    /// `Host`.
    pub host: &'a str,
    /// Path.
    pub path: &'a str,
    /// Frontend.
    pub frontend: &'a str,
    /// Backend (empty when none).
    pub backend: &'a str,
    /// Server (empty when none).
    pub server: &'a str,
    /// `allow`, `deny` or `challenge`.
    pub decision: &'a str,
    /// `file:line` of the rule that decided (empty: no rule, the default).
    pub rule: String,
    /// Status sent.
    pub status: i32,
}

/// An open audit log.
#[derive(Debug)]
pub struct AuditLog {
    tx: SyncSender<String>,
    state: std::sync::Arc<State>,
}

#[derive(Debug, Default)]
struct State {
    failing: AtomicBool,
    failures: AtomicU64,
    written: AtomicU64,
    refusals: AtomicU64,
}

fn hex(d: &[u8]) -> String {
    let mut s = String::with_capacity(d.len() * 2);
    for b in d {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The `hash` of a line whose text before `,"hash":` is `prefix`.
fn line_hash(prefix: &str) -> String {
    hex(&Sha256::digest(prefix.as_bytes()))
}

/// The `hash` field of the last line of a regular file (to continue its chain).
fn last_hash(path: &std::path::Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let f = std::fs::File::open(path).ok()?;
    let last = std::io::BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .filter(|l| !l.trim().is_empty())
        .last()?;
    split_hash(&last).map(|(_, h)| h.to_owned())
}

/// Splits a line into (the text the hash covers, the hash).
fn split_hash(line: &str) -> Option<(&str, &str)> {
    let at = line.rfind(",\"hash\":\"")?;
    let h = line[at + 9..].strip_suffix("\"}")?;
    Some((&line[..at], h))
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for a time since the epoch.
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

enum Sink {
    File(std::fs::File),
    Stdout,
    Syslog(std::os::unix::net::UnixDatagram),
}

impl Sink {
    fn write_line(&mut self, line: &str) -> std::io::Result<()> {
        match self {
            Sink::File(f) => {
                f.write_all(line.as_bytes())?;
                f.write_all(b"\n")?;
                f.flush()
            }
            Sink::Stdout => {
                let mut o = std::io::stdout().lock();
                o.write_all(line.as_bytes())?;
                o.write_all(b"\n")?;
                o.flush()
            }
            Sink::Syslog(s) => {
                // facility auth (4) + severity info (6).
                let msg = format!("<38>gatehouse-audit: {line}");
                s.send(msg.as_bytes()).map(|_| ())
            }
        }
    }
}

impl AuditLog {
    /// Opens the target and starts its writer.
    pub fn open(target: &AuditTarget) -> Result<AuditLog, String> {
        let (sink, prev) = match target {
            AuditTarget::File(p) => {
                let f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(p)
                    .map_err(|e| format!("{}: {e}", p.display()))?;
                (Sink::File(f), last_hash(p))
            }
            AuditTarget::Stdout => (Sink::Stdout, None),
            AuditTarget::Syslog => {
                let s = std::os::unix::net::UnixDatagram::unbound().map_err(|e| e.to_string())?;
                s.connect("/dev/log")
                    .map_err(|e| format!("/dev/log: {e}"))?;
                (Sink::Syslog(s), None)
            }
        };
        let (tx, rx) = sync_channel::<String>(QUEUE);
        let state = std::sync::Arc::new(State::default());
        let st = std::sync::Arc::clone(&state);
        let mut sink = sink;
        let mut prev = prev.unwrap_or_else(|| GENESIS.to_owned());
        std::thread::Builder::new()
            .name("gatehouse-audit".into())
            .spawn(move || {
                for body in rx {
                    let prefix = format!("{body},\"prev\":\"{prev}\"");
                    let hash = line_hash(&prefix);
                    let line = format!("{prefix},\"hash\":\"{hash}\"}}");
                    match sink.write_line(&line) {
                        Ok(()) => {
                            prev = hash;
                            st.written.fetch_add(1, Ordering::Relaxed);
                            st.failing.store(false, Ordering::Relaxed);
                        }
                        Err(e) => {
                            if !st.failing.swap(true, Ordering::Relaxed) {
                                eprintln!("[ALERT] gatehouse: audit log write failed: {e}");
                            }
                            st.failures.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(AuditLog { tx, state })
    }

    /// False after a write failed (until one succeeds).
    pub fn healthy(&self) -> bool {
        !self.state.failing.load(Ordering::Relaxed)
    }

    /// Lines that could not be written (or queued).
    pub fn failures(&self) -> u64 {
        self.state.failures.load(Ordering::Relaxed)
    }

    /// Counts a request refused (503) because the log cannot be written
    /// (`audit-required`).
    pub fn refused(&self) {
        self.state.refusals.fetch_add(1, Ordering::Relaxed);
    }

    /// Requests refused because the log could not be written.
    pub fn refusals(&self) -> u64 {
        self.state.refusals.load(Ordering::Relaxed)
    }

    /// Lines written.
    pub fn written(&self) -> u64 {
        self.state.written.load(Ordering::Relaxed)
    }

    /// Queues one line of other fields than an HTTP decision's (the PostgreSQL
    /// sessions' `connect`, `statement` and `disconnect` events): `time` first, then
    /// `fields` in order, chained like every line. False when the queue is full.
    pub fn event(&self, fields: &serde_json::Map<String, serde_json::Value>) -> bool {
        let mut body = format!("{{\"time\":\"{}\"", rfc3339(std::time::SystemTime::now()));
        for (k, v) in fields {
            let _ = write!(body, ",{}:{v}", serde_json::Value::from(k.as_str()));
        }
        self.queue(body)
    }

    fn queue(&self, body: String) -> bool {
        match self.tx.try_send(body) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.state.failing.store(true, Ordering::Relaxed);
                self.state.failures.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Queues one record; false when the queue is full (counted as a failure).
    pub fn record(&self, r: &Record<'_>) -> bool {
        let s = |v: &str| serde_json::Value::from(v).to_string();
        let o = |v: Option<&str>| v.map_or("null".to_owned(), s);
        let groups = serde_json::Value::from(r.groups.clone()).to_string();
        let body = format!(
            "{{\"time\":\"{}\",\"id\":{},\"client\":{},\"identity\":{},\"sub\":{},\"email\":{},\"groups\":{groups},\"method\":{},\"host\":{},\"path\":{},\"frontend\":{},\"backend\":{},\"server\":{},\"decision\":{},\"rule\":{},\"status\":{}",
            rfc3339(std::time::SystemTime::now()),
            s(r.id),
            s(&r.client),
            o(r.identity),
            o(r.sub),
            o(r.email),
            s(r.method),
            s(r.host),
            s(r.path),
            s(r.frontend),
            s(r.backend),
            s(r.server),
            s(r.decision),
            s(&r.rule),
            r.status
        );
        self.queue(body)
    }
}

/// Checks a log's chain: `Ok(lines)` when intact, else the 1-based number of the first
/// line that was tampered with, or follows a removed line, or is out of order, with
/// the reason.
pub fn verify(text: &str) -> Result<usize, (usize, String)> {
    let mut prev = GENESIS.to_owned();
    let mut n = 0;
    for (i, line) in text.lines().enumerate() {
        let no = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let Some((covered, hash)) = split_hash(line) else {
            return Err((no, "no hash field".into()));
        };
        if serde_json::from_str::<serde_json::Value>(line).is_err() {
            return Err((no, "not a JSON line".into()));
        }
        if line_hash(covered) != hash {
            return Err((no, "the line was modified".into()));
        }
        let Some(p) = covered
            .rfind(",\"prev\":\"")
            .map(|at| &covered[at + 9..covered.len() - 1])
        else {
            return Err((no, "no prev field".into()));
        };
        if p != prev {
            return Err((
                no,
                "the previous line is not the one it follows (removed or reordered)".into(),
            ));
        }
        prev = hash.to_owned();
        n += 1;
    }
    Ok(n)
}

/// `gatehouse audit verify FILE`: prints the result; the exit status (0: intact).
pub fn verify_command(args: &[String]) -> i32 {
    let [cmd, file] = args else {
        eprintln!("usage: gatehouse audit verify FILE");
        return 2;
    };
    if cmd != "verify" {
        eprintln!("usage: gatehouse audit verify FILE");
        return 2;
    }
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{file}: {e}");
            return 2;
        }
    };
    match verify(&text) {
        Ok(n) => {
            println!("{file}: intact ({n} lines)");
            0
        }
        Err((line, why)) => {
            println!("{file}:{line}: chain broken: {why}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(bodies: &[&str]) -> Vec<String> {
        let mut prev = GENESIS.to_owned();
        bodies
            .iter()
            .map(|b| {
                let prefix = format!("{b},\"prev\":\"{prev}\"");
                let h = line_hash(&prefix);
                prev = h.clone();
                format!("{prefix},\"hash\":\"{h}\"}}")
            })
            .collect()
    }

    #[test]
    fn verify_names_the_first_tampered_removed_or_reordered_line() {
        let lines = chain(&["{\"a\":1", "{\"a\":2", "{\"a\":3", "{\"a\":4"]);
        assert_eq!(verify(&lines.join("\n")), Ok(4));
        let mut t = lines.clone();
        t[1] = t[1].replace("\"a\":2", "\"a\":9");
        assert_eq!(verify(&t.join("\n")).unwrap_err().0, 2);
        let mut r = lines.clone();
        r.remove(1);
        assert_eq!(verify(&r.join("\n")).unwrap_err().0, 2);
        let mut o = lines.clone();
        o.swap(2, 3);
        assert_eq!(verify(&o.join("\n")).unwrap_err().0, 3);
    }

    #[test]
    fn rfc3339_is_utc_calendar_time() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_780_000_000_123);
        assert_eq!(rfc3339(t), "2026-05-28T20:26:40.123Z");
    }
}
