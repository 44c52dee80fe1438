//! The `log` keyword, shared by `global` and proxies:
//! `log ADDR [len N] [format F] [sample R:S] FACILITY [LEVEL [MINLEVEL]]`.

use super::model::{Config, LogDest, LogFormat, LogTarget};
use super::span::Span;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;

/// Syslog facility names, in number order.
pub const FACILITIES: [&str; 24] = [
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2",
    "ftp", "ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4",
    "local5", "local6", "local7",
];

/// Syslog level names, in number order.
pub const LEVELS: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// The format of a `log` line without `format`: HAProxy 2.6's `local` (rfc3164
/// without the host name; checked on the wire against haproxy 2.6.12). The global
/// `log-send-hostname` switches that default to `rfc3164`: see [`apply_send_hostname`].
pub const DEFAULT_FORMAT: LogFormat = LogFormat::Local;

/// Whether a `log` line (its words, keyword included) names its format.
pub fn format_given(words: &[String]) -> bool {
    let mut i = 2;
    loop {
        match words.get(i).map(String::as_str) {
            Some("len") => i += 2,
            Some("format") => return true,
            _ => return false,
        }
    }
}

/// With `log-send-hostname`, the `log` lines that did not name a format (their
/// spans are `implicit`) use `rfc3164`, as in HAProxy.
pub fn apply_send_hostname(config: &mut Config, implicit: &[Span]) {
    if config.global.log_send_hostname.is_none() || implicit.is_empty() {
        return;
    }
    let targets = config
        .global
        .logs
        .iter_mut()
        .chain(config.proxies.iter_mut().flat_map(|p| p.logs.iter_mut()));
    for t in targets {
        if t.format == DEFAULT_FORMAT && implicit.contains(&t.span) {
            t.format = LogFormat::Rfc3164;
        }
    }
}

fn dest(addr: &str) -> Result<LogDest, String> {
    match addr {
        "stdout" | "fd@1" => return Ok(LogDest::Stdout),
        "stderr" | "fd@2" => return Ok(LogDest::Stderr),
        _ => {}
    }
    if let Some(path) = addr.strip_prefix("unix@") {
        return Ok(LogDest::Unix(PathBuf::from(path)));
    }
    if addr.starts_with('/') {
        return Ok(LogDest::Unix(PathBuf::from(addr)));
    }
    if addr.starts_with("ring@") || addr.starts_with("tcp@") || addr.starts_with("fd@") {
        return Err(format!(
            "log : address '{addr}' is not supported yet by gatehouse"
        ));
    }
    let a = addr
        .strip_prefix("udp@")
        .or_else(|| addr.strip_prefix("udp4@"))
        .or_else(|| addr.strip_prefix("udp6@"))
        .or_else(|| addr.strip_prefix("ipv4@"))
        .or_else(|| addr.strip_prefix("ipv6@"))
        .unwrap_or(addr);
    let with_port = if a.parse::<std::net::IpAddr>().is_ok() {
        // A bare IP (v4 or v6) gets the syslog port.
        return Ok(LogDest::Udp(SocketAddr::new(
            a.parse().map_err(|_| String::new())?,
            514,
        )));
    } else if a
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        a.to_owned()
    } else {
        format!("{a}:514")
    };
    let host_port = with_port.trim_start_matches('[').replace("]:", ":");
    let sa = with_port
        .parse::<SocketAddr>()
        .ok()
        .or_else(|| host_port.to_socket_addrs().ok().and_then(|mut i| i.next()))
        .ok_or_else(|| format!("log : invalid address '{addr}'"))?;
    Ok(LogDest::Udp(sa))
}

/// Parses the words of a `log` line (the keyword included) into a target.
pub fn parse(words: &[String], span: &Span) -> Result<LogTarget, String> {
    let addr = words
        .get(1)
        .ok_or("'log' expects either <address[:port]> and <facility> or 'global' as arguments.")?;
    let dest = dest(addr)?;
    let mut format = DEFAULT_FORMAT;
    let mut max_len = 1024;
    let mut i = 2;
    loop {
        match words.get(i).map(String::as_str) {
            Some("len") => {
                let v = words
                    .get(i + 1)
                    .ok_or("log : 'len' expects an integer value")?;
                max_len = v
                    .parse()
                    .ok()
                    .filter(|n| *n >= 80 && *n <= 65535)
                    .ok_or_else(|| format!("log : invalid 'len' value '{v}'"))?;
                i += 2;
            }
            Some("format") => {
                let v = words
                    .get(i + 1)
                    .ok_or("log : 'format' expects a format name")?;
                format = match v.as_str() {
                    "rfc3164" => LogFormat::Rfc3164,
                    "rfc5424" => LogFormat::Rfc5424,
                    "raw" => LogFormat::Raw,
                    "short" => LogFormat::Short,
                    "timed" => LogFormat::Timed,
                    "iso" => LogFormat::Iso,
                    "local" => LogFormat::Local,
                    "priority" => LogFormat::Priority,
                    _ => return Err(format!("log : unknown log format '{v}'")),
                };
                i += 2;
            }
            Some("sample") => return Err("log : 'sample' is not supported yet by gatehouse".into()),
            _ => break,
        }
    }
    let fac = words.get(i).ok_or("log : missing facility")?;
    let facility = FACILITIES
        .iter()
        .position(|f| f == fac)
        .ok_or_else(|| format!("log : unknown log facility '{fac}'"))? as u8;
    let mut level = 7;
    let mut min_level = 0;
    if let Some(l) = words.get(i + 1) {
        level = LEVELS
            .iter()
            .position(|x| x == l)
            .ok_or_else(|| format!("log : unknown optional log level '{l}'"))?
            as u8;
    }
    if let Some(l) = words.get(i + 2) {
        min_level = LEVELS
            .iter()
            .position(|x| x == l)
            .ok_or_else(|| format!("log : unknown optional minimum log level '{l}'"))?
            as u8;
    }
    if let Some(extra) = words.get(i + 3) {
        return Err(format!("log : cannot handle unexpected argument '{extra}'"));
    }
    Ok(LogTarget {
        span: span.clone(),
        dest,
        format,
        facility,
        level,
        min_level,
        max_len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn log_lines() {
        let span = Span::new("t", 1);
        let t = parse(&w("log stdout format raw local0"), &span).unwrap();
        assert_eq!(
            (t.dest, t.format, t.facility),
            (LogDest::Stdout, LogFormat::Raw, 16)
        );
        let t = parse(&w("log 127.0.0.1 local2 info notice"), &span).unwrap();
        assert_eq!(t.format, LogFormat::Local, "HAProxy 2.6's default format");
        assert_eq!(t.dest, LogDest::Udp("127.0.0.1:514".parse().unwrap()));
        assert_eq!((t.level, t.min_level), (6, 5));
        let t = parse(&w("log 10.0.0.1:5140 len 2048 user"), &span).unwrap();
        assert_eq!((t.max_len, t.facility), (2048, 1));
        let t = parse(&w("log /dev/log local0"), &span).unwrap();
        assert_eq!(t.dest, LogDest::Unix("/dev/log".into()));
        assert_eq!(
            parse(&w("log 127.0.0.1 local9"), &span).unwrap_err(),
            "log : unknown log facility 'local9'"
        );
        assert_eq!(
            parse(&w("log /dev/log local0 info foo"), &span).unwrap_err(),
            "log : unknown optional minimum log level 'foo'"
        );
    }

    #[test]
    fn log_send_hostname_switches_only_implicit_formats_to_rfc3164() {
        let text = "global\n    log 127.0.0.1 local0\n    log 127.0.0.2 format local local0\n    log 127.0.0.3 len 2048 local0\n    log-send-hostname\n";
        let l = crate::config::load_str("t.cfg", text, &crate::config::semantics::SyntaxOnly);
        let formats: Vec<LogFormat> = l.config.global.logs.iter().map(|t| t.format).collect();
        assert_eq!(
            formats,
            [LogFormat::Rfc3164, LogFormat::Local, LogFormat::Rfc3164]
        );
        let l = crate::config::load_str(
            "t.cfg",
            "global\n    log 127.0.0.1 local0\n",
            &crate::config::semantics::SyntaxOnly,
        );
        assert_eq!(l.config.global.logs[0].format, LogFormat::Local);
    }
}
