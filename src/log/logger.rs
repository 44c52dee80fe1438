//! [`Logger`]: the set of `log` targets of a proxy (or of `global`), with their level
//! filters, syslog framing and non-blocking sinks.

use super::sink::Sink;
use super::syslog::{Header, build_frame};
use crate::config::model::{LogDest, LogFormat, LogTarget};
use crate::config::span::Span;
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

/// Opening a `log` target failed.
#[derive(Debug, thiserror::Error)]
#[error("{span}: cannot open log target {dest:?}: {source}")]
pub struct LogError {
    /// The `log` line.
    pub span: Span,
    /// Its destination.
    pub dest: LogDest,
    /// The socket error.
    #[source]
    pub source: std::io::Error,
}

#[derive(Debug)]
struct Target {
    sink: Sink,
    format: LogFormat,
    facility: u8,
    level: u8,
    min_level: u8,
    max_len: usize,
}

/// Sends messages to every configured target whose level accepts them. `Send + Sync`;
/// [`Logger::log`] never blocks: a message a target cannot take at once is dropped and
/// counted in [`Logger::dropped`].
#[derive(Debug)]
pub struct Logger {
    targets: Vec<Target>,
    tag: String,
    hostname: Option<String>,
    pid: u32,
    dropped: AtomicU64,
}

thread_local! {
    static FRAME: RefCell<String> = RefCell::new(String::with_capacity(1024));
}

impl Logger {
    /// Opens the sinks of `targets`. `tag` is `log-tag` (default: the program name);
    /// `send_hostname` is `log-send-hostname` (`Some("")`: the system host name).
    pub fn new(
        targets: &[LogTarget],
        tag: Option<&str>,
        send_hostname: Option<&str>,
    ) -> Result<Logger, LogError> {
        let mut out = Vec::with_capacity(targets.len());
        for t in targets {
            let sink = Sink::open(&t.dest).map_err(|source| LogError {
                span: t.span.clone(),
                dest: t.dest.clone(),
                source,
            })?;
            out.push(Target {
                sink,
                format: t.format,
                facility: t.facility,
                level: t.level,
                min_level: t.min_level,
                max_len: t.max_len,
            });
        }
        let hostname = send_hostname.map(|h| {
            if h.is_empty() {
                super::system_hostname().to_string()
            } else {
                h.to_string()
            }
        });
        Ok(Logger {
            targets: out,
            tag: tag.unwrap_or_else(|| super::program_name()).to_string(),
            hostname,
            pid: std::process::id(),
            dropped: AtomicU64::new(0),
        })
    }

    /// True when there is no target (the proxy can skip building log lines).
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// The syslog tag in use.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// Messages dropped so far because a target could not take them.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Sends `msg` at severity `level` (0 emerg … 7 debug) to every target whose
    /// maximum level accepts it, capping severities above a target's minimum level.
    pub fn log(&self, level: u8, msg: &str) {
        self.log_at(level, msg, super::time::now());
    }

    /// [`Logger::log`] with the header date given (for tests and replays).
    pub fn log_at(&self, level: u8, msg: &str, now: SystemTime) {
        FRAME.with(|buf| {
            // A re-entrant call (impossible today) gets its own buffer rather than a panic.
            let mut own = String::new();
            let mut guard = buf.try_borrow_mut();
            let frame = match guard.as_deref_mut() {
                Ok(f) => f,
                Err(_) => &mut own,
            };
            for t in &self.targets {
                if level > t.level {
                    continue;
                }
                let h = Header {
                    format: t.format,
                    facility: t.facility,
                    level: level.max(t.min_level),
                    tag: &self.tag,
                    pid: self.pid,
                    hostname: self.hostname.as_deref(),
                };
                // HAProxy 2.6 counts the trailing newline in `len` for stdout/stderr
                // only; a syslog datagram gets `len` bytes of header and message, then
                // the newline.
                let limit = match t.sink {
                    Sink::Fd(_) => t.max_len,
                    _ if t.max_len == 0 => 0,
                    _ => t.max_len + 1,
                };
                build_frame(frame, &h, now, msg, limit);
                if t.sink.send(frame.as_bytes()).is_err() {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
}
