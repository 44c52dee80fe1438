//! Logging: `log` targets (stdout/stderr, UDP syslog, unix sockets), syslog headers
//! (rfc3164, rfc5424, local, raw, …), `log-tag`, `log-send-hostname`, and the
//! `log-format` engine behind `option httplog`/`tcplog` (HAProxy 2.6 section 8).
//!
//! The proxy compiles a [`LogFormatSpec`] per frontend, fills a [`LogRecord`] per request
//! or connection, renders it into a reused `String`, and hands it to a [`Logger`].

mod format;
mod logger;
mod record;
mod render;
mod sink;
pub mod syslog;
pub mod time;

#[cfg(test)]
mod tests;

pub use format::{FormatContext, HTTPLOG, HTTPLOG_CLF, HTTPSLOG, LogFormatSpec, TCPLOG, Var};
pub use logger::{LogError, Logger};
pub use record::{FinState, LogRecord, TermCause};
pub use render::render_connect_line;
pub use sink::Sink;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// HTTP requests started by the process so far (HAProxy's `global.req_count`).
static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// The number of a new request (`%rt`): 0 for the process's first one, as HAProxy.
pub fn next_request() -> u64 {
    REQUESTS.fetch_add(1, Ordering::Relaxed)
}

/// HTTP requests started by the process so far (`CumReq` of `show info`).
pub fn requests() -> u64 {
    REQUESTS.load(Ordering::Relaxed)
}

/// Syslog severity `emerg`.
pub const LOG_EMERG: u8 = 0;
/// Syslog severity `alert`.
pub const LOG_ALERT: u8 = 1;
/// Syslog severity `crit`.
pub const LOG_CRIT: u8 = 2;
/// Syslog severity `err`: HAProxy's level for errors (`option log-separate-errors`).
pub const LOG_ERR: u8 = 3;
/// Syslog severity `warning`.
pub const LOG_WARNING: u8 = 4;
/// Syslog severity `notice`: server state changes.
pub const LOG_NOTICE: u8 = 5;
/// Syslog severity `info`: traffic logs.
pub const LOG_INFO: u8 = 6;
/// Syslog severity `debug`.
pub const LOG_DEBUG: u8 = 7;

/// The machine's host name (`gethostname(2)`), read once; used by `%H` and by
/// `log-send-hostname` without argument.
pub fn system_hostname() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for `buf.len()` bytes; gethostname NUL-terminates
        // when the name fits, and we stop at the first NUL or the buffer's end.
        let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if r != 0 {
            return "localhost".to_string();
        }
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    })
}

/// The default syslog tag: the program name as launched (basename of `argv[0]`).
pub fn program_name() -> &'static str {
    static NAME: OnceLock<String> = OnceLock::new();
    NAME.get_or_init(|| {
        std::env::args_os()
            .next()
            .and_then(|a| {
                std::path::Path::new(&a)
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "gatehouse".to_string())
    })
}
