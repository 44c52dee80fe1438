//! What goes wrong while talking to a PostgreSQL server, and the SQLSTATE a PostgreSQL
//! client is told for it.

use std::fmt;

/// An `ErrorResponse` (or `NoticeResponse`) from the server: its fields that matter to a
/// log line or a client.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerError {
    /// `S`: `ERROR`, `FATAL`, `PANIC` (localized in old servers), or `WARNING`, `NOTICE`…
    pub severity: String,
    /// `C`: the SQLSTATE, five characters (e.g. `28P01`).
    pub code: String,
    /// `M`: the primary message.
    pub message: String,
    /// `D`: the detail, if any.
    pub detail: Option<String>,
    /// `H`: the hint, if any.
    pub hint: Option<String>,
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.severity, self.code, self.message)
    }
}

/// Why a login or a query toward a PostgreSQL server failed.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The server answered with an `ErrorResponse`.
    #[error("{0}")]
    Server(ServerError),
    /// Reading or writing the connection failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The server closed the connection.
    #[error("server closed the connection unexpectedly")]
    Closed,
    /// The server sent something the protocol does not allow here.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The server asks for an authentication method gatehouse does not speak
    /// (Kerberos, GSSAPI, SSPI, SCM credentials, a SASL mechanism other than
    /// SCRAM-SHA-256).
    #[error("server asks for unsupported authentication: {0}")]
    AuthUnsupported(String),
    /// The server answered `N` to `SSLRequest`: it does not do TLS.
    #[error("server does not support SSL, but SSL was required")]
    TlsRefused,
    /// The TLS handshake with the server failed.
    #[error("SSL handshake failed: {0}")]
    TlsHandshake(std::io::Error),
}

impl PgError {
    /// The SQLSTATE a PostgreSQL client would see for this failure: the server's own
    /// code, `08006` (connection failure) when the connection broke, `08P01` (protocol
    /// violation), `28000` (invalid authorization specification) for an authentication
    /// method gatehouse cannot answer, `08001` when TLS could not be set up.
    pub fn sqlstate(&self) -> &str {
        match self {
            PgError::Server(e) => &e.code,
            PgError::Io(_) | PgError::Closed => "08006",
            PgError::Protocol(_) => "08P01",
            PgError::AuthUnsupported(_) => "28000",
            PgError::TlsRefused | PgError::TlsHandshake(_) => "08001",
        }
    }

    /// The message alone (without severity and code), as a client would print it.
    pub fn message(&self) -> String {
        match self {
            PgError::Server(e) => e.message.clone(),
            other => other.to_string(),
        }
    }

    /// The server's `ErrorResponse`, if that is what this is.
    pub fn server(&self) -> Option<&ServerError> {
        match self {
            PgError::Server(e) => Some(e),
            _ => None,
        }
    }
}
