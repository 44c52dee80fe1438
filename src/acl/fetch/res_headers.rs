//! Response header and cookie fetches (configuration.txt 7.3.6), for `http-response`
//! rules: `res.hdr()`/`shdr()` (and `shdr_beg` … `shdr_sub`), `res.fhdr()`,
//! `res.hdr_cnt()`/`shdr_cnt()`, `res.fhdr_cnt()`, `res.hdr_ip()`/`shdr_ip()`,
//! `res.hdr_val()`/`shdr_val()`, `res.hdr_names()` and `req.hdr_names()`, and the
//! `Set-Cookie` fetches `res.cook()`/`scook()` (and `scook_beg` … `scook_sub`),
//! `res.cook_cnt()`/`scook_cnt()`, `res.cook_val()`/`scook_val()`. As in HAProxy 2.6,
//! the `res.` names have no ACL derivatives (`res.hdr_beg` is unknown there, whatever
//! its manual says).

use super::headers::{self, split_values};
use super::row::*;
use super::{Each, FetchCall, FetchDef, Sample, occurrence, str_to_int, trim};
use crate::acl::SampleSource;

const SI: &[super::ArgType] = &[S, I];
const S1: &[super::ArgType] = &[S];

/// The fetches of this family.
pub(super) static FETCHES: &[FetchDef] = &[
    FetchDef::new("res.hdr", SmpType::Str, P, hdr)
        .args(SI, 0)
        .header(),
    FetchDef::new("shdr", SmpType::Str, P, hdr)
        .args(SI, 0)
        .header()
        .derived(),
    FetchDef::new("res.fhdr", SmpType::Str, P, fhdr)
        .args(SI, 0)
        .header(),
    FetchDef::new("res.hdr_cnt", SmpType::Int, P, hdr_cnt).args(S1, 0),
    FetchDef::new("shdr_cnt", SmpType::Int, P, hdr_cnt).args(S1, 0),
    FetchDef::new("res.fhdr_cnt", SmpType::Int, P, fhdr_cnt).args(S1, 0),
    FetchDef::new("res.hdr_ip", SmpType::Ip, P, hdr_ip)
        .args(SI, 0)
        .header(),
    FetchDef::new("shdr_ip", SmpType::Ip, P, hdr_ip)
        .args(SI, 0)
        .header(),
    FetchDef::new("res.hdr_val", SmpType::Int, P, hdr_val)
        .args(SI, 0)
        .header(),
    FetchDef::new("shdr_val", SmpType::Int, P, hdr_val)
        .args(SI, 0)
        .header(),
    FetchDef::new("res.hdr_names", SmpType::Str, P, res_hdr_names).args(S1, 0),
    FetchDef::new("req.hdr_names", SmpType::Str, R, req_hdr_names).args(S1, 0),
    FetchDef::new("res.cook", SmpType::Str, P, cook)
        .args(S1, 0)
        .header(),
    FetchDef::new("scook", SmpType::Str, P, cook)
        .args(S1, 0)
        .header()
        .derived(),
    FetchDef::new("res.cook_cnt", SmpType::Int, P, cook_cnt).args(S1, 0),
    FetchDef::new("scook_cnt", SmpType::Int, P, cook_cnt).args(S1, 0),
    FetchDef::new("res.cook_val", SmpType::Int, P, cook_val)
        .args(S1, 0)
        .header(),
    FetchDef::new("scook_val", SmpType::Int, P, cook_val)
        .args(S1, 0)
        .header(),
];

/// Every value of response header `name` (all headers when empty), split at commas
/// when `split`, in order, until `each` returns true.
fn raw_values(
    name: &str,
    src: &dyn SampleSource,
    split: bool,
    each: &mut dyn FnMut(&[u8]) -> bool,
) -> bool {
    let name = name.as_bytes();
    src.res_headers(&mut |n, v| {
        if !(name.is_empty() || n.eq_ignore_ascii_case(name)) {
            return false;
        }
        if split {
            split_values(v, &mut *each)
        } else {
            each(trim(v))
        }
    })
}

fn hdr(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    headers::str_of(raw_values, call, s, true, each)
}

fn fhdr(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    headers::str_of(raw_values, call, s, false, each)
}

fn hdr_ip(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    headers::ip_of(raw_values, call, s, each)
}

fn hdr_val(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    headers::int_of(raw_values, call, s, each)
}

fn hdr_cnt(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    headers::count_of(raw_values, call, s, true, each)
}

fn fhdr_cnt(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    headers::count_of(raw_values, call, s, false, each)
}

/// A callback receiving header names and values, stopping when it returns true.
type Pairs<'a> = &'a mut dyn FnMut(&[u8], &[u8]) -> bool;

/// The header names in order, lower case, joined by the delimiter (`,` by default),
/// built in the reused fetch buffer.
fn names(call: &FetchCall, each: &mut Each<'_>, all: &dyn Fn(Pairs<'_>) -> bool) -> bool {
    let delim = if call.name.is_empty() {
        b","
    } else {
        &call.name.as_bytes()[..1]
    };
    super::with_scratch(|buf| {
        all(&mut |n, _| {
            if !buf.is_empty() {
                buf.extend_from_slice(delim);
            }
            buf.extend(n.iter().map(u8::to_ascii_lowercase));
            false
        });
        each(Sample::Str(buf))
    })
}

fn res_hdr_names(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    names(call, each, &|e| s.res_headers(e))
}

fn req_hdr_names(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    names(call, each, &|e| s.req_headers(e))
}

/// The value of every `Set-Cookie` header's cookie named `name`, as HAProxy's
/// `http_extract_cookie_value()` reads a response: an empty name takes every
/// `attr=value` pair of the header (attributes included), a name only the leading
/// pairs that bear it; pairs without `=` and `$` attributes are skipped.
fn cookies(name: &str, src: &dyn SampleSource, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    let name = name.as_bytes();
    src.res_headers(&mut |n, v| {
        if !n.eq_ignore_ascii_case(b"set-cookie") {
            return false;
        }
        for attr in v.split(|&c| c == b';') {
            let attr = trim(attr);
            let Some(eq) = memchr::memchr(b'=', attr) else {
                continue;
            };
            if attr.starts_with(b"$") {
                continue;
            }
            let (k, val) = (trim(&attr[..eq]), trim(&attr[eq + 1..]));
            if !(name.is_empty() || k == name) {
                break;
            }
            if each(val) {
                return true;
            }
        }
        false
    })
}

fn cookie_values(
    call: &FetchCall,
    src: &dyn SampleSource,
    each: &mut dyn FnMut(&[u8]) -> bool,
) -> bool {
    let occ = if call.name.is_empty() && call.occ < 0 {
        1
    } else {
        call.occ
    };
    occurrence(occ, &|e| cookies(&call.name, src, e), each)
}

fn cook(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    cookie_values(call, s, &mut |v| each(Sample::Str(v)))
}

fn cook_val(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    cookie_values(call, s, &mut |v| match str_to_int(v) {
        Some(n) => each(Sample::Int(n)),
        None => false,
    })
}

fn cook_cnt(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    let mut n = 0i64;
    cookies(&call.name, s, &mut |_| {
        n += 1;
        false
    });
    each(Sample::Int(n))
}
