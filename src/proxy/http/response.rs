//! The response side: reading the server's response head, `http-response` rules, and
//! forwarding the response to the client.

use super::exchange::{Next, Outcome, Session};
use super::io::{IoFail, read_more, write_all, write_all_pair};
use super::rules::{self, Verdict};
use super::view::ReqView;
use crate::config::model::HttpConnMode;
use crate::log::{FinState, TermCause};
use crate::proxy::h1::{
    BodyKind, ChunkedDecoder, ConnectionHeader, HeadEdits, parse_response_into, write_response_head,
};
use crate::proxy::tunnel::{self, TunnelTimeouts};
use crate::runtime::backend::Backend;
use crate::runtime::conn::ServerConn;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

impl Session {
    pub(super) async fn read_response_head(
        &mut self,
        server: &mut ServerConn,
        be: &Backend,
    ) -> Result<(), IoFail> {
        let bufsize = self.snap.global.bufsize;
        loop {
            if !self.rbuf.is_empty() {
                match parse_response_into(
                    &mut self.rhead,
                    &self.rbuf,
                    &self.limits,
                    self.head.method,
                ) {
                    // HAProxy 2.6 answers 502 to a 101 the client did not ask for.
                    Ok(Some(_)) if self.rhead.is_switching_protocols() && !self.head.upgrade => {
                        return Err(IoFail::Error);
                    }
                    Ok(Some(_)) => return Ok(()),
                    Ok(None) => {}
                    Err(_) => return Err(IoFail::Error),
                }
            }
            read_more(server, &mut self.rbuf, bufsize, be.timeouts.server).await?;
        }
    }

    /// Forwards the response head and body to the client.
    pub(super) async fn respond<S: AsyncRead + AsyncWrite + Unpin>(
        &mut self,
        client: &mut S,
        server: &mut ServerConn,
        o: &mut Outcome,
        be: &Arc<Backend>,
        request_done: bool,
    ) -> Option<Next> {
        o.status = self.rhead.status as i32;
        // Response rules (frontend, then backend).
        self.redits.clear();
        let verdict = {
            let view = ReqView {
                buf: &self.buf,
                head: &self.head,
                conn: &self.conn,
                status: Some(self.rhead.status),
            };
            let mut v = Verdict::Continue;
            if !self.fe.http_response.is_empty() {
                v = rules::apply(&self.fe.http_response, &view, &mut self.redits);
            }
            if matches!(v, Verdict::Continue) && !be.http_response.is_empty() {
                v = rules::apply(&be.http_response, &view, &mut self.redits);
            }
            v
        };
        match verdict {
            Verdict::Continue => {}
            Verdict::Deny(_) => {
                self.rbuf.clear();
                return self
                    .fail(client, o, 502, TermCause::Proxy, FinState::Headers)
                    .await;
            }
            Verdict::Return(reply) => {
                let bytes = reply.map_or_else(Vec::new, |r| crate::proxy::h1::encode_reply(&r));
                let _ = write_all(client, &bytes, self.fe.timeouts.client).await;
                self.rbuf.clear();
                return Some(Next::Close);
            }
        }
        let tunnel = self.rhead.tunnel;
        let client_keep = self.head.keep_alive
            // The client side follows the frontend's mode only: a backend's `option
            // httpclose` closes the server side (HAProxy 2.6's H1 client/server modes).
            && self.fe.conn_mode != HttpConnMode::Close
            && request_done
            && !tunnel
            && self.rhead.body != BodyKind::UntilClose;
        let connection = if tunnel {
            ConnectionHeader::Default
        } else if !client_keep {
            ConnectionHeader::Close
        } else if !self.head.version.at_least_11() {
            ConnectionHeader::KeepAlive
        } else {
            ConnectionHeader::Default
        };
        self.out.clear();
        {
            let remove: Vec<&[u8]> = self.redits.remove.iter().map(Vec::as_slice).collect();
            let add: Vec<(&[u8], &[u8])> = self
                .redits
                .add
                .iter()
                .map(|(n, v)| (n.as_slice(), v.as_slice()))
                .collect();
            let edits = HeadEdits {
                connection,
                strip_hop_by_hop: false,
                remove: &remove,
                add: &add,
                normalise_authority: false,
            };
            write_response_head(&self.rhead, &self.rbuf, &edits, &mut self.out);
        }
        let head_len = self.rhead.head_len;
        let ct = self.fe.timeouts.client;
        let st = be.timeouts.server;
        if tunnel {
            self.out.extend_from_slice(&self.rbuf[head_len..]);
            self.rbuf.clear();
            if write_all(client, &self.out, ct).await.is_err() {
                return Some(Next::Close);
            }
            if !self.buf.is_empty() {
                let pending = std::mem::take(&mut self.buf);
                if write_all(server, &pending, st).await.is_err() {
                    return Some(Next::Close);
                }
            }
            let tt = be.timeouts.tunnel;
            let t = TunnelTimeouts {
                client: tt.or(ct),
                server: tt.or(st),
                client_fin: self.fe.timeouts.client_fin,
                server_fin: be.timeouts.server_fin,
            };
            let (mut cr, mut cw) = tokio::io::split(client);
            let (mut sr, mut sw) = tokio::io::split(server);
            let res = tunnel::run(
                &mut cr,
                &mut cw,
                &mut sr,
                &mut sw,
                t,
                self.snap.global.bufsize,
            )
            .await;
            o.bytes_out += res.down;
            o.bytes_in += res.up;
            return Some(Next::Close);
        }
        let mut decoder = ChunkedDecoder::for_response();
        let mut left: u64 = 0;
        let mut done = true;
        let avail = &self.rbuf[head_len..];
        let k = match self.rhead.body {
            BodyKind::None => 0,
            BodyKind::Length(n) => {
                let k = (avail.len() as u64).min(n) as usize;
                left = n - k as u64;
                done = left == 0;
                k
            }
            BodyKind::Chunked => match decoder.feed(avail) {
                Ok(k) => {
                    done = decoder.is_done();
                    k
                }
                Err(_) => {
                    self.rbuf.clear();
                    return self
                        .fail(client, o, 502, TermCause::ServerAbort, FinState::Data)
                        .await;
                }
            },
            BodyKind::UntilClose => {
                done = false;
                avail.len()
            }
        };
        let hl = self.out.len();
        let sent = write_all_pair(client, &self.out, &avail[..k], ct).await;
        self.rbuf.drain(..head_len + k);
        if sent.is_err() {
            o.term = TermCause::ClientAbort;
            o.fin = FinState::Data;
            self.rhead.keep_alive = false;
            return Some(Next::Close);
        }
        o.bytes_out += (hl + k) as u64;
        let bufsize = self.snap.global.bufsize;
        while !done {
            // `rbuf` is empty here unless a pipelined surplus arrived (then not reusable).
            let mut tmp = std::mem::take(&mut self.rbuf);
            tmp.clear();
            let r = read_more(server, &mut tmp, bufsize, st).await;
            match r {
                Ok(_) => {}
                Err(IoFail::Closed) if self.rhead.body == BodyKind::UntilClose => {
                    self.rbuf = tmp;
                    self.rbuf.clear();
                    self.rhead.keep_alive = false;
                    break;
                }
                Err(e) => {
                    o.term = if e == IoFail::Timeout {
                        TermCause::ServerTimeout
                    } else {
                        TermCause::ServerAbort
                    };
                    o.fin = FinState::Data;
                    self.rhead.keep_alive = false;
                    self.rbuf = tmp;
                    return Some(Next::Close);
                }
            }
            let k = match self.rhead.body {
                BodyKind::Length(_) => {
                    let k = (tmp.len() as u64).min(left) as usize;
                    left -= k as u64;
                    done = left == 0;
                    k
                }
                BodyKind::Chunked => match decoder.feed(&tmp) {
                    Ok(k) => {
                        done = decoder.is_done();
                        k
                    }
                    Err(_) => {
                        o.term = TermCause::ServerAbort;
                        o.fin = FinState::Data;
                        self.rhead.keep_alive = false;
                        self.rbuf = tmp;
                        return Some(Next::Close);
                    }
                },
                _ => tmp.len(),
            };
            if write_all(client, &tmp[..k], ct).await.is_err() {
                o.term = TermCause::ClientAbort;
                o.fin = FinState::Data;
                self.rhead.keep_alive = false;
                self.rbuf = tmp;
                return Some(Next::Close);
            }
            o.bytes_out += k as u64;
            tmp.drain(..k);
            self.rbuf = tmp;
        }
        Some(if client_keep {
            Next::KeepAlive
        } else {
            Next::Close
        })
    }
}
