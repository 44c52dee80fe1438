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
    use super::{Rdp, rdp};

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
