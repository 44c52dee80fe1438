//! `mode http`: the exchange, written once against the protocol-neutral message model
//! (`proxy::message`); the codec (`proxy::h1` today) turns bytes into heads and back.
//!
//! Phases per request, in the order of docs/architecture.md's chart: read the head
//! through the codec (`timeout http-request`, `timeout http-keep-alive`) → `tcp-request
//! content`, frontend `http-request` rules → `use_backend`/`default_backend` → backend
//! rules (or a local reply) → balance, queue, connect or reuse an idle server connection
//! per `http-reuse` → send the head and body → wait for the response (`timeout server`;
//! a reused connection the server had closed is replaced once) → `http-response` rules
//! → forward the response → give the server connection back → log → next request
//! (keep-alive, pipelining) or close.
//!
//! Files by phase: `exchange.rs` the connection loop, reading the head, the request
//! rules and `pass_to`, which runs the server-side phases in order; `upstream.rs`
//! balance, queue, connect or reuse, and the pool afterwards; `forward.rs` the request
//! side; `response.rs` the response side; `reply.rs` the answers the proxy writes itself
//! (error pages, `deny`, `return`); `after.rs` the `http-after-response` rules on every
//! response; `logline.rs` the log line and its per-request timers;
//! `rules.rs` and `view.rs` the rules and the request as they see it; `txn.rs` the
//! request's own state (unique id, variables, header captures); `identity.rs`
//! `http-request authenticate`, the login callback, logout and the audit line.

mod actions;
mod after;
pub mod body_wait;
mod cold;
mod cookie_walk;
mod exchange;
mod forward;
mod headers;
pub mod identity;
pub mod io;
mod logline;
mod normalize;
mod persist_cookie;
mod reply;
mod response;
pub mod rules;
mod server_side;
mod stats;
pub mod txn;
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

/// Serves one exchange of a multiplexed connection (an HTTP/2 stream) through `client`,
/// a codec holding the stream's request: the same phases, rules, balancing, retries,
/// counters and log as an HTTP/1 request. `first`: the connection's first stream.
pub fn serve_stream<C: crate::proxy::codec::ClientCodec + Sync>(
    fe: Arc<Frontend>,
    snap: Arc<Snapshot>,
    shared: Shared,
    conn: ConnInfo,
    first: bool,
    client: &mut C,
) -> impl Future<Output = ()> + Send + '_ {
    exchange::run_one(fe, snap, shared, conn, first, client)
}
