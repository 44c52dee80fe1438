//! Payload fetches (configuration.txt 7.3.5): the bytes waiting in the request buffer
//! (`req.len`, `req.payload`) or the response buffer (`res.len`, `res.payload`) of a
//! `mode tcp` stream while its content rules inspect it, and `wait_end`. Their values
//! may change as more data arrives: a condition they make false waits for the end of
//! the inspect delay, as in HAProxy.

use super::MayChange::{Always, When, WhenMissing};
use super::row::*;
use super::{Each, FetchCall, FetchDef, Sample};
use crate::acl::SampleSource;

/// The fetches of this family.
pub(super) static FETCHES: &[FetchDef] = &[
    FetchDef::new("req.len", SmpType::Int, R, req_len).may_change(Always),
    FetchDef::new("req_len", SmpType::Int, R, req_len).may_change(Always),
    FetchDef::new("req.payload", SmpType::Str, R, req_payload)
        .args(OFF_LEN, 2)
        .may_change(WhenMissing),
    FetchDef::new("res.len", SmpType::Int, P, res_len).may_change(Always),
    FetchDef::new("res.payload", SmpType::Str, P, res_payload)
        .args(OFF_LEN, 2)
        .may_change(WhenMissing),
    FetchDef::new("req.payload_lv", SmpType::Str, R, req_payload_lv)
        .args(LV, 2)
        .check(check_lv)
        .may_change(WhenMissing),
    FetchDef::new("res.payload_lv", SmpType::Str, P, res_payload_lv)
        .args(LV, 2)
        .check(check_lv)
        .may_change(WhenMissing),
    FetchDef::new("wait_end", SmpType::Bool, R, wait_end).may_change(Always),
    FetchDef::new("req.rdp_cookie", SmpType::Str, R, rdp_cookie)
        .args(&[S], 0)
        .may_change(When(rdp_short)),
    FetchDef::new("rdp_cookie", SmpType::Str, R, rdp_cookie)
        .args(&[S], 0)
        .may_change(When(rdp_short)),
    FetchDef::new("req_rdp_cookie", SmpType::Str, R, rdp_cookie)
        .args(&[S], 0)
        .may_change(When(rdp_short)),
    FetchDef::new("req.rdp_cookie_cnt", SmpType::Int, R, rdp_cookie_cnt)
        .args(&[S], 0)
        .may_change(When(rdp_short)),
    FetchDef::new("rdp_cookie_cnt", SmpType::Int, R, rdp_cookie_cnt)
        .args(&[S], 0)
        .may_change(When(rdp_short)),
    FetchDef::new("req_rdp_cookie_cnt", SmpType::Int, R, rdp_cookie_cnt)
        .args(&[S], 0)
        .may_change(When(rdp_short)),
];

/// `(<offset>,<length>)`.
const OFF_LEN: &[super::ArgType] = &[I, I];

fn len(buf: Option<&[u8]>, each: &mut Each<'_>) -> bool {
    buf.is_some_and(|b| each(Sample::Int(b.len() as i64)))
}

/// `<length>` bytes from `<offset>` (0: to the end); nothing while they are not all
/// there (HAProxy's `smp_fetch_payload()`).
fn block(c: &FetchCall, buf: Option<&[u8]>, each: &mut Each<'_>) -> bool {
    let (Some(buf), Some(off), Some(n)) = (buf, c.int_arg(0), c.int_arg(1)) else {
        return false;
    };
    let (Ok(off), Ok(n)) = (usize::try_from(off), usize::try_from(n)) else {
        return false;
    };
    let end = if n == 0 {
        buf.len()
    } else {
        off.saturating_add(n)
    };
    if off > buf.len() || end > buf.len() || (n == 0 && off == buf.len()) {
        return false;
    }
    each(Sample::Str(&buf[off..end]))
}

/// `(<offset1>,<length>[,<offset2>])`.
const LV: &[super::ArgType] = &[I, I, S];

/// `<offset2>` as HAProxy's `val_payload_lv()` reads it: (offset, relative to the end
/// of the length field when signed).
fn offset2(text: &str) -> Result<(i64, bool), String> {
    let relative = text.starts_with(['+', '-']);
    text.parse::<i64>()
        .map(|n| (n, relative))
        .map_err(|_| "payload offset2 is not a number".to_string())
}

/// HAProxy's checks of `payload_lv`'s arguments (`val_payload_lv()`).
fn check_lv(args: &[super::ArgVal]) -> Result<(), String> {
    use super::ArgVal;
    let int = |i: usize| match args.get(i) {
        Some(ArgVal::Int(n)) => *n,
        _ => 0,
    };
    if int(0) < 0 {
        return Err("payload offset1 must be positive".into());
    }
    if int(1) == 0 {
        return Err("payload length must be > 0".into());
    }
    match args.get(2) {
        Some(ArgVal::Str(t)) if !t.is_empty() => {
            let (n, _) = offset2(t)?;
            if int(0).saturating_add(int(1)).saturating_add(n) < 0 {
                return Err("payload offset2 too negative".into());
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The block whose length (`<length>` bytes, big-endian) is at `<offset1>`: from
/// just after that field, or from `<offset2>` (absolute, or relative to there when
/// signed); nothing while too few bytes are there, nor for an empty block or one
/// past `bufsize` (HAProxy's `smp_fetch_payload_lv()`, which only reads its buffer).
/// An absolute `<offset2>` is taken as documented; HAProxy 2.6 halves it (it keeps
/// the value unshifted but reads it as `offset << 1 | relative`).
fn block_lv(c: &FetchCall, buf: Option<&[u8]>, each: &mut Each<'_>) -> bool {
    const BUFSIZE: u64 = 16384;
    let (Some(buf), Some(off), Some(n)) = (buf, c.int_arg(0), c.int_arg(1)) else {
        return false;
    };
    let (Ok(off), Ok(n)) = (u64::try_from(off), u64::try_from(n)) else {
        return false;
    };
    if off + n > buf.len() as u64 {
        return false;
    }
    // HAProxy keeps the size in an unsigned int: only the last 4 bytes count.
    let size = buf[off as usize..(off + n) as usize]
        .iter()
        .fold(0u32, |acc, b| (acc << 8) | u32::from(*b)) as u64;
    let mut start = off + n;
    if let Some(super::ArgVal::Str(t)) = c.args.get(2)
        && !t.is_empty()
        && let Ok((pos, relative)) = offset2(t)
    {
        start = if relative {
            start.wrapping_add(pos as u64) & u64::from(u32::MAX)
        } else {
            pos as u64 & u64::from(u32::MAX)
        };
    }
    if size == 0 || size > BUFSIZE || start + size > BUFSIZE || start + size > buf.len() as u64 {
        return false;
    }
    each(Sample::Str(&buf[start as usize..(start + size) as usize]))
}

fn req_payload_lv(c: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    block_lv(c, s.req_payload(), each)
}

fn res_payload_lv(c: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    block_lv(c, s.res_payload(), each)
}

fn req_len(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    len(s.req_payload(), each)
}

fn req_payload(c: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    block(c, s.req_payload(), each)
}

fn res_len(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    len(s.res_payload(), each)
}

fn res_payload(c: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    block(c, s.res_payload(), each)
}

fn wait_end(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.payload_final() && each(Sample::Bool(true))
}

/// What HAProxy's `fetch_rdp_cookie_name()` finds in an RDP connection request: the
/// `Cookie: NAME=VALUE\r\n` line after the 11-byte TPKT and X.224 headers.
enum Rdp<'a> {
    /// The value of the cookie (`name` empty: of the first one).
    Found(&'a [u8]),
    /// Not an RDP cookie line: final.
    NotCookie,
    /// Cut short: more bytes may make it one.
    TooShort,
}

fn rdp<'a>(buf: &'a [u8], name: &[u8]) -> Rdp<'a> {
    if buf.len() <= 11 {
        return Rdp::TooShort;
    }
    let mut d = &buf[11..];
    if d.len() <= 7 {
        return Rdp::TooShort;
    }
    if !d[..7].eq_ignore_ascii_case(b"Cookie:") {
        return Rdp::NotCookie;
    }
    d = &d[7..];
    while d.first() == Some(&b' ') {
        d = &d[1..];
    }
    if name.is_empty() {
        let Some(eq) = d.iter().position(|&c| matches!(c, b'=' | b'\r' | b'\n')) else {
            return Rdp::TooShort;
        };
        if d[eq] != b'=' {
            return Rdp::NotCookie;
        }
        d = &d[eq + 1..];
    } else {
        if d.len() <= name.len() {
            return Rdp::TooShort;
        }
        if d[name.len()] != b'=' || !d[..name.len()].eq_ignore_ascii_case(name) {
            return Rdp::NotCookie;
        }
        d = &d[name.len() + 1..];
    }
    let end = d.iter().position(|&c| c == b'\r').unwrap_or(d.len());
    if d.len() - end < 2 {
        return Rdp::TooShort;
    }
    if d[end + 1] != b'\n' {
        return Rdp::NotCookie;
    }
    Rdp::Found(&d[..end])
}

/// The value of the RDP cookie `name` (the first cookie when empty, name
/// case-insensitive) of an RDP connection request in `buf`: `None` when there is none
/// or the request is cut short (`balance rdp-cookie`, `persist rdp-cookie`).
pub fn rdp_cookie_value<'a>(buf: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    match rdp(buf, name) {
        Rdp::Found(v) => Some(v),
        _ => None,
    }
}

fn rdp_short(c: &FetchCall, s: &dyn SampleSource) -> bool {
    s.req_payload()
        .is_some_and(|b| matches!(rdp(b, c.name.as_bytes()), Rdp::TooShort))
}

fn rdp_cookie(c: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    match s.req_payload().map(|b| rdp(b, c.name.as_bytes())) {
        Some(Rdp::Found(v)) => each(Sample::Str(v)),
        _ => false,
    }
}

/// 1 when the cookie is there, 0 when the request is no RDP cookie line; nothing
/// while it is cut short (HAProxy's `smp_fetch_rdp_cookie_cnt()`).
fn rdp_cookie_cnt(c: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    match s.req_payload().map(|b| rdp(b, c.name.as_bytes())) {
        Some(Rdp::Found(_)) => each(Sample::Int(1)),
        Some(Rdp::NotCookie) => each(Sample::Int(0)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ArgVal, FetchCall, Sample, find};
    use super::{Rdp, block_lv, check_lv, rdp};

    fn lv(args: Vec<ArgVal>, buf: &[u8]) -> Option<Vec<u8>> {
        let call = FetchCall {
            def: find("req.payload_lv").unwrap(),
            name: "".into(),
            occ: 0,
            delim: None,
            arg2: None,
            args: args.into(),
        };
        let mut out = None;
        block_lv(&call, Some(buf), &mut |s| {
            if let Sample::Str(v) = s {
                out = Some(v.to_vec());
            }
            true
        });
        out
    }

    #[test]
    fn payload_lv_reads_length_prefixed_blocks() {
        use ArgVal::{Int, Str};
        let buf = b"\x00\x03abcxyz";
        assert_eq!(lv(vec![Int(0), Int(2)], buf), Some(b"abc".to_vec()));
        assert_eq!(
            lv(vec![Int(0), Int(2), Str("+3".into())], buf),
            Some(b"xyz".to_vec())
        );
        assert_eq!(
            lv(vec![Int(0), Int(2), Str("4".into())], buf),
            Some(b"cxy".to_vec())
        );
        assert_eq!(
            lv(vec![Int(0), Int(2), Str("-1".into())], buf),
            Some(b"\x03ab".to_vec())
        );
        // Too short yet, an empty block.
        assert_eq!(lv(vec![Int(0), Int(2)], b"\x00\x05abc"), None);
        assert_eq!(lv(vec![Int(0), Int(2)], b"\x00\x00abc"), None);
        assert_eq!(lv(vec![Int(9), Int(2)], buf), None);
        assert!(
            check_lv(&[Int(0), Int(0)])
                .unwrap_err()
                .contains("length must be > 0")
        );
        assert!(
            check_lv(&[Int(-1), Int(1)])
                .unwrap_err()
                .contains("offset1")
        );
        assert!(
            check_lv(&[Int(0), Int(1), Str("x".into())])
                .unwrap_err()
                .contains("not a number")
        );
        assert!(
            check_lv(&[Int(0), Int(1), Str("-2".into())])
                .unwrap_err()
                .contains("too negative")
        );
        assert!(check_lv(&[Int(0), Int(1), Str("+2".into())]).is_ok());
    }

    const REQ: &[u8] =
        b"\x03\x00\x00\x2c\x27\xe0\x00\x00\x00\x00\x00Cookie: mstshash=alice\r\n\x01\x00";

    #[test]
    fn rdp_cookie_reads_as_haproxy() {
        assert!(matches!(rdp(REQ, b"mstshash"), Rdp::Found(b"alice")));
        assert!(matches!(rdp(REQ, b"MSTSHASH"), Rdp::Found(b"alice")));
        assert!(matches!(rdp(REQ, b""), Rdp::Found(b"alice")));
        assert!(matches!(rdp(REQ, b"other"), Rdp::NotCookie));
        assert!(matches!(rdp(&REQ[..30], b"mstshash"), Rdp::TooShort));
        assert!(matches!(rdp(&REQ[..5], b""), Rdp::TooShort));
        assert!(matches!(
            rdp(b"GET / HTTP/1.1\r\nHost: x\r\n", b""),
            Rdp::NotCookie
        ));
    }
}
