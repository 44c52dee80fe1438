//! The `identity` section (gatehouse only): who may call, as an OpenID Connect provider
//! or a static key set says.

use crate::config::span::Span;
use std::path::PathBuf;
use std::time::Duration;

/// Where `audit-log` writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditTarget {
    /// A file, appended to.
    File(PathBuf),
    /// The process's standard output.
    Stdout,
    /// The local syslog socket (`/dev/log`).
    Syslog,
}

/// One `identity NAME` section.
#[derive(Clone, Debug, PartialEq)]
pub struct IdentitySection {
    /// The section's name (`http-request authenticate NAME`, `identity_name`).
    pub name: String,
    /// The section line.
    pub span: Span,
    /// `issuer URL`: the OpenID provider (discovery at `/.well-known/openid-configuration`).
    pub issuer: Option<String>,
    /// `client-id`.
    pub client_id: Option<String>,
    /// `client-secret`.
    pub client_secret: Option<String>,
    /// `audience`: the accepted `aud` values of bearer tokens (default: the client id).
    pub audiences: Vec<String>,
    /// `scopes` asked for at login (default `openid email profile`).
    pub scopes: Vec<String>,
    /// `groups-claim` (default `groups`).
    pub groups_claim: String,
    /// `callback-path` (default `/.gatehouse/callback`).
    pub callback_path: String,
    /// `logout-path` (default `/.gatehouse/logout`).
    pub logout_path: String,
    /// `cookie-name` (default `gh_session`).
    pub cookie_name: String,
    /// `cookie-secret` lines, in order: the first seals new cookies.
    pub cookie_secrets: Vec<String>,
    /// `session-lifetime` (default 8h).
    pub session_lifetime: Duration,
    /// `allowed-algs` (default `RS256 ES256 EdDSA`).
    pub allowed_algs: Vec<String>,
    /// `clock-skew` (default 60s).
    pub clock_skew: Duration,
    /// `jwks-file`: the key set, read at load instead of discovery.
    pub jwks_file: Option<PathBuf>,
    /// `audit-log FILE|stdout|syslog`.
    pub audit_log: Option<AuditTarget>,
    /// `audit-required`: refuse (503) what cannot be audited.
    pub audit_required: bool,
    /// `keys-refresh` (default 5m): how often the provider's key set is fetched again.
    pub keys_refresh: Duration,
    /// `keys-min-interval` (default 10s): the least time between two fetches of the key
    /// set caused by tokens with an unknown `kid`.
    pub keys_min_interval: Duration,
    /// `degraded-start`: start even when the provider cannot be reached (requests that
    /// need identity are refused until its keys are fetched).
    pub degraded_start: bool,
    /// `mtls`: a client certificate verified by the bind (`ssl … ca-file … verify`) is
    /// an identity (`sub` = its subject's CN, `identity_method` = `mtls`).
    pub mtls: bool,
    /// `assertion-header NAME`: the header that carries gatehouse's own signed identity
    /// assertion (a JWT) to servers.
    pub assertion_header: Option<String>,
    /// `assertion-issuer ISS`: the assertion's `iss` (default `urn:gatehouse:HOSTNAME`).
    pub assertion_issuer: Option<String>,
    /// `assertion-key FILE`: the P-256 private key (PEM) that signs assertions (default: one
    /// generated at start, kept across reloads).
    pub assertion_key: Option<PathBuf>,
    /// `assertion-jwks-path P` (default `/.gatehouse/jwks.json`): where the assertion's
    /// public keys are served as a JWKS.
    pub assertion_jwks_path: String,
    /// `backchannel-logout-path P`: where the provider POSTs OIDC back-channel logout
    /// tokens.
    pub backchannel_logout_path: Option<String>,
}

impl IdentitySection {
    /// A section with the documented defaults.
    pub fn new(name: &str, span: Span) -> Self {
        IdentitySection {
            name: name.to_owned(),
            span,
            issuer: None,
            client_id: None,
            client_secret: None,
            audiences: Vec::new(),
            scopes: vec!["openid".into(), "email".into(), "profile".into()],
            groups_claim: "groups".into(),
            callback_path: "/.gatehouse/callback".into(),
            logout_path: "/.gatehouse/logout".into(),
            cookie_name: "gh_session".into(),
            cookie_secrets: Vec::new(),
            session_lifetime: Duration::from_secs(8 * 3600),
            allowed_algs: vec!["RS256".into(), "ES256".into(), "EdDSA".into()],
            clock_skew: Duration::from_secs(60),
            jwks_file: None,
            audit_log: None,
            audit_required: false,
            keys_refresh: Duration::from_secs(300),
            keys_min_interval: Duration::from_secs(10),
            degraded_start: false,
            mtls: false,
            assertion_header: None,
            assertion_issuer: None,
            assertion_key: None,
            assertion_jwks_path: "/.gatehouse/jwks.json".into(),
            backchannel_logout_path: None,
        }
    }
}
