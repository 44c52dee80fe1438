//! `mode http` over HTTP/1.1: the request loop of one client connection.
//!
//! Phases per request (docs/architecture.md has the chart): read and parse the head
//! (`timeout http-request`, `timeout http-keep-alive`) → frontend `http-request` rules →
//! `use_backend`/`default_backend` → backend rules → balance, queue, connect (or reuse an
//! idle server connection per `http-reuse`) → forward head and body → read the response
//! (`timeout server`) → `http-response` rules → forward the response → log → next request
//! (keep-alive, pipelining) or close.
//!
//! Files by job: `exchange.rs` the connection loop, reading the head and the request
//! rules; `forward.rs` the request side (connect or reuse per `http-reuse`, head and body
//! to the server); `response.rs` the response side; `reply.rs` the answers the proxy
//! writes itself (error pages, `deny`, `return`); `logline.rs` the log line and its
//! per-request timers.

mod exchange;
mod forward;
pub mod io;
mod logline;
mod reply;
mod response;
pub mod rules;
mod upstream;
pub mod view;

use crate::proxy::session::ConnInfo;
use crate::runtime::frontend::Frontend;
use crate::runtime::snapshot::{Shared, Snapshot};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

/// Serves one client connection in http mode until it closes. `hold` (maxconn slots,
/// counters) is kept until then. `fe` and `snap` are those current at the accept; each
/// later request takes the snapshot then current from `shared`.
pub fn serve<S, H>(
    fe: Arc<Frontend>,
    snap: Arc<Snapshot>,
    shared: Shared,
    client: S,
    conn: ConnInfo,
    hold: H,
) -> impl Future<Output = ()> + Send
where
    S: AsyncRead + AsyncWrite + io::WaitReadable + Unpin + Send,
    H: Send,
{
    exchange::run(fe, snap, shared, conn, client, hold)
}
