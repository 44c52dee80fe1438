//! Request header fetches (configuration.txt 7.3.6): `req.hdr()`/`hdr()`,
//! `req.fhdr()`, `req.hdr_cnt()`, `req.fhdr_cnt()`, `req.hdr_ip()`, `req.hdr_val()`.

use super::row::*;
use super::{Each, FetchCall, FetchDef, Sample, occurrence, str_to_int, trim};
use crate::acl::SampleSource;

const SI: &[super::ArgType] = &[S, I];
const S1: &[super::ArgType] = &[S];

/// The fetches of this family.
pub(super) static FETCHES: &[FetchDef] = &[
    FetchDef::new("req.hdr", SmpType::Str, R, hdr)
        .args(SI, 0)
        .header(),
    FetchDef::new("hdr", SmpType::Str, R, hdr)
        .args(SI, 0)
        .header()
        .derived(),
    FetchDef::new("req.fhdr", SmpType::Str, R, fhdr)
        .args(SI, 0)
        .header(),
    FetchDef::new("req.hdr_cnt", SmpType::Int, R, hdr_cnt).args(S1, 0),
    FetchDef::new("hdr_cnt", SmpType::Int, R, hdr_cnt).args(S1, 0),
    FetchDef::new("req.fhdr_cnt", SmpType::Int, R, fhdr_cnt).args(S1, 0),
    FetchDef::new("req.hdr_ip", SmpType::Ip, R, hdr_ip)
        .args(SI, 0)
        .header(),
    FetchDef::new("hdr_ip", SmpType::Ip, R, hdr_ip)
        .args(SI, 0)
        .header(),
    FetchDef::new("req.hdr_val", SmpType::Int, R, hdr_val)
        .args(SI, 0)
        .header(),
    FetchDef::new("hdr_val", SmpType::Int, R, hdr_val)
        .args(SI, 0)
        .header(),
];

/// Every value of the named request header (all headers when the name is empty), split
/// at commas when `split`, in order, until `each` returns true.
pub(super) fn raw_values(
    name: &str,
    src: &dyn SampleSource,
    split: bool,
    each: &mut dyn FnMut(&[u8]) -> bool,
) -> bool {
    let mut line = |v: &[u8]| -> bool {
        if split {
            split_values(v, &mut *each)
        } else {
            each(trim(v))
        }
    };
    if name.is_empty() {
        src.req_headers(&mut |_, v| line(v))
    } else {
        src.req_header(name, &mut line)
    }
}

/// Reads one message's values of a header by name (`split`: at commas), request or
/// response; the header fetches of both are written once over it.
pub(super) type RawValues =
    fn(&str, &dyn SampleSource, bool, &mut dyn FnMut(&[u8]) -> bool) -> bool;

/// The values of the call's header selected by its occurrence.
fn values_of(
    raw: RawValues,
    call: &FetchCall,
    src: &dyn SampleSource,
    split: bool,
    each: &mut dyn FnMut(&[u8]) -> bool,
) -> bool {
    occurrence(call.occ, &|e| raw(&call.name, src, split, e), each)
}

/// `hdr`/`fhdr` (`split`: full lines or comma-separated values) as strings.
pub(super) fn str_of(
    raw: RawValues,
    call: &FetchCall,
    s: &dyn SampleSource,
    split: bool,
    each: &mut Each<'_>,
) -> bool {
    values_of(raw, call, s, split, &mut |v| each(Sample::Str(v)))
}

/// `hdr_ip`: the values read as addresses.
pub(super) fn ip_of(
    raw: RawValues,
    call: &FetchCall,
    s: &dyn SampleSource,
    each: &mut Each<'_>,
) -> bool {
    values_of(
        raw,
        call,
        s,
        true,
        &mut |v| match crate::acl::net::parse_header_ip(v) {
            Some(ip) => each(Sample::Ip(ip)),
            None => false,
        },
    )
}

/// `hdr_val`: the values read as integers.
pub(super) fn int_of(
    raw: RawValues,
    call: &FetchCall,
    s: &dyn SampleSource,
    each: &mut Each<'_>,
) -> bool {
    values_of(raw, call, s, true, &mut |v| match str_to_int(v) {
        Some(n) => each(Sample::Int(n)),
        None => false,
    })
}

/// `hdr_cnt`/`fhdr_cnt`: how many values there are.
pub(super) fn count_of(
    raw: RawValues,
    call: &FetchCall,
    s: &dyn SampleSource,
    split: bool,
    each: &mut Each<'_>,
) -> bool {
    let mut n = 0i64;
    raw(&call.name, s, split, &mut |_| {
        n += 1;
        false
    });
    each(Sample::Int(n))
}

fn hdr(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    str_of(raw_values, call, s, true, each)
}

fn fhdr(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    str_of(raw_values, call, s, false, each)
}

fn hdr_ip(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    ip_of(raw_values, call, s, each)
}

fn hdr_val(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    int_of(raw_values, call, s, each)
}

fn hdr_cnt(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    count_of(raw_values, call, s, true, each)
}

fn fhdr_cnt(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    count_of(raw_values, call, s, false, each)
}

/// Splits a header value at commas outside double quotes (HAProxy's rule for `hdr()`),
/// trimming each part; stops when `each` returns true.
pub(super) fn split_values(v: &[u8], each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    // Most values (`Host`, `Content-Length`, …) hold one item: no splitting loop then.
    // Short values are scanned by a plain loop (cheaper than memchr's set-up).
    let plain = if v.len() < 32 {
        !v.iter().any(|&c| c == b',' || c == b'"')
    } else {
        memchr::memchr2(b',', b'"', v).is_none()
    };
    if plain {
        return each(trim(v));
    }
    let (mut quoted, mut escaped, mut start) = (false, false, 0);
    for (i, &c) in v.iter().enumerate() {
        if escaped {
            escaped = false;
        } else if quoted {
            match c {
                b'\\' => escaped = true,
                b'"' => quoted = false,
                _ => {}
            }
        } else if c == b'"' {
            quoted = true;
        } else if c == b',' {
            if each(trim(&v[start..i])) {
                return true;
            }
            start = i + 1;
        }
    }
    each(trim(&v[start..]))
}
