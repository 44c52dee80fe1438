//! Fetches that read the transaction's state rather than the message: `http_auth(UL)`
//! and `http_auth_group(UL)` (credentials checked against a userlist by the
//! [`SampleSource`]).

use super::fetch::{ArgType, FetchDef, FetchKind, Sample, SmpType};
use super::{SampleSource, Visibility};

/// Which transaction fetch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TxnFetch {
    /// `http_auth(UL)`: true when the credentials are valid.
    HttpAuth,
    /// `http_auth_group(UL)`: in an ACL, the user's groups (matched against the
    /// patterns); in a sample expression, the user's name (as HAProxy).
    HttpAuthGroup,
}

const S: &[ArgType] = &[ArgType::Str];

/// `http_auth(<userlist>)`.
pub(crate) const HTTP_AUTH: FetchDef = FetchDef {
    name: "http_auth",
    kind: FetchKind::Txn(TxnFetch::HttpAuth),
    out: SmpType::Bool,
    vis: Visibility::Request,
    args: S,
    min_args: 1,
};

/// `http_auth_group(<userlist>)`.
pub(crate) const HTTP_AUTH_GROUP: FetchDef = FetchDef {
    name: "http_auth_group",
    kind: FetchKind::Txn(TxnFetch::HttpAuthGroup),
    out: SmpType::Str,
    vis: Visibility::Request,
    args: S,
    min_args: 1,
};

impl TxnFetch {
    /// Runs the fetch: `name` is its first argument; `occ` is -1 in a sample
    /// expression (see `FetchCall::default_last`).
    pub(crate) fn for_each(
        self,
        name: &str,
        occ: i64,
        src: &dyn SampleSource,
        each: &mut dyn FnMut(Sample<'_>) -> bool,
    ) -> bool {
        match self {
            TxnFetch::HttpAuth => {
                let ok = src.http_auth(name, false, &mut |_| true);
                each(Sample::Bool(ok))
            }
            TxnFetch::HttpAuthGroup => src.http_auth(name, occ >= 0, &mut |v| each(Sample::Str(v))),
        }
    }
}
