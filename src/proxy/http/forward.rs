//! Phase 9 of the chart, the request side: the head rewritten for the server (rules'
//! edits, `option forwardfor`; the server codec writes it), the body forwarded as
//! neutral frames the client codec reads and the server codec frames,
//! `Expect: 100-continue` answered when the body is buffered.

use super::cold::cold;
use super::exchange::{Exchange, Next, Session};
use super::io::IoFail;
use super::server_side::ServerSide;
use super::upstream::Upstream;
use crate::config::model::HttpConnMode;
use crate::log::{FinState, TermCause};
use crate::proxy::codec::{BodyFail, ClientCodec, ServerCodec};
use crate::proxy::session::ConnInfo;
use crate::runtime::backend::Backend;
use std::sync::Arc;
use std::time::Instant;

/// The request head without its buffers: method, framing and flags only.
fn head_sketch(
    req: &crate::proxy::message::Request<'_>,
) -> crate::proxy::message::Request<'static> {
    crate::proxy::message::Request {
        buf: &[],
        method: req.method,
        method_span: Default::default(),
        target: Default::default(),
        version: req.version,
        headers: &[],
        payload: req.payload,
        persist: req.persist,
        expect_continue: req.expect_continue,
        upgrade: req.upgrade,
        default_port: Default::default(),
        host_port_trim: req.host_port_trim,
    }
}

fn xff_value(conn: &ConnInfo) -> Option<String> {
    conn.peer.map(|p| match p.ip() {
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        },
        ip => ip.to_string(),
    })
}

fn in_net(ip: std::net::IpAddr, net: (std::net::IpAddr, u8)) -> bool {
    match (ip, net.0) {
        (std::net::IpAddr::V4(a), std::net::IpAddr::V4(n)) => {
            let mask = if net.1 == 0 {
                0
            } else {
                u32::MAX << (32 - net.1 as u32)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (std::net::IpAddr::V6(a), std::net::IpAddr::V6(n)) => {
            let mask = if net.1 == 0 {
                0
            } else {
                u128::MAX << (128 - net.1 as u32)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// What the request phase hands to the response phase.
pub(super) struct Sent {
    /// The client waits for `100 Continue` before sending its body.
    pub(super) awaiting_100: bool,
    /// The whole request went out with its head: it can be sent again on a fresh
    /// connection while nothing of the response was received.
    pub(super) replayable: bool,
    /// When the head went out (`Tr` runs from here).
    pub(super) at: Instant,
}

impl Session {
    /// The rules' edits and `option forwardfor`'s header for the server: the header to
    /// add, if any (name lowercase, value).
    fn forwarded_for<C: ClientCodec>(&self, client: &C, be: &Backend) -> Option<(Vec<u8>, String)> {
        let ff = be.forwardfor.as_ref().or(self.fe.forwardfor.as_ref())?;
        let peer = self.conn.peer?;
        let excepted = ff.except.is_some_and(|n| in_net(peer.ip(), n));
        let name = ff.header.to_ascii_lowercase().into_bytes();
        let present = client.request().has(&name);
        if excepted || (ff.if_none && present) {
            return None;
        }
        xff_value(&self.conn).map(|v| (name, v))
    }

    /// Phase 9: sends the request head, with the body bytes already received unless the
    /// client waits for `100 Continue`, over `up`: the server codec writes the head with
    /// the rules' edits, `option forwardfor`'s header and the Connection header `mode`
    /// calls for. A reused connection that fails on this first write is replaced once
    /// (the retry edge). `Err`: the exchange ended.
    pub(super) async fn send_request<C: ClientCodec>(
        &mut self,
        client: &mut C,
        ex: &mut Exchange,
        be: &Arc<Backend>,
        mode: HttpConnMode,
        up: &mut Upstream,
    ) -> Result<Sent, Option<Next>> {
        // With `option http-buffer-request`, the proxy answers `Expect: 100-continue`
        // itself and reads the body before the server sees the request.
        // A body held for the rules was answered `100 Continue` then (`body_wait.rs`).
        let held = ex.txn.body.is_held();
        let mut expect = client.request().expect_continue && !held;
        if expect && (self.fe.buffer_request || be.buffer_request) {
            if cold(client.write_continue(self.fe.timeouts.client))
                .await
                .is_err()
            {
                return Err(Some(Next::Close));
            }
            expect = false;
            ex.edits.remove.push(b"expect".to_vec());
        }
        let xff = self.forwarded_for(client, be);
        let keep = mode == HttpConnMode::KeepAlive;
        if let Some(xot) = super::headers::original_to(&self.fe, be, &self.conn) {
            // Two headers of the proxy's own: both go after the rules' edits.
            let mut edits = crate::proxy::message::Edits {
                remove: ex.edits.remove.clone(),
                add: ex.edits.add.clone(),
                method: ex.edits.method.clone(),
                target: ex.edits.target.clone(),
                status: None,
            };
            edits.add.extend(xff.map(|(n, v)| (n, v.into_bytes())));
            edits.add.push((xot.0, xot.1.into_bytes()));
            up.codec
                .start_request(&client.request(), &edits, None, keep);
        } else {
            let extra = xff.as_ref().map(|(n, v)| (n.as_slice(), v.as_bytes()));
            up.codec
                .start_request(&client.request(), &ex.edits, extra, keep);
        }
        // A client that sent body bytes with `Expect: 100-continue` does not wait for the
        // interim response: its body is forwarded as it comes, as HAProxy does.
        super::body_wait::push_held(ex, &mut up.codec);
        let expect_wait = expect && !client.body_buffered();
        if !expect_wait && !ex.txn.body.ended() {
            match client.take_body() {
                Ok(frames) => {
                    up.codec.push_body(&frames);
                    ex.bytes_in += frames.htx_size();
                }
                Err(_) => {
                    return Err(self
                        .fail_cold(client, ex, 400, TermCause::Proxy, FinState::Request)
                        .await);
                }
            }
        }
        let body_done = client.body_done();
        let st = ex.fx.server_timeout.or(be.timeouts.server);
        if up.codec.send_pending(st).await.is_err() {
            if !up.reused {
                return Err(self
                    .fail_cold(client, ex, 502, TermCause::ServerAbort, FinState::Data)
                    .await);
            }
            cold(self.redial(client, be, ex, up)).await?;
            if up.codec.send_pending(st).await.is_err() {
                return Err(self
                    .fail_cold(client, ex, 502, TermCause::ServerAbort, FinState::Data)
                    .await);
            }
        }
        ex.body_pending = !body_done;
        let sent = Sent {
            awaiting_100: expect_wait && !body_done,
            replayable: body_done,
            at: crate::proxy::clock::now(),
        };
        Ok(sent)
    }

    /// While the client waits for `100 Continue`: the server's next response head
    /// (`Some`), or the client's first body frames, forwarded to the server (`None`),
    /// whichever comes first. A client that gives up waiting sends its body anyway, and
    /// HAProxy forwards it as it arrives rather than holding it until the server answers.
    pub(super) async fn await_head_or_body<C: ClientCodec>(
        &mut self,
        client: &mut C,
        ex: &mut Exchange,
        be: &Backend,
        up: &mut Upstream,
    ) -> Result<Option<Result<(), IoFail>>, Option<Next>> {
        let server_wait = ex.fx.server_timeout.or(be.timeouts.server);
        let client_wait = if server_wait.is_some() {
            None
        } else {
            self.fe.timeouts.client
        };
        // The server codec reads only the method and the upgrade wish of the request;
        // a copy without the buffers leaves the client free to read its body.
        let sketch = head_sketch(&client.request());
        let read = tokio::select! {
            biased;
            head = up.codec.read_response(&sketch, server_wait) => return Ok(Some(head)),
            frames = client.read_body(client_wait) => frames,
        };
        let frames = match read {
            Ok(f) => f,
            Err(e) => return Err(self.body_read_failed(client, ex, e, server_wait).await),
        };
        let wire = frames.htx_size();
        if up.codec.write_body(&frames, server_wait).await.is_err() {
            return Err(self
                .fail(client, ex, 502, TermCause::ServerAbort, FinState::Data)
                .await);
        }
        ex.bytes_in += wire;
        if client.body_done() {
            ex.body_pending = false;
        }
        Ok(None)
    }

    /// After the response: the rest of a request body the server answered before
    /// (`Expect: 100-continue`), forwarded to the server as HAProxy does, so that both
    /// connections stay in step. `false` when either side failed.
    pub(super) async fn forward_late_body<C: ClientCodec>(
        &mut self,
        client: &mut C,
        server: &mut ServerSide,
        ex: &mut Exchange,
        be: &Backend,
    ) -> bool {
        let st = ex.fx.server_timeout.or(be.timeouts.server);
        while !client.body_done() {
            let Ok(frames) = client.read_body(self.fe.timeouts.client).await else {
                return false;
            };
            let wire = frames.htx_size();
            if server.write_body(&frames, st).await.is_err() {
                return false;
            }
            ex.bytes_in += wire;
        }
        true
    }

    /// How a failed read of the request body ends the exchange.
    async fn body_read_failed<C: ClientCodec>(
        &mut self,
        client: &mut C,
        ex: &mut Exchange,
        e: BodyFail,
        server_wait: Option<std::time::Duration>,
    ) -> Option<Next> {
        match e {
            BodyFail::Io(IoFail::Timeout) if server_wait.is_some() => {
                self.fail(client, ex, 504, TermCause::ServerTimeout, FinState::Headers)
                    .await
            }
            BodyFail::Io(e) => {
                // A client that leaves in the middle of its body is logged `CL`
                // by HAProxy, with no response.
                (ex.term, ex.fin) = if e == IoFail::Timeout {
                    (TermCause::ClientTimeout, FinState::Data)
                } else {
                    (TermCause::ClientAbort, FinState::Last)
                };
                ex.status = -1;
                Some(Next::Close)
            }
            BodyFail::Invalid => {
                // A malformed chunk arriving later: HAProxy's stream answers 400
                // (`errorfile` applies) while waiting for the response, `PH--`.
                self.fail(client, ex, 400, TermCause::Proxy, FinState::Headers)
                    .await
            }
        }
    }

    /// Streams the rest of the request body from the client to the server, frame by
    /// frame, each codec framing it for its side.
    pub(super) async fn stream_request_body<C: ClientCodec>(
        &mut self,
        client: &mut C,
        server: &mut ServerSide,
        ex: &mut Exchange,
        be: &Backend,
    ) -> Result<(), Option<Next>> {
        // HAProxy waits for the rest of the body as it waits for the response: under
        // `timeout server` (504, `sH`), the client timeout only when that one is unset.
        let server_wait = ex.fx.server_timeout.or(be.timeouts.server);
        let wait = server_wait.or(self.fe.timeouts.client);
        loop {
            let frames = match client.read_body(wait).await {
                Ok(f) => f,
                Err(e) => return Err(cold(self.body_read_failed(client, ex, e, server_wait)).await),
            };
            let wire = frames.htx_size();
            if server.write_body(&frames, server_wait).await.is_err() {
                return Err(self
                    .fail_cold(client, ex, 502, TermCause::ServerAbort, FinState::Data)
                    .await);
            }
            ex.bytes_in += wire;
            if client.body_done() {
                return Ok(());
            }
        }
    }
}
