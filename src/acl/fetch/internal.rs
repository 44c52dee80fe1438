//! Internal-state fetches (configuration.txt 7.3.2): constants, and the names and live
//! state of the proxies a request goes through.

use super::row::*;
use super::{Each, FetchCall, FetchDef, Sample};
use crate::acl::SampleSource;

/// The fetches of this family.
pub(super) static FETCHES: &[FetchDef] = &[
    FetchDef::new("always_true", SmpType::Bool, C, always_true),
    FetchDef::new("always_false", SmpType::Bool, C, always_false),
    FetchDef::new("str", SmpType::Str, C, str_const).args(&[S], 1),
];

/// `str(<string>)`: the constant string.
fn str_const(call: &FetchCall, _: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    each(Sample::Str(call.name.as_bytes()))
}

fn always_true(_: &FetchCall, _: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    each(Sample::Bool(true))
}

fn always_false(_: &FetchCall, _: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    each(Sample::Bool(false))
}
