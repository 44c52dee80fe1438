//! Phases 6 to 8 and the end of 10 of the chart: balance, queue, then the server
//! connection (the client's own, an idle one of the server's pool per `http-reuse`, or
//! a new one with `retries` and `option redispatch`), and where it goes after the
//! response: back to the pool, kept for this client, or closed.

use super::cold::cold;
use super::exchange::{Exchange, MAX_OWN_CONNS, Next, OwnConn, Session};
use super::server_side::ServerSide;
use super::view::ReqView;
use crate::config::model::{HttpConnMode, HttpReuse};
use crate::log::{FinState, TermCause};
use crate::proxy::codec::{ClientCodec, ServerCodec};
use crate::proxy::connect::{self, ConnectError};
use crate::proxy::h1::H1Server;
use crate::proxy::h2srv::{self, H2Server};
use crate::proxy::message::Request;
use crate::proxy::session::ConnInfo;
use crate::runtime::backend::{Backend, ServerSlot};
use crate::runtime::conn::ServerConn;
use crate::runtime::mux::{H2Conn, Share};
use crate::runtime::server::{ServerState, Wire};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The server side of one exchange: the server codec over its connection (HTTP/1) or
/// stream (HTTP/2) and the slot it holds on its server.
pub(super) struct Upstream {
    /// The server codec, holding the connection (or its stream).
    pub(super) codec: ServerSide,
    /// The server's connection slot (its `maxconn`), released when dropped. `None` only
    /// after a failed [`Session::redial`], which ends the exchange.
    slot: Option<ServerSlot>,
    /// The connection served an earlier request (from a pool or the client's own).
    pub(super) reused: bool,
}

impl Upstream {
    fn new(codec: ServerSide, slot: ServerSlot, reused: bool) -> Self {
        Upstream {
            codec,
            slot: Some(slot),
            reused,
        }
    }

    /// The server the connection goes to.
    pub(super) fn server(&self) -> &Arc<ServerState> {
        &self
            .slot
            .as_ref()
            .expect("a slot until a failed redial")
            .server
    }
}

impl Session {
    /// Balances, queues and connects (or reuses a connection) for a request routed to
    /// `be`. With `option abortonclose`, a client that closes while its request waits in
    /// the queue (HAProxy's CQ) or for the connection (CC) aborts it; bytes it pipelines
    /// meanwhile are kept. `Err`: the exchange ended (the client was answered).
    pub(super) async fn connect_upstream<C: ClientCodec>(
        &mut self,
        client: &mut C,
        ex: &mut Exchange,
        be: &Arc<Backend>,
        mode: HttpConnMode,
    ) -> Result<Upstream, Option<Next>> {
        // The shared pool per `http-reuse`: `Some(proven_only)` when it may be used.
        // `safe`: never for a session's first request; `aggressive`: only connections that
        // already carried more than one request then; `always`: any; `never`: none.
        let pool_use = match be.http_reuse {
            HttpReuse::Never => None,
            HttpReuse::Safe => (!self.first).then_some(false),
            HttpReuse::Aggressive => Some(self.first),
            HttpReuse::Always => Some(false),
        }
        .filter(|_| mode == HttpConnMode::KeepAlive);

        let mut early = Vec::new();
        let slot = {
            let (req, io) = client.watch();
            let view = view(req, &self.conn);
            let (target, rule) = (ex.cookie.target, ex.cookie.rule);
            let sticky = if target.is_none() {
                let force = rule == crate::runtime::persist::PersistVerdict::Force;
                crate::proxy::stick::designate(be, &view, &mut ex.stick, force)
            } else {
                None
            };
            let info = &mut ex.info;
            if target.is_none() && sticky.is_none() {
                // The common case: balance and take a free slot without building a
                // future; only a request that must queue waits (out of line).
                info.force_persist = rule == crate::runtime::persist::PersistVerdict::Force;
                match connect::try_acquire(be, &view, &[]) {
                    connect::Taken::Now(r) => Some(r),
                    connect::Taken::Queue(q) => {
                        let wait = cold(connect::wait_in_queue(be, q, info));
                        unless_client_closes(io, be.abortonclose, &mut early, wait).await
                    }
                }
            } else {
                let acq = cold(async move {
                    match sticky {
                        Some(s) => connect::acquire_persistent(be, s, info).await,
                        None => super::persist_cookie::acquire(be, target, rule, &view, info).await,
                    }
                });
                unless_client_closes(io, be.abortonclose, &mut early, acq).await
            }
        };
        client.push_input(&early);
        let Some(slot) = slot else {
            return Err(client_gave_up(ex, FinState::Queue));
        };
        let slot = match slot {
            Ok(s) => s,
            Err(e) => {
                let fin = if e == ConnectError::QueueTimeout {
                    FinState::Queue
                } else {
                    FinState::Connect
                };
                // No server to pick is a connection failure (`SC`, the backend's
                // `econ`), as HAProxy 2.6 counts it.
                let term = TermCause::ServerAbort;
                return Err(cold(self.fail(client, ex, 503, term, fin)).await);
            }
        };
        let key = connect::pool_key(&slot.server, &view(client.request(), &self.conn));
        let own = self
            .own
            .iter()
            .position(|c| Arc::ptr_eq(&c.backend, be) && c.server == slot.server.index)
            .map(|i| self.own.swap_remove(i).link);
        let limits = self.limits;
        let tune = crate::proxy::h2::Limits::of(&self.snap.global);
        let reuse = match own {
            Some(OwnLink::H1(conn)) => Some(ServerSide::H1(self.h1(conn))),
            Some(OwnLink::H2(mux)) => mux
                .try_open(Share::Any)
                .map(|send| ServerSide::H2(Box::new(H2Server::new(mux, send, limits, tune)))),
            None => None,
        };
        let reuse = reuse.or_else(|| {
            let proven_only = pool_use?;
            if slot.server.wire != Wire::H1 {
                let share = match (be.http_reuse, proven_only) {
                    (HttpReuse::Safe, _) => Share::Idle,
                    (_, true) => Share::Proven,
                    _ => Share::Any,
                };
                if let Some((mux, send)) = slot.server.pool.mux().take(&key, share) {
                    return Some(ServerSide::H2(Box::new(H2Server::new(
                        mux, send, limits, tune,
                    ))));
                }
            }
            let (conn, _) = slot.server.pool.take(&key, proven_only)?;
            Some(ServerSide::H1(self.h1(conn)))
        });
        if let Some(codec) = reuse {
            slot.server.counters.server_connection(true);
            be.counters.server_connection(true);
            return Ok(Upstream::new(codec, slot, true));
        }
        // A failed connection is logged with the server it was for, as HAProxy does.
        let first = slot.server.clone();
        let mut early = Vec::new();
        let r = {
            let (req, io) = client.watch();
            let mut view = view(req, &self.conn);
            // The `unique-id` a PROXY v2 header may carry (`proxy-v2-options unique-id`).
            view.txn = Some((&ex.txn, self.fe.unique_id.as_ref(), &self.fe.name));
            // Boxed out of line: a new connection is the uncommon path, and its future
            // is large.
            let dial = cold(connect::dial_retrying(
                be,
                &view,
                self.conn.local,
                &mut ex.info,
                slot,
            ));
            unless_client_closes(io, be.abortonclose, &mut early, dial).await
        };
        client.push_input(&early);
        let Some(r) = r else {
            return Err(client_gave_up(ex, FinState::Connect));
        };
        let failed = match r {
            Ok((conn, slot)) => match cold(self.server_codec(be, &slot, conn, mode)).await {
                Some(codec) => {
                    return Ok(Upstream::new(codec, slot, false));
                }
                None => ConnectError::Refused,
            },
            Err(e) => e,
        };
        ex.server = Some(first);
        let term = if failed == ConnectError::Timeout {
            TermCause::ServerTimeout
        } else {
            TermCause::ServerAbort
        };
        Err(cold(self.fail(client, ex, 503, term, FinState::Connect)).await)
    }

    /// The retry edge: a reused connection the server had closed is replaced in `up` by
    /// a fresh one (with `retries` and `option redispatch`). `Err`: close without an
    /// answer (also when the fresh connection speaks another protocol than the request
    /// was prepared for). Rare: its future is boxed out of line by the callers.
    pub(super) async fn redial<C: ClientCodec>(
        &mut self,
        client: &mut C,
        be: &Arc<Backend>,
        ex: &mut Exchange,
        up: &mut Upstream,
    ) -> Result<(), Option<Next>> {
        let Some(slot) = up.slot.take() else {
            return Err(None);
        };
        let mut view = view(client.request(), &self.conn);
        view.txn = Some((&ex.txn, self.fe.unique_id.as_ref(), &self.fe.name));
        let dial = connect::dial_retrying(be, &view, self.conn.local, &mut ex.info, slot);
        let (conn, slot) = dial.await.map_err(|_| None)?;
        if speaks_h2(&slot.server, &conn) != matches!(up.codec, ServerSide::H2(_)) {
            return Err(None);
        }
        up.codec.reconnect(conn);
        up.slot = Some(slot);
        up.reused = false;
        Ok(())
    }

    /// The HTTP/1 codec over a connection.
    fn h1(&self, conn: ServerConn) -> H1Server {
        H1Server::new(conn, self.limits, self.snap.global.bufsize)
    }

    /// The server codec over a new connection: HTTP/2 when the server's `proto` or the
    /// TLS handshake's ALPN says so (the connection is then listed for sharing at once
    /// with `http-reuse aggressive` or `always`), else HTTP/1. `None`: the HTTP/2
    /// handshake failed.
    async fn server_codec(
        &self,
        be: &Backend,
        slot: &ServerSlot,
        conn: ServerConn,
        mode: HttpConnMode,
    ) -> Option<ServerSide> {
        if !speaks_h2(&slot.server, &conn) {
            return Some(ServerSide::H1(self.h1(conn)));
        }
        let key = conn.pool_key();
        let tune = crate::proxy::h2::Limits::of(&self.snap.global);
        let mux = h2srv::handshake(conn, key, &tune).await.ok()?;
        let send = mux.open_first();
        let shared = matches!(be.http_reuse, HttpReuse::Aggressive | HttpReuse::Always);
        if shared && mode == HttpConnMode::KeepAlive {
            slot.server.pool.mux().put(&mux);
        }
        Some(ServerSide::H2(Box::new(H2Server::new(
            mux,
            send,
            self.limits,
            tune,
        ))))
    }

    /// After the response: a connection that may serve another request goes back to its
    /// server's pool (`http-reuse never`: kept for this client's next requests); any
    /// other is closed. The slot is released either way.
    pub(super) fn release(&mut self, be: &Arc<Backend>, mode: HttpConnMode, up: Upstream) {
        let reusable = mode == HttpConnMode::KeepAlive && up.codec.reusable();
        if !reusable {
            return;
        }
        let Upstream {
            codec,
            slot,
            reused,
        } = up;
        let Some(slot) = slot else {
            return;
        };
        let link = match codec {
            ServerSide::H1(c) => OwnLink::H1(c.into_conn()),
            ServerSide::H2(c) => {
                let Some(mux) = c.conn().cloned() else {
                    return;
                };
                // The stream ends here: the connection is idle again if it was the last.
                drop(c);
                OwnLink::H2(mux)
            }
        };
        if be.http_reuse == HttpReuse::Never {
            if self.own.len() >= MAX_OWN_CONNS {
                self.own.remove(0);
            }
            self.own.push(OwnConn {
                backend: be.clone(),
                server: slot.server.index,
                link,
            });
            return;
        }
        match link {
            OwnLink::H1(conn) => {
                // A connection that served its second request or more is "proven".
                let key = conn.pool_key();
                slot.server.pool.put(key, conn, reused);
            }
            OwnLink::H2(mux) => slot.server.pool.mux().put(&mux),
        }
    }
}

/// A server connection kept between requests: HTTP/1 (the exchange's alone) or HTTP/2
/// (shared).
pub(super) enum OwnLink {
    /// HTTP/1.
    H1(ServerConn),
    /// HTTP/2.
    H2(Arc<H2Conn>),
}

/// Whether a new connection to `server` speaks HTTP/2: `proto h2`, or `h2` chosen by
/// ALPN on a server offering it.
fn speaks_h2(server: &ServerState, conn: &ServerConn) -> bool {
    match server.wire {
        Wire::H1 => false,
        Wire::H2 => true,
        Wire::Alpn => conn.alpn() == Some(b"h2"),
    }
}

/// The request as rules, ACLs and balancing see it before the response.
pub(super) fn view<'a>(req: Request<'a>, conn: &'a ConnInfo) -> ReqView<'a> {
    ReqView {
        req,
        conn,
        status: None,
        resp: None,
        users: None,
        txn: None,
        live: None,
    }
}

/// Awaits `fut`; with `option abortonclose` (`on`), a client that closes meanwhile aborts
/// it (`None`), and what it sends meanwhile is appended to `early`.
async fn unless_client_closes<S, F>(
    client: &mut S,
    on: bool,
    early: &mut Vec<u8>,
    fut: F,
) -> Option<F::Output>
where
    S: AsyncRead + Unpin,
    F: Future,
{
    if !on {
        return Some(fut.await);
    }
    tokio::pin!(fut);
    loop {
        early.reserve(1024);
        tokio::select! {
            r = &mut fut => return Some(r),
            n = client.read_buf(early) => if !matches!(n, Ok(k) if k > 0) { return None },
        }
    }
}

/// The client closed while its request waited (`option abortonclose`): nothing is sent,
/// and the log says where it gave up (`CQ`, `CC`).
fn client_gave_up(ex: &mut Exchange, fin: FinState) -> Option<Next> {
    ex.term = TermCause::ClientAbort;
    ex.fin = fin;
    ex.status = -1;
    Some(Next::Close)
}
