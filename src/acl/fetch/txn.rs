//! Fetches that read the transaction's state rather than the message: `http_auth(UL)`
//! and `http_auth_group(UL)` (credentials checked against a userlist by the
//! [`SampleSource`]).

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
