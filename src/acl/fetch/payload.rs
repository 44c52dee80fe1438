//! Payload fetches (configuration.txt 7.3.5): the bytes waiting in the request buffer
//! (`req.len`, `req.payload`) or the response buffer (`res.len`, `res.payload`) of a
//! `mode tcp` stream while its content rules inspect it, and `wait_end`. Their values
//! may change as more data arrives: a condition they make false waits for the end of
//! the inspect delay, as in HAProxy.

use super::MayChange::{Always, WhenMissing};
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
