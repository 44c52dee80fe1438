//! What a frontend's PostgreSQL front door is configured with (`bind … proto pgsql`,
//! `option pgsql-insecure-auth`, `option pgsql-audit-statements`; gatehouse only).

/// The statement text kept per audit line when `option pgsql-audit-statements` gives
/// no `max-length`.
pub const DEFAULT_AUDIT_STATEMENT_LENGTH: usize = 1024;

/// The `option pgsql-*` settings of a proxy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PgsqlOptions {
    /// `option pgsql-insecure-auth`: tokens are accepted in cleartext from any client on
    /// a bind without `ssl` (by default only from loopback clients).
    pub insecure_auth: bool,
    /// `option pgsql-audit-statements [max-length N]`: each `Query` and `Parse` adds its
    /// statement text, cut at this many bytes, to the audit log.
    pub audit_statements: Option<usize>,
}
