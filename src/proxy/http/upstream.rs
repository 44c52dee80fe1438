//! Phases 6 to 8 and the end of 10 of the chart: balance, queue, then the server
//! connection (the client's own, an idle one of the server's pool per `http-reuse`, or
//! a new one with `retries` and `option redispatch`), and where it goes after the
//! response: back to the pool, kept for this client, or closed.

use super::exchange::{Exchange, MAX_OWN_CONNS, Next, OwnConn, Session};
use super::view::ReqView;
use crate::config::model::{HttpConnMode, HttpReuse};
use crate::log::{FinState, TermCause};
use crate::proxy::codec::{ClientCodec, ServerCodec};
use crate::proxy::connect::{self, ConnectError};
use crate::proxy::h1::H1Server;
use crate::proxy::message::Request;
use crate::proxy::session::ConnInfo;
use crate::runtime::backend::{Backend, ServerSlot};
use crate::runtime::conn::ServerConn;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The server side of one exchange: the server codec over its connection and the slot
/// it holds on its server. (Server connections speak HTTP/1 until the HTTP/2 issue, which
/// makes the codec an enum of both, chosen here by the pool key.)
pub(super) struct Upstream {
    /// The server codec, holding the connection.
    pub(super) codec: H1Server,
    /// The server's connection slot (its `maxconn`), released when dropped.
    pub(super) slot: ServerSlot,
    /// The connection served an earlier request (from a pool or the client's own).
    pub(super) reused: bool,
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
            let sticky = crate::proxy::stick::designate(be, &view, &mut ex.stick);
            let info = &mut ex.info;
            let acq = async move {
                match sticky {
                    Some(s) => connect::acquire_persistent(be, s, info).await,
                    None => connect::acquire(be, &view, &[], info).await,
                }
            };
            unless_client_closes(io, be.abortonclose, &mut early, acq).await
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
                let term = if e == ConnectError::NoServer {
                    TermCause::Proxy
                } else {
                    TermCause::ServerAbort
                };
                return Err(self.fail(client, ex, 503, term, fin).await);
            }
        };
        let own = self
            .own
            .iter()
            .position(|c| Arc::ptr_eq(&c.backend, be) && c.server == slot.server.index)
            .map(|i| self.own.swap_remove(i).stream);
        let pooled = own.or_else(|| {
            pool_use.and_then(|proven_only| {
                let key = connect::pool_key(&slot.server, &view(client.request(), &self.conn));
                slot.server.pool.take(&key, proven_only).map(|(s, _)| s)
            })
        });
        if let Some(conn) = pooled {
            return Ok(Upstream {
                codec: self.server_codec(conn),
                slot,
                reused: true,
            });
        }
        let mut early = Vec::new();
        let r = {
            let (req, io) = client.watch();
            let view = view(req, &self.conn);
            // Boxed: a new connection is the uncommon path, and its future is large.
            let dial = Box::pin(connect::dial_retrying(
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
        match r {
            Ok((conn, slot)) => Ok(Upstream {
                codec: self.server_codec(conn),
                slot,
                reused: false,
            }),
            Err(e) => {
                let term = if e == ConnectError::Timeout {
                    TermCause::ServerTimeout
                } else {
                    TermCause::ServerAbort
                };
                Err(self.fail(client, ex, 503, term, FinState::Connect).await)
            }
        }
    }

    /// The retry edge: a reused connection the server had closed is replaced by a fresh
    /// one (with `retries` and `option redispatch`). `Err`: close without an answer.
    pub(super) async fn redial<C: ClientCodec>(
        &mut self,
        client: &C,
        be: &Arc<Backend>,
        ex: &mut Exchange,
        up: Upstream,
    ) -> Result<Upstream, Option<Next>> {
        let Upstream {
            mut codec, slot, ..
        } = up;
        let view = view(client.request(), &self.conn);
        let dial = connect::dial_retrying(be, &view, self.conn.local, &mut ex.info, slot);
        let (conn, slot) = Box::pin(dial).await.map_err(|_| None)?;
        codec.reconnect(conn);
        Ok(Upstream {
            codec,
            slot,
            reused: false,
        })
    }

    /// The server codec over a connection (HTTP/1).
    fn server_codec(&self, conn: ServerConn) -> H1Server {
        H1Server::new(conn, self.limits, self.snap.global.bufsize)
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
        let conn = codec.into_conn();
        if be.http_reuse == HttpReuse::Never {
            if self.own.len() >= MAX_OWN_CONNS {
                self.own.remove(0);
            }
            self.own.push(OwnConn {
                backend: be.clone(),
                server: slot.server.index,
                stream: conn,
            });
        } else {
            // A connection that served its second request or more is "proven".
            let key = conn.pool_key();
            slot.server.pool.put(key, conn, reused);
        }
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
