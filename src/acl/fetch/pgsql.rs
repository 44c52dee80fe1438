//! Fetches of the PostgreSQL front door (`bind … proto pgsql`, gatehouse only):
//! `pgsql_user`, `pgsql_database` (the user's name when the client named none, as
//! PostgreSQL does), `pgsql_param(NAME)` (any startup parameter: `application_name`,
//! `options`, …) from the client's StartupMessage, and `pgsql_credentials`, the
//! `credentials` section `set-credentials` picked. Empty elsewhere.

use super::row::*;
use super::{Each, FetchCall, FetchDef, Sample};
use crate::acl::SampleSource;

const S1: &[super::ArgType] = &[S];

/// The fetches of this family.
pub(super) static FETCHES: &[FetchDef] = &[
    FetchDef::new("pgsql_user", SmpType::Str, R, user),
    FetchDef::new("pgsql_database", SmpType::Str, R, database),
    FetchDef::new("pgsql_param", SmpType::Str, R, param).args(S1, 1),
    FetchDef::new("pgsql_credentials", SmpType::Str, R, credentials),
];

fn user(_: &FetchCall, src: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    src.pgsql_param("user")
        .is_some_and(|v| each(Sample::Str(v)))
}

fn database(_: &FetchCall, src: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    src.pgsql_param("database")
        .or_else(|| src.pgsql_param("user"))
        .is_some_and(|v| each(Sample::Str(v)))
}

fn param(call: &FetchCall, src: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    src.pgsql_param(&call.name)
        .is_some_and(|v| each(Sample::Str(v)))
}

fn credentials(_: &FetchCall, src: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    src.pgsql_credentials()
        .is_some_and(|v| each(Sample::Str(v.as_bytes())))
}
