//! The `global` HTTP/2 tunables (`tune.h2.*`, `h2-workaround-bogus-websocket-clients`),
//! parsed as HAProxy 2.6 parses them
//! (`atoi`, its ranges and messages); `crate::proxy::h2` applies them to each HTTP/2
//! connection.

use super::super::diag::Diag;
use super::super::keyword::GlobalKeyword;
use super::super::model::Global;
use super::super::span::Span;
use super::sup;

type R = Result<(), String>;

/// C's `atoi` as HAProxy reads these values: optional blanks and sign, the leading
/// digits, 0 when there are none (a missing argument too).
fn atoi(w: &[String]) -> Result<i64, String> {
    if let Some(x) = w.get(2) {
        return Err(format!(
            "'{}' cannot handle unexpected argument '{x}'.",
            w[0]
        ));
    }
    let v = w.get(1).map_or("", |s| s.trim_start());
    let (neg, digits) = match v.as_bytes().first() {
        Some(b'-') => (true, &v[1..]),
        Some(b'+') => (false, &v[1..]),
        _ => (false, v),
    };
    let n: i64 = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .take(12)
        .fold(0, |n, d| n * 10 + i64::from(d - b'0'));
    Ok(if neg { -n } else { n })
}

fn positive(w: &[String]) -> Result<u32, String> {
    let n = atoi(w)?;
    u32::try_from(n)
        .ok()
        .filter(|n| *n <= i32::MAX as u32)
        .ok_or_else(|| format!("'{}' expects a positive numeric value.", w[0]))
}

fn header_table_size(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    let n = atoi(w)?;
    if !(4096..=65536).contains(&n) {
        return Err(format!(
            "'{}' expects a numeric value between 4096 and 65536.",
            w[0]
        ));
    }
    g.tune_h2.header_table_size = n as u32;
    Ok(())
}

fn initial_window_size(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    g.tune_h2.initial_window_size = positive(w)?;
    Ok(())
}

fn max_concurrent_streams(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    g.tune_h2.max_concurrent_streams = positive(w)?;
    Ok(())
}

fn max_frame_size(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    let n = atoi(w)?;
    if !(16384..=16777215).contains(&n) {
        return Err(format!(
            "'{}' expects a numeric value between 16384 and 16777215.",
            w[0]
        ));
    }
    g.tune_h2.max_frame_size = Some(n as u32);
    Ok(())
}

fn no_websocket(g: &mut Global, w: &[String], _: &Span, _: &mut Vec<Diag>) -> R {
    if let Some(x) = w.get(1) {
        return Err(format!(
            "'{}' cannot handle unexpected argument '{x}'.",
            w[0]
        ));
    }
    g.tune_h2.websocket = false;
    Ok(())
}

/// The `tune.h2.*` keywords and `h2-workaround-bogus-websocket-clients`.
pub static KEYWORDS: &[GlobalKeyword] = &[
    sup(
        "h2-workaround-bogus-websocket-clients",
        no_websocket,
        "do not announce WebSocket over HTTP/2 (RFC 8441) to clients",
    ),
    sup(
        "tune.h2.header-table-size",
        header_table_size,
        "HTTP/2 HPACK dynamic table size (default 4096)",
    ),
    sup(
        "tune.h2.initial-window-size",
        initial_window_size,
        "HTTP/2 stream window announced to clients (default 65535)",
    ),
    sup(
        "tune.h2.max-concurrent-streams",
        max_concurrent_streams,
        "HTTP/2 streams per connection (default 100, 0: no limit)",
    ),
    sup(
        "tune.h2.max-frame-size",
        max_frame_size,
        "largest HTTP/2 frame accepted (default: 16384 or tune.bufsize)",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Global, String> {
        let w: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
        let kw = KEYWORDS.iter().find(|k| k.name == w[0]).unwrap();
        let mut g = Global::default();
        (kw.parse.unwrap())(&mut g, &w, &Span::new("t.cfg", 1), &mut Vec::new())?;
        Ok(g)
    }

    #[test]
    fn values_and_messages_are_haproxys() {
        assert_eq!(Global::default().tune_h2.max_concurrent_streams, 100);
        let g = parse("tune.h2.max-concurrent-streams 0").unwrap();
        assert_eq!(g.tune_h2.max_concurrent_streams, 0);
        let g = parse("tune.h2.initial-window-size 1048576").unwrap();
        assert_eq!(g.tune_h2.initial_window_size, 1048576);
        let g = parse("tune.h2.max-frame-size 32768").unwrap();
        assert_eq!(g.tune_h2.max_frame_size, Some(32768));
        for (line, msg) in [
            (
                "tune.h2.header-table-size 100",
                "'tune.h2.header-table-size' expects a numeric value between 4096 and 65536.",
            ),
            (
                "tune.h2.initial-window-size -1",
                "'tune.h2.initial-window-size' expects a positive numeric value.",
            ),
            (
                "tune.h2.max-frame-size abc",
                "'tune.h2.max-frame-size' expects a numeric value between 16384 and 16777215.",
            ),
            (
                "tune.h2.initial-window-size 1 2",
                "'tune.h2.initial-window-size' cannot handle unexpected argument '2'.",
            ),
        ] {
            assert_eq!(parse(line).unwrap_err(), msg, "{line}");
        }
    }
}
