//! Syslog framing of one log message for each `log ... format F` (HAProxy 2.6):
//! rfc3164, local, rfc5424, priority, short, timed, iso and raw headers, `len` truncation
//! and the trailing newline HAProxy appends to every message.

use super::time;
use crate::config::model::LogFormat;
use std::fmt::Write;
use std::time::SystemTime;

/// What the header of a message needs besides the message itself.
#[derive(Clone, Copy, Debug)]
pub struct Header<'a> {
    /// Header layout.
    pub format: LogFormat,
    /// Syslog facility (0..=23).
    pub facility: u8,
    /// Severity after `minlevel` capping (0..=7).
    pub level: u8,
    /// `log-tag`, or the program name.
    pub tag: &'a str,
    /// Process id printed after the tag.
    pub pid: u32,
    /// `log-send-hostname` (already resolved to the system host name when given
    /// without argument); `None` prints `localhost` in rfc3164 and `-` in rfc5424.
    pub hostname: Option<&'a str>,
}

/// Writes the whole datagram for `msg` into `out` (cleared first): header, message,
/// then `\n`, truncated so that the total, newline included, fits in `max_len` bytes
/// (0: no limit; the logger passes `len + 1` for syslog sockets, as HAProxy does).
pub fn build_frame(out: &mut String, h: &Header<'_>, now: SystemTime, msg: &str, max_len: usize) {
    out.clear();
    let pri = u32::from(h.facility) * 8 + u32::from(h.level & 7);
    let (secs, us) = time::split(now);
    match h.format {
        LogFormat::Raw => {}
        LogFormat::Priority => {
            let _ = write!(out, "<{pri}>");
        }
        LogFormat::Short => {
            let _ = write!(out, "<{}>", h.level & 7);
        }
        LogFormat::Timed => {
            let _ = write!(out, "<{}>", h.level & 7);
            time::write_iso(out, &time::local(secs), us);
            out.push(' ');
        }
        LogFormat::Iso => {
            time::write_iso(out, &time::local(secs), us);
            out.push(' ');
        }
        LogFormat::Rfc3164 | LogFormat::Local => {
            let _ = write!(out, "<{pri}>");
            time::write_rfc3164(out, &time::local(secs));
            out.push(' ');
            if h.format == LogFormat::Rfc3164 {
                out.push_str(h.hostname.unwrap_or("localhost"));
                out.push(' ');
            }
            let _ = write!(out, "{}[{}]: ", h.tag, h.pid);
        }
        LogFormat::Rfc5424 => {
            let _ = write!(out, "<{pri}>1 ");
            time::write_iso(out, &time::local(secs), us);
            let _ = write!(
                out,
                " {} {} {} - - ",
                h.hostname.unwrap_or("-"),
                h.tag,
                h.pid
            );
        }
    }
    out.push_str(msg);
    if max_len > 0 && out.len() + 1 > max_len {
        let mut cut = max_len - 1;
        while cut > 0 && !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out.push('\n');
}
