//! PostgreSQL's frontend/backend protocol (version 3) as a client of a PostgreSQL
//! server: gatehouse logs in toward a server with the credentials it holds (`credentials`
//! sections), for the sessions of `bind … proto pgsql` and for `option pgsql-check …
//! credentials NAME`.
//!
//! - [`frame`]: the framing of regular messages (type, length, body), one for both
//!   directions: writing one, reading one, following a stream of them as it passes;
//! - [`message`]: reading backend messages (framed and decoded with the
//!   `postgres-protocol` crate, bounded in size) and writing frontend and backend ones;
//! - [`error`]: what went wrong, with the SQLSTATE a client is told;
//! - [`login`]: `StartupMessage`, then AuthenticationOk, cleartext, MD5 or SCRAM-SHA-256
//!   as the server asks, up to `ReadyForQuery`;
//! - [`query`]: the simple query protocol, enough for `SELECT pg_is_in_recovery()`;
//! - [`tls`]: `SSLRequest` then a rustls handshake toward the server, and the stream
//!   type that is either.
//!
//! It knows nothing of the proxy or the checks that use it: it takes a stream and
//! credentials and gives back what the server said.

pub mod error;
pub mod frame;
pub mod login;
pub mod message;
pub mod query;
pub mod tls;

pub use error::{PgError, ServerError};
pub use login::{LoggedIn, login};
pub use message::{Backend, BackendReader};
pub use query::simple_query;
pub use tls::{PgStream, connect, start_tls};
