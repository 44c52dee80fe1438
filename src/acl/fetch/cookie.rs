//! Request cookie fetches (configuration.txt 7.3.6): `req.cook()`/`cook()`,
//! `req.cook_cnt()`/`cook_cnt()`, `req.cook_val()`/`cook_val()`, and the derived ACL
//! keywords `cook_beg` … `cook_sub`.

use super::row::*;
use super::{Each, FetchCall, FetchDef, Sample, occurrence, str_to_int, trim};
use crate::acl::SampleSource;

const S1: &[super::ArgType] = &[S];

/// The fetches of this family.
pub(super) static FETCHES: &[FetchDef] = &[
    FetchDef::new("req.cook", SmpType::Str, R, cook)
        .args(S1, 0)
        .header(),
    FetchDef::new("cook", SmpType::Str, R, cook)
        .args(S1, 0)
        .header()
        .derived(),
    FetchDef::new("req.cook_cnt", SmpType::Int, R, cook_cnt).args(S1, 0),
    FetchDef::new("cook_cnt", SmpType::Int, R, cook_cnt).args(S1, 0),
    FetchDef::new("req.cook_val", SmpType::Int, R, cook_val)
        .args(S1, 0)
        .header(),
    FetchDef::new("cook_val", SmpType::Int, R, cook_val)
        .args(S1, 0)
        .header(),
];

/// Every value of the cookies named `name` (any cookie when empty) in the request's
/// `Cookie` headers, in order, until `each` returns true.
fn all_values(name: &str, src: &dyn SampleSource, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    let name = name.as_bytes();
    src.req_header("cookie", &mut |line| {
        line.split(|&c| c == b';').any(|item| {
            let item = trim(item);
            let (n, v) = match memchr::memchr(b'=', item) {
                Some(eq) => (trim(&item[..eq]), trim(&item[eq + 1..])),
                None => return false,
            };
            (name.is_empty() || n == name) && each(v)
        })
    })
}

/// The selected values: all in ACLs, the last one in sample expressions (the first one
/// when no name is given, as HAProxy).
fn values(call: &FetchCall, src: &dyn SampleSource, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    let occ = if call.name.is_empty() && call.occ < 0 {
        1
    } else {
        call.occ
    };
    occurrence(occ, &|e| all_values(&call.name, src, e), each)
}

fn cook(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    values(call, s, &mut |v| each(Sample::Str(v)))
}

fn cook_val(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    values(call, s, &mut |v| match str_to_int(v) {
        Some(n) => each(Sample::Int(n)),
        None => false,
    })
}

fn cook_cnt(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    let mut n = 0i64;
    all_values(&call.name, s, &mut |_| {
        n += 1;
        false
    });
    each(Sample::Int(n))
}
