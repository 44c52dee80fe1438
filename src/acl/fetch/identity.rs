//! Fetches about the identity that authenticated the request (`http-request
//! authenticate`, gatehouse only): `identity_sub`, `identity_email`, `identity_groups`
//! (one value per group), `identity_claim(NAME)` (dotted path into nested claims),
//! `identity_valid`, `identity_method`, `identity_name`. Empty when no identity did.

use super::row::*;
use super::{Each, FetchCall, FetchDef, Sample};
use crate::acl::SampleSource;

const S1: &[super::ArgType] = &[S];

/// The fetches of this family.
pub(super) static FETCHES: &[FetchDef] = &[
    FetchDef::new("identity_sub", SmpType::Str, R, sub),
    FetchDef::new("identity_email", SmpType::Str, R, email),
    FetchDef::new("identity_groups", SmpType::Str, R, groups),
    FetchDef::new("identity_claim", SmpType::Str, R, claim).args(S1, 1),
    FetchDef::new("identity_valid", SmpType::Bool, R, valid),
    FetchDef::new("identity_method", SmpType::Str, R, method),
    FetchDef::new("identity_name", SmpType::Str, R, name),
];

fn sub(_: &FetchCall, src: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    let Some(id) = src.identity() else {
        return false;
    };
    id.sub().is_some_and(|v| each(Sample::Str(v.as_bytes())))
}

fn email(_: &FetchCall, src: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    let Some(id) = src.identity() else {
        return false;
    };
    id.email().is_some_and(|v| each(Sample::Str(v.as_bytes())))
}

fn groups(_: &FetchCall, src: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    let Some(id) = src.identity() else {
        return false;
    };
    id.groups(&mut |g| each(Sample::Str(g)))
}

fn claim(call: &FetchCall, src: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    let Some(id) = src.identity() else {
        return false;
    };
    id.claim(&call.name, &mut |v| each(Sample::Str(v)))
}

fn valid(_: &FetchCall, src: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    each(Sample::Bool(src.identity().is_some()))
}

fn method(_: &FetchCall, src: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    let Some(id) = src.identity() else {
        return false;
    };
    each(Sample::Str(id.method.name().as_bytes()))
}

fn name(_: &FetchCall, src: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    let Some(id) = src.identity() else {
        return false;
    };
    each(Sample::Str(id.provider.as_bytes()))
}
