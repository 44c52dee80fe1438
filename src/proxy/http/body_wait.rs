//! `http-request wait-for-body` and `option http-buffer-request` (HAProxy 2.6's
//! `http_wait_for_msg_body()`): the request rules stop, the request body is read
//! into the transaction ([`HeldBody`]) until it ends, the buffer is full, `at-least`
//! bytes came or the wait's time ran out (408, `cD`), and the rules resume; the
//! body fetches (`req.body`, …) read it. The held bytes go to the server first, as
//! body frames the server codec frames again (a `Content-Length` body unchanged, a
//! chunked one re-chunked), then the rest of the body is streamed as usual.
//!
//! `http-response wait-for-body` holds the response body the same way
//! ([`Session::wait_for_response_body`]): the `http-response` rules after it read it
//! (`res.body`, …), the held bytes go to the client first. Its time running out
//! answers 504 (`sR`), as HAProxy 2.6; a server closing ends the wait with what came.

use super::exchange::{Exchange, Next, Session};
use super::io::IoFail;
use super::rules::BodyWait;
use super::server_side::ServerSide;
use crate::acl::ReqBody;
use crate::log::{FinState, TermCause};
use crate::proxy::codec::{BodyFail, ClientCodec, ServerCodec};
use crate::proxy::message::{Field, Frames, Payload, Request, Response};
use std::time::Instant;

/// The request body read before the rules went on.
#[derive(Debug, Default)]
pub struct HeldBody {
    /// The body was waited for (the fetches read `data`).
    held: bool,
    /// The body bytes read, decoded.
    data: Vec<u8>,
    /// Its trailers, when it ended with some.
    trailers: Vec<Field>,
    /// The body ended within `data`.
    end: bool,
    /// It ended with a trailer section, even an empty one ([`Frames::end_of_trailers`]).
    end_of_trailers: bool,
    /// Bytes of the connection it took, framing included (`%U`).
    wire: usize,
    /// How many of `data` the buffer holds (the fetches see no more; all of it is
    /// forwarded).
    room: usize,
}

impl HeldBody {
    /// Adds frames read from the client: their data, wire size, and the end with its
    /// trailers.
    fn absorb(&mut self, f: &Frames<'_>) {
        self.data.extend_from_slice(f.data);
        self.wire += f.wire;
        if f.end {
            self.trailers.extend(f.trailers.iter().cloned());
            self.end = true;
            self.end_of_trailers = f.end_of_trailers;
        }
    }

    /// Forgets the previous request's body (a large one's memory too).
    pub fn clear(&mut self) {
        self.held = false;
        self.room = 0;
        self.end = false;
        self.end_of_trailers = false;
        self.wire = 0;
        self.trailers.clear();
        self.data.clear();
        if self.data.capacity() > 64 * 1024 {
            self.data = Vec::new();
        }
    }

    /// Whether the body was waited for.
    pub fn is_held(&self) -> bool {
        self.held
    }

    /// The held frames, to go to the server before the rest of the body.
    pub fn frames(&self) -> Frames<'_> {
        Frames {
            data: &self.data,
            trailers: if self.end { &self.trailers } else { &[] },
            end: self.end,
            wire: self.wire,
            end_of_trailers: self.end_of_trailers,
        }
    }

    /// The whole body is held.
    pub fn ended(&self) -> bool {
        self.end
    }
}

/// The body of `req` as the fetches see it: what was held (by a wait, or the bytes
/// that came with the head), with its announced size.
pub fn req_body<'a>(req: &Request<'_>, held: Option<&'a HeldBody>) -> Option<ReqBody<'a>> {
    seen_body(req.payload, held)
}

/// The body of `resp` as the response fetches see it: what `http-response
/// wait-for-body` held, or nothing but its announced size before.
pub fn res_body<'a>(resp: &Response<'_>, held: Option<&'a HeldBody>) -> Option<ReqBody<'a>> {
    seen_body(resp.payload, held)
}

/// A message body as the fetches see it: what was held, its size as `payload`
/// announces it.
fn seen_body(payload: Payload, held: Option<&HeldBody>) -> Option<ReqBody<'_>> {
    let declared = match payload {
        Payload::None => Some(0),
        Payload::Length(n) => Some(n),
        Payload::Streamed => None,
    };
    let data = held
        .filter(|h| h.held)
        .map_or(&[][..], |h| &h.data[..h.data.len().min(h.room)]);
    Some(ReqBody { data, declared })
}

/// How a wait for the response body ended early.
pub(super) enum ResWaitEnd {
    /// The wait's time ran out (504).
    Time,
    /// The server's response was malformed (502).
    Invalid,
}

/// The most body bytes a wait holds: HAProxy's buffer less its `tune.maxrewrite`
/// reserve and the head as its HTX buffer stores it (a 48-byte header, 8 bytes per
/// block, the start line's parts with 24 bytes of their own, each header's name and
/// value, the end of headers), close to what HAProxy holds.
fn room(bufsize: usize, maxrewrite: usize, req: &Request<'_>) -> usize {
    let line = req.method_span.len() + req.target.len() + 8;
    room_for(bufsize, maxrewrite, line, req.headers)
}

/// [`room`] for a head whose start line's parts take `line` bytes.
fn room_for(
    bufsize: usize,
    maxrewrite: usize,
    line: usize,
    headers: &[crate::proxy::message::Header],
) -> usize {
    const HTX: usize = 48;
    const BLOCK: usize = 8;
    let line = 24 + line + BLOCK;
    let headers: usize = headers
        .iter()
        .map(|h| h.name.len() + h.value.len() + BLOCK)
        .sum();
    let head = HTX + line + headers + 1 + BLOCK;
    bufsize
        .saturating_sub(maxrewrite)
        .saturating_sub(head + BLOCK)
}

impl Session {
    /// What HAProxy's body fetches see before any wait: the body bytes that came with
    /// the head, held without reading more (they go to the server first, as a body
    /// waited for does). Only when the configuration has a body fetch: otherwise the
    /// bytes stay in the codec's buffer and are forwarded from there, uncopied. `Err`:
    /// they are malformed (a bad chunk size).
    pub(super) fn hold_buffered_body<C: ClientCodec>(
        &self,
        client: &mut C,
        ex: &mut Exchange,
    ) -> Result<(), BodyFail> {
        if !self.snap.global.reads_req_body || ex.txn.body.held || !client.body_buffered() {
            return Ok(());
        }
        let limit = room(
            self.snap.global.bufsize,
            self.snap.global.maxrewrite,
            &client.request(),
        );
        let f = client.take_body()?;
        let held = &mut ex.txn.body;
        held.held = true;
        held.room = limit;
        held.absorb(&f);
        Ok(())
    }

    /// Reads the request body into the transaction as `w` asks, answering `Expect:
    /// 100-continue` first. `Err`: the exchange ended (408 when the time ran out, as
    /// HAProxy; a client gone closes silently).
    pub(super) async fn wait_for_body<C: ClientCodec>(
        &mut self,
        client: &mut C,
        ex: &mut Exchange,
        w: &BodyWait,
    ) -> Result<(), Option<Next>> {
        let req = client.request();
        // Nothing to wait for without a body, nor for CONNECT.
        if !req.payload.is_some() || req.method == crate::proxy::message::Method::Connect {
            return Ok(());
        }
        let limit = room(self.snap.global.bufsize, self.snap.global.maxrewrite, &req);
        if req.expect_continue && !ex.txn.body.held {
            if client
                .write_continue(self.fe.timeouts.client)
                .await
                .is_err()
            {
                return Err(Some(Next::Close));
            }
            ex.edits.remove.push(b"expect".to_vec());
        }
        let held = &mut ex.txn.body;
        held.held = true;
        held.room = limit;
        let deadline = w.time.map(|t| Instant::now() + t);
        let client_timeout = self.fe.timeouts.client;
        let enough = |h: &HeldBody| {
            h.end || h.data.len() >= limit || (w.at_least > 0 && h.data.len() as u64 >= w.at_least)
        };
        while !enough(held) {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let wait = match (left, client_timeout) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            match client.read_body(wait).await {
                Ok(f) => held.absorb(&f),
                Err(BodyFail::Io(IoFail::Timeout)) => {
                    return Err(self
                        .fail_cold(client, ex, 408, TermCause::ClientTimeout, FinState::Data)
                        .await);
                }
                Err(BodyFail::Io(_)) => {
                    // The client left in the middle of its body: `CD`, no response.
                    (ex.term, ex.fin) = (TermCause::ClientAbort, FinState::Data);
                    ex.status = -1;
                    return Err(Some(Next::Close));
                }
                Err(BodyFail::Invalid) => {
                    return Err(self
                        .fail_cold(client, ex, 400, TermCause::Proxy, FinState::Request)
                        .await);
                }
            }
        }
        Ok(())
    }
}

impl Session {
    /// Reads the response body into the transaction as `w` asks (`http-response
    /// wait-for-body`), without losing the head the rules read: its end, a full buffer,
    /// `at-least` bytes, or the server closing (the rest of the exchange sees that as
    /// usual). `st`: `timeout server`.
    pub(super) async fn wait_for_response_body(
        &self,
        server: &mut ServerSide,
        held: &mut HeldBody,
        w: &BodyWait,
        st: Option<std::time::Duration>,
    ) -> Result<(), ResWaitEnd> {
        let resp = server.response();
        if !resp.payload.is_some() {
            return Ok(());
        }
        let line = 8 + 3 + resp.reason.len();
        let limit = room_for(
            self.snap.global.bufsize,
            self.snap.global.maxrewrite,
            line,
            resp.headers,
        );
        let enough = |h: &HeldBody| {
            h.end || h.data.len() >= limit || (w.at_least > 0 && h.data.len() as u64 >= w.at_least)
        };
        if !held.held {
            held.held = true;
            held.room = limit;
            // What came with the head first.
            let (_, f) = server.head_and_body().map_err(|_| ResWaitEnd::Invalid)?;
            held.take(&f);
        }
        let deadline = w.time.map(|t| Instant::now() + t);
        while !enough(held) {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let wait = match (left, st) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            match server.hold_body(wait).await {
                Ok(f) => held.take(&f),
                Err(BodyFail::Io(IoFail::Timeout)) => return Err(ResWaitEnd::Time),
                // The server left: the rules go on with what came; forwarding the
                // body then meets the close.
                Err(BodyFail::Io(_)) => return Ok(()),
                Err(BodyFail::Invalid) => return Err(ResWaitEnd::Invalid),
            }
        }
        Ok(())
    }
}

impl HeldBody {
    /// Adds frames read to what is held.
    pub(super) fn take(&mut self, f: &Frames<'_>) {
        self.data.extend_from_slice(f.data);
        self.wire += f.wire;
        // The end once (a codec asked again after it says so with nothing else).
        if f.end && !self.end {
            self.trailers.extend(f.trailers.iter().cloned());
            self.end = true;
            self.end_of_trailers = f.end_of_trailers;
        }
    }
}

/// Pushes the held body to the server codec (after the head), ahead of what the
/// client codec holds beyond it. `true`: a body was held.
pub(super) fn push_held<S: ServerCodec>(ex: &mut Exchange, server: &mut S) -> bool {
    let held = &ex.txn.body;
    if !held.is_held() {
        return false;
    }
    let f = held.frames();
    if !f.is_empty() {
        server.push_body(&f);
    }
    ex.bytes_in += f.htx_size();
    true
}
