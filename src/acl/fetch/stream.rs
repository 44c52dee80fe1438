//! Fetches of the stream's own state rather than the message (configuration.txt
//! 7.3.2): `unique-id`, the request's id from `unique-id-format`.

use super::row::*;
use super::{Each, FetchCall, FetchDef, Sample};
use crate::acl::SampleSource;

/// The fetches of this family.
pub(super) static FETCHES: &[FetchDef] = &[FetchDef::new("unique-id", SmpType::Str, R, unique_id)];

/// `unique-id`: the request's id, generated on first use; nothing when the frontend
/// has no `unique-id-format`.
fn unique_id(_: &FetchCall, src: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    match src.unique_id() {
        Some(id) => each(Sample::Str(id)),
        None => false,
    }
}
