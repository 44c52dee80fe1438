//! Phase 9 of the chart, the request side: the head rewritten for the server (rules'
//! edits, `option forwardfor`; the codec writes it), the body forwarded as the codec
//! frames it, `Expect: 100-continue` answered when the body is buffered.

use super::exchange::{Exchange, Next, Session};
use super::io::{IoFail, read_more, write_all};
use super::upstream::Upstream;
use crate::config::model::HttpConnMode;
use crate::log::{FinState, TermCause};
use crate::proxy::h1::{self, server::RequestBody};
use crate::proxy::session::ConnInfo;
use crate::runtime::backend::Backend;
use crate::runtime::conn::ServerConn;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite};

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
    /// The request body's progress toward the server.
    pub(super) body: RequestBody,
    /// The client waits for `100 Continue` before sending its body.
    pub(super) awaiting_100: bool,
    /// The whole request went out with its head: it can be sent again on a fresh
    /// connection while nothing of the response was received.
    pub(super) replayable: bool,
    /// When the head went out (`Tr` runs from here).
    pub(super) at: Instant,
}

impl Session {
    /// Writes the request head for the server into `self.out`: the rules' edits, then
    /// `option forwardfor`'s header; the codec adds the Connection header `mode` calls
    /// for.
    pub(super) fn build_request_head(&mut self, ex: &Exchange, be: &Backend, mode: HttpConnMode) {
        let ff = be.forwardfor.as_ref().or(self.fe.forwardfor.as_ref());
        let mut xff: Option<(Vec<u8>, String)> = None;
        if let (Some(ff), Some(peer)) = (ff, self.conn.peer) {
            let excepted = ff.except.is_some_and(|n| in_net(peer.ip(), n));
            let name = ff.header.to_ascii_lowercase().into_bytes();
            let present = ex.head.message(&self.buf).has(&name);
            if !(excepted || (ff.if_none && present)) {
                xff = xff_value(&self.conn).map(|v| (name, v));
            }
        }
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
            let keep = mode == HttpConnMode::KeepAlive;
            h1::server::write_request(&ex.head, &self.buf, keep, &edits, None, &mut self.out);
            return;
        }
        let extra = xff.as_ref().map(|(n, v)| (n.as_slice(), v.as_bytes()));
        h1::server::write_request(
            &ex.head,
            &self.buf,
            mode == HttpConnMode::KeepAlive,
            &ex.edits,
            extra,
            &mut self.out,
        );
    }

    /// Sends the request head, with the body bytes already received unless the client
    /// waits for `100 Continue`, over `up`. A reused connection that fails on this first
    /// write is replaced once (the retry edge). `Err`: the exchange ended.
    pub(super) async fn send_request<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        ex: &mut Exchange,
        be: &Arc<Backend>,
        mode: HttpConnMode,
        mut up: Upstream,
        head_len: usize,
    ) -> Result<(Upstream, Sent), Option<Next>> {
        // With `option http-buffer-request`, the proxy answers `Expect: 100-continue`
        // itself and reads the body before the server sees the request.
        let mut expect = ex.head.message(&self.buf).expect_continue;
        if expect && (self.fe.buffer_request || be.buffer_request) {
            let interim = h1::client::continue_response();
            if write_all(client, interim, self.fe.timeouts.client)
                .await
                .is_err()
            {
                return Err(Some(Next::Close));
            }
            expect = false;
            ex.edits.remove.push(b"expect".to_vec());
        }
        self.build_request_head(ex, be, mode);
        let mut body = RequestBody::new(&ex.head);
        let mut consumed = head_len;
        // A client that sent body bytes with `Expect: 100-continue` does not wait for the
        // interim response: its body is forwarded as it comes, as HAProxy does.
        let expect_wait = expect && self.buf.len() == head_len;
        if !expect_wait {
            let avail = &self.buf[head_len..];
            match body.take(avail, &mut self.out) {
                Ok(t) => {
                    if !t.reframed {
                        self.out.extend_from_slice(&avail[..t.used]);
                    }
                    consumed += t.used;
                }
                Err(_) => {
                    return Err(self
                        .fail(client, ex, 400, TermCause::Proxy, FinState::Request)
                        .await);
                }
            }
        }
        let body_done = body.is_done();
        ex.bytes_in += (consumed - head_len) as u64;
        let st = ex.fx.server_timeout.or(be.timeouts.server);
        if write_all(&mut up.conn, &self.out, st).await.is_err() {
            if !up.reused {
                return Err(self
                    .fail(client, ex, 502, TermCause::ServerAbort, FinState::Data)
                    .await);
            }
            up = self.redial(be, ex, up).await?;
            if write_all(&mut up.conn, &self.out, st).await.is_err() {
                return Err(self
                    .fail(client, ex, 502, TermCause::ServerAbort, FinState::Data)
                    .await);
            }
        }
        self.buf.drain(..consumed);
        ex.unread = 0;
        ex.body_pending = !body_done;
        let sent = Sent {
            body,
            awaiting_100: expect_wait && !body_done,
            replayable: body_done,
            at: Instant::now(),
        };
        Ok((up, sent))
    }

    /// Streams the rest of the request body from the client to the server, framed by
    /// the server's codec.
    pub(super) async fn stream_request_body<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        server: &mut ServerConn,
        ex: &mut Exchange,
        body: &mut RequestBody,
        be: &Backend,
    ) -> Result<(), Option<Next>> {
        let bufsize = self.snap.global.bufsize;
        // HAProxy waits for the rest of the body as it waits for the response: under
        // `timeout server` (504, `sH`), the client timeout only when that one is unset.
        let server_wait = ex.fx.server_timeout.or(be.timeouts.server);
        loop {
            if self.buf.is_empty() {
                let wait = server_wait.or(self.fe.timeouts.client);
                match read_more(client, &mut self.buf, bufsize, wait).await {
                    Ok(_) => {}
                    Err(IoFail::Timeout) if server_wait.is_some() => {
                        return Err(self
                            .fail(client, ex, 504, TermCause::ServerTimeout, FinState::Headers)
                            .await);
                    }
                    Err(e) => {
                        // A client that leaves in the middle of its body is logged `CL`
                        // by HAProxy, with no response.
                        (ex.term, ex.fin) = if e == IoFail::Timeout {
                            (TermCause::ClientTimeout, FinState::Data)
                        } else {
                            (TermCause::ClientAbort, FinState::Last)
                        };
                        ex.status = -1;
                        return Err(Some(Next::Close));
                    }
                }
            }
            self.out.clear();
            let taken = match body.take(&self.buf, &mut self.out) {
                Ok(t) => t,
                Err(_) => {
                    // A malformed chunk arriving later: HAProxy's stream answers 400
                    // (`errorfile` applies) while waiting for the response, `PH--`.
                    return Err(self
                        .fail(client, ex, 400, TermCause::Proxy, FinState::Headers)
                        .await);
                }
            };
            let k = taken.used;
            let data = if taken.reframed {
                &self.out[..]
            } else {
                &self.buf[..k]
            };
            if write_all(server, data, server_wait).await.is_err() {
                return Err(self
                    .fail(client, ex, 502, TermCause::ServerAbort, FinState::Data)
                    .await);
            }
            ex.bytes_in += k as u64;
            self.buf.drain(..k);
            if body.is_done() {
                return Ok(());
            }
        }
    }
}
