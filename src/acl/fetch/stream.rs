//! Fetches of the stream's own state rather than the message (configuration.txt
//! 7.3.2): `unique-id`, the request's id from `unique-id-format`, and `var(NAME)`,
//! a variable of scope `txn`, `req` or `res` (kept as a string).

use super::row::*;
use super::{Each, FetchCall, FetchDef, Sample};
use crate::acl::SampleSource;

/// The fetches of this family.
pub(super) static FETCHES: &[FetchDef] = &[
    FetchDef::new("unique-id", SmpType::Str, T, unique_id),
    FetchDef::new("var", SmpType::Str, T, var).args(S2, 1),
];

const S2: &[super::ArgType] = &[S, S];

/// `var(<name>[,<default>])`: the variable's value; the default (else nothing) when
/// it is not set.
fn var(call: &FetchCall, src: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    let mut found = false;
    let hit = src.var(&call.name, &mut |v| {
        found = true;
        each(Sample::Str(v))
    });
    match &call.arg2 {
        Some(d) if !found => each(Sample::Str(d.as_bytes())),
        _ => hit,
    }
}

/// `unique-id`: the request's id, generated on first use; nothing when the frontend
/// has no `unique-id-format`.
fn unique_id(_: &FetchCall, src: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    match src.unique_id() {
        Some(id) => each(Sample::Str(id)),
        None => false,
    }
}
