//! Why the front door refuses a PostgreSQL client, and the one place that turns each
//! reason into the `ErrorResponse` the client prints (SQLSTATE and message) and the
//! word the audit log records.

use super::wire;

/// Why a session was refused (or ended by gatehouse).
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The password is not a token any named `identity` section accepts (`28P01`).
    #[error("password authentication failed for user \"{user}\": {why}")]
    InvalidToken {
        /// The user the client asked for.
        user: String,
        /// What was wrong with the token.
        why: String,
    },
    /// A `reject` rule matched (`28000`).
    #[error("access to the database is not allowed for this identity")]
    NotAllowed,
    /// No `set-credentials` rule matched (`28000`).
    #[error("no credentials are configured for this identity")]
    NoCredentials,
    /// A token in cleartext from a non-loopback client on a bind without `ssl` (`28000`).
    #[error(
        "gatehouse accepts tokens in cleartext only from loopback clients: connect with sslmode=require"
    )]
    Cleartext,
    /// No backend, or no server could be reached (`08006`).
    #[error("no server available for this connection")]
    NoServer,
    /// The server refused gatehouse's login (`08006`, its own message appended).
    #[error("gatehouse could not log in to server {server}: {why}")]
    ServerLogin {
        /// The server.
        server: String,
        /// What it said.
        why: String,
    },
    /// The server refused the session for a reason of its own that is not about
    /// gatehouse's login (e.g. `3D000`, no such database): its code and message.
    #[error("{message}")]
    Server {
        /// Its SQLSTATE.
        code: String,
        /// Its message.
        message: String,
    },
    /// The proxy is stopping (`57P01`).
    #[error("terminating connection: the proxy is shutting down")]
    ShuttingDown,
    /// The session's server was marked down (`on-marked-down shutdown-sessions`), or
    /// an active server came up (`on-marked-up shutdown-backup-sessions`): `57P01`.
    #[error(
        "terminating connection: server {server} {}",
        if *up { "is a backup and an active server is up" } else { "is down" }
    )]
    ServerShutdown {
        /// The server, `backend/server`.
        server: String,
        /// An active server came up (the session was on a backup).
        up: bool,
    },
    /// A malformed or unsupported message (`08P01`).
    #[error("{0}")]
    Protocol(#[from] wire::WireError),
    /// GSSAPI encryption was required by the client (`08P01`).
    #[error("unsupported frontend protocol")]
    Unsupported,
}

impl Refusal {
    /// The SQLSTATE the client is told.
    pub fn sqlstate(&self) -> &str {
        match self {
            Refusal::Server { code, .. } => code,
            Refusal::InvalidToken { .. } => "28P01",
            Refusal::NotAllowed | Refusal::NoCredentials | Refusal::Cleartext => "28000",
            Refusal::NoServer | Refusal::ServerLogin { .. } => "08006",
            Refusal::ShuttingDown | Refusal::ServerShutdown { .. } => "57P01",
            Refusal::Protocol(_) | Refusal::Unsupported => "08P01",
        }
    }

    /// The `ErrorResponse` to send.
    pub fn response(&self) -> Vec<u8> {
        wire::error_response(self.sqlstate(), &self.to_string())
    }

    /// The audit log's `decision` word.
    pub fn decision(&self) -> &'static str {
        match self {
            Refusal::InvalidToken { .. } => "challenge",
            Refusal::NotAllowed | Refusal::NoCredentials | Refusal::Cleartext => "deny",
            _ => "error",
        }
    }
}
