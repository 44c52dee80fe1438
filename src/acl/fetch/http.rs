//! HTTP request-line and status fetches (configuration.txt 7.3.6): `method`, `path`,
//! `pathq`, `url`, `query`, `base`, `req.ver`, `url_param()`/`urlp()`, `status`,
//! `req.proto_http`.

use super::row::*;
use super::{Each, FetchCall, FetchDef, Sample, path_of, pathq_of, str_to_int, trim};
use crate::acl::SampleSource;

const SS: &[super::ArgType] = &[S, S];

/// The fetches of this family.
pub(super) static FETCHES: &[FetchDef] = &[
    FetchDef::new("method", SmpType::Str, T, method),
    FetchDef::new("path", SmpType::Str, R, path).derived(),
    FetchDef::new("pathq", SmpType::Str, R, pathq),
    FetchDef::new("url", SmpType::Str, R, url).derived(),
    FetchDef::new("query", SmpType::Str, R, query),
    FetchDef::new("base", SmpType::Str, R, base).derived(),
    FetchDef::new("req.ver", SmpType::Str, R, req_ver),
    FetchDef::new("req_ver", SmpType::Str, R, req_ver),
    FetchDef::new("req.proto_http", SmpType::Bool, R, proto_http),
    FetchDef::new("url_param", SmpType::Str, R, url_param).args(SS, 0),
    FetchDef::new("urlp", SmpType::Str, R, url_param)
        .args(SS, 0)
        .derived(),
    FetchDef::new("urlp_val", SmpType::Int, R, urlp_val).args(SS, 0),
    FetchDef::new("status", SmpType::Int, P, status),
];

fn method(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.method().is_some_and(|m| each(Sample::Str(m)))
}

fn url(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.uri().is_some_and(|u| each(Sample::Str(u)))
}

fn path(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.uri()
        .and_then(path_of)
        .is_some_and(|p| each(Sample::Str(p)))
}

fn pathq(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.uri()
        .and_then(pathq_of)
        .is_some_and(|p| each(Sample::Str(p)))
}

fn query(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.uri()
        .and_then(|u| memchr::memchr(b'?', u).map(|i| &u[i + 1..]))
        .is_some_and(|q| each(Sample::Str(q)))
}

fn req_ver(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.version().is_some_and(|v| each(Sample::Str(v)))
}

/// `req.proto_http`: true once an HTTP request is parsed.
fn proto_http(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    each(Sample::Bool(s.method().is_some()))
}

fn status(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.status().is_some_and(|st| each(Sample::Int(st.into())))
}

/// `base`: the first Host header followed by the path, built in a reused buffer.
fn base(_: &FetchCall, src: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    let Some(path) = src.uri().and_then(path_of) else {
        return false;
    };
    super::with_scratch(|buf| {
        let mut host = false;
        src.req_header("host", &mut |h| {
            let h = trim(h);
            if !h.is_empty() {
                buf.extend_from_slice(h);
                buf.extend_from_slice(path);
                host = true;
            }
            true
        });
        if host {
            each(Sample::Str(buf))
        } else {
            each(Sample::Str(path))
        }
    })
}

/// The values of the URL parameters named like the first argument (any parameter
/// when it is empty).
fn params(call: &FetchCall, src: &dyn SampleSource, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    let Some(uri) = src.uri() else { return false };
    let delim = call.delim;
    let start = uri.iter().position(|&c| c == b'?' || Some(c) == delim);
    let Some(start) = start else { return false };
    let name = call.name.as_bytes();
    uri[start + 1..]
        .split(|&c| c == b'&' || c == b';' || Some(c) == delim)
        .any(|param| {
            let Some(eq) = memchr::memchr(b'=', param) else {
                return false;
            };
            (name.is_empty() || &param[..eq] == name) && each(&param[eq + 1..])
        })
}

fn url_param(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    params(call, s, &mut |v| each(Sample::Str(v)))
}

fn urlp_val(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    params(call, s, &mut |v| match str_to_int(v) {
        Some(n) => each(Sample::Int(n)),
        None => false,
    })
}
