//! Fetches that read the transaction's state rather than the message: `http_auth(UL)`
//! and `http_auth_group(UL)` (credentials checked against a userlist by the
//! [`SampleSource`]), and `http_auth_bearer([<header>])`, the token of a `Bearer`
//! authorization, unchecked (for `jwt_verify` and the JWT converters).

use super::row::*;
use super::{Each, FetchCall, FetchDef, Sample};
use crate::acl::SampleSource;

const S1: &[super::ArgType] = &[S];

/// The fetches of this family.
pub(super) static FETCHES: &[FetchDef] = &[
    FetchDef::new("http_auth", SmpType::Bool, R, http_auth).args(S1, 1),
    // In an ACL it gives the user's groups (matched against the patterns); in a sample
    // expression the user's name, as HAProxy (the "last occurrence" default marks it).
    FetchDef::new("http_auth_group", SmpType::Str, R, http_auth_group)
        .args(S1, 1)
        .header(),
    FetchDef::new("http_auth_bearer", SmpType::Str, R, http_auth_bearer).args(S1, 0),
];

/// `http_auth(<userlist>)`: true when the request's credentials are valid.
fn http_auth(call: &FetchCall, src: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    let ok = src.http_auth(&call.name, false, &mut |_| true);
    each(Sample::Bool(ok))
}

/// `http_auth_group(<userlist>)`.
fn http_auth_group(call: &FetchCall, src: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    src.http_auth(&call.name, call.occ >= 0, &mut |v| each(Sample::Str(v)))
}

/// `http_auth_bearer([<header>])`, as HAProxy 2.6 reads the first value of the header:
/// without a header, `Authorization`'s scheme may be any case-insensitive prefix of
/// `Bearer` that is not one of `Basic` (its `get_http_auth()`); with one, the scheme
/// must be `Bearer` (any case). Spaces, and only spaces, separate the token.
fn http_auth_bearer(call: &FetchCall, src: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    let named = !call.name.is_empty();
    let header = if named { &*call.name } else { "authorization" };
    let mut first: Option<Vec<u8>> = None;
    super::headers::raw_values(header, src, true, &mut |v| {
        first = Some(v.to_vec());
        true
    });
    let Some(v) = first else { return false };
    let token = if named {
        let (scheme, rest) = match v.iter().position(|b| *b == b' ') {
            Some(p) => (&v[..p], &v[p + 1..]),
            None => (&v[..], &b""[..]),
        };
        let rest = &rest[rest.iter().take_while(|b| **b == b' ').count()..];
        if !scheme.eq_ignore_ascii_case(b"bearer") || rest.is_empty() {
            return false;
        }
        rest
    } else {
        let Some(p) = v.iter().position(|b| *b == b' ').filter(|p| *p > 0) else {
            return false;
        };
        let scheme = &v[..p];
        let prefix_of = |word: &[u8]| {
            scheme.len() <= word.len() && scheme.eq_ignore_ascii_case(&word[..scheme.len()])
        };
        if prefix_of(b"Basic") || !prefix_of(b"Bearer") {
            return false;
        }
        let rest = &v[p..];
        &rest[rest.iter().take_while(|b| **b == b' ').count()..]
    };
    each(Sample::Str(token))
}
