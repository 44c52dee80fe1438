//! HTTP body fetches (configuration.txt 7.3.6): `req.body`, `req.body_len`,
//! `req.body_size`, `req.body_param([NAME])`, and `res.body`, `res.body_len`,
//! `res.body_size`. They read the body the rules waited for (`http-request
//! wait-for-body`, `option http-buffer-request`, `http-response wait-for-body`): up to
//! the buffer's size, possibly less than the whole body.

use super::row::*;
use super::{Each, FetchCall, FetchDef, Sample};
use crate::acl::SampleSource;

/// Whether the fetch `name` reads the request body.
pub(super) fn reads_request_body(name: &str) -> bool {
    name.starts_with("req.body")
}

/// The fetches of this family.
pub(super) static FETCHES: &[FetchDef] = &[
    FetchDef::new("req.body", SmpType::Str, R, body),
    FetchDef::new("req.body_len", SmpType::Int, R, body_len),
    FetchDef::new("req.body_size", SmpType::Int, R, body_size),
    FetchDef::new("req.body_param", SmpType::Str, R, body_param).args(&[S], 0),
    FetchDef::new("res.body", SmpType::Str, P, res_body),
    FetchDef::new("res.body_len", SmpType::Int, P, res_body_len),
    FetchDef::new("res.body_size", SmpType::Int, P, res_body_size),
];

fn res_body(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.res_body().is_some_and(|b| each(Sample::Str(b.data)))
}

fn res_body_len(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.res_body()
        .is_some_and(|b| each(Sample::Int(b.data.len() as i64)))
}

/// As `req.body_size`: the announced length, else the bytes held.
fn res_body_size(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.res_body().is_some_and(|b| {
        let n = b.declared.unwrap_or(b.data.len() as u64);
        each(Sample::Int(i64::try_from(n).unwrap_or(i64::MAX)))
    })
}

fn body(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.req_body().is_some_and(|b| each(Sample::Str(b.data)))
}

fn body_len(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.req_body()
        .is_some_and(|b| each(Sample::Int(b.data.len() as i64)))
}

/// The announced length (`Content-Length`), else the bytes held (chunked), as
/// HAProxy's `smp_fetch_body_size()`.
fn body_size(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.req_body().is_some_and(|b| {
        let n = b.declared.unwrap_or(b.data.len() as u64);
        each(Sample::Int(i64::try_from(n).unwrap_or(i64::MAX)))
    })
}

/// The values of the `&`-separated `name=value` parameters of a url-encoded body
/// named like the argument (any one without it), not decoded, in order.
fn body_param(c: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    let Some(b) = s.req_body() else { return false };
    let name = c.name.as_bytes();
    b.data.split(|&ch| ch == b'&').any(|param| {
        let (n, v) = match memchr::memchr(b'=', param) {
            Some(eq) => (&param[..eq], &param[eq + 1..]),
            None => (param, &param[param.len()..]),
        };
        (name.is_empty() || n == name) && each(Sample::Str(v))
    })
}
