//! The client side of an HTTP/1 connection, as the exchange drives it: reading a request
//! head, deciding whether the connection persists after a response, writing the
//! response head, measuring the response body forwarded as it is, and encoding the
//! proxy's own replies (error pages, `deny`, `return`, `100 Continue`).

use super::chunked::ChunkedDecoder;
use super::error::H1Error;
use super::head::{BodyKind, Limits, Version};
use super::pages::{error_response, parse_error_response};
use super::reply::{encode_reply, keeps_alive, with_close};
use super::request::{RequestHead, parse_request_into};
use super::response::ResponseHead;
use super::write::{ConnectionHeader, HeadEdits, write_response_message};
use crate::proxy::message::{Edits, Payload, Request, Response};
use crate::runtime::errors::Page;
use std::borrow::Cow;

impl RequestHead {
    /// The protocol-neutral view of this head, parsed from `buf`. Versions from 1.1 up
    /// are seen as 1.1 and older ones as 1.0, as the codec handles them.
    pub fn message<'a>(&'a self, buf: &'a [u8]) -> Request<'a> {
        Request {
            buf,
            method: self.method,
            method_span: self.method_span,
            target: self.uri,
            version: effective(self.version),
            headers: &self.headers,
            payload: payload(self.body),
            persist: self.keep_alive,
            expect_continue: self.expect_100,
            upgrade: self.upgrade,
            default_port: self.uri_port,
            host_port_trim: self.host_port_trim,
        }
    }
}

impl ResponseHead {
    /// The protocol-neutral view of this head, parsed from `buf`.
    pub fn message<'a>(&'a self, buf: &'a [u8]) -> Response<'a> {
        Response {
            buf,
            version: effective(self.version),
            status: self.status,
            reason: self.reason,
            headers: &self.headers,
            tunnel: self.tunnel,
            payload: payload(self.body),
            until_close: self.body == BodyKind::UntilClose,
            stale_length: self.content_length_ignored && self.body == BodyKind::Chunked,
        }
    }
}

/// Versions from 1.1 up are handled and written as 1.1; older ones stay as received.
fn effective(v: Version) -> Version {
    if v.at_least_11() { Version::HTTP_11 } else { v }
}

fn payload(b: BodyKind) -> Payload {
    match b {
        BodyKind::None => Payload::None,
        BodyKind::Length(n) => Payload::Length(n),
        BodyKind::Chunked | BodyKind::UntilClose => Payload::Streamed,
    }
}

/// Reads the request head at the start of `buf` into `head`: `Ok(Some(len))` once
/// complete, `Ok(None)` to read more. Chunk sizes received with the head are checked
/// too, as HAProxy's parser does: a malformed body is a bad request, never forwarded.
/// `Err(e)`: send [`H1Error::response`] (status [`H1Error::status`]) and close.
pub fn read_request(
    head: &mut RequestHead,
    buf: &[u8],
    limits: &Limits,
) -> Result<Option<usize>, H1Error> {
    let Some(n) = parse_request_into(head, buf, limits)? else {
        return Ok(None);
    };
    if head.body == BodyKind::Chunked {
        ChunkedDecoder::for_request().feed(&buf[n..])?;
    }
    Ok(Some(n))
}

/// The interim response the proxy sends itself when it reads the body before the
/// server sees the request (`option http-buffer-request` and `Expect: 100-continue`).
pub fn continue_response() -> &'static [u8] {
    b"HTTP/1.1 100 Continue\r\n\r\n"
}

/// Whether the client connection persists after `resp` is forwarded: the exchange
/// allows it (`allowed`: frontend mode, request fully read) and so do both messages (no
/// tunnel, a response delimited otherwise than by closing).
pub fn client_persists(req: &RequestHead, resp: &ResponseHead, allowed: bool) -> bool {
    allowed && req.keep_alive && !resp.tunnel && resp.body != BodyKind::UntilClose
}

/// Writes the head of `resp` (read from `rbuf`) for the client into `out`, with the
/// rules' `edits` and the Connection header that `persist` calls for (HAProxy 2.6:
/// `close` when the connection ends, `keep-alive` to an HTTP/1.0 client kept, nothing
/// on a tunnel).
pub fn write_response(
    req: &RequestHead,
    resp: &ResponseHead,
    rbuf: &[u8],
    persist: bool,
    edits: &Edits,
    out: &mut Vec<u8>,
) {
    write_response_for(req.version, &resp.message(rbuf), persist, edits, out);
}

/// [`write_response`] for a neutral response head, answering a request of version
/// `req_version`.
pub fn write_response_for(
    req_version: Version,
    resp: &Response<'_>,
    persist: bool,
    edits: &Edits,
    out: &mut Vec<u8>,
) {
    let connection = if resp.tunnel {
        ConnectionHeader::Default
    } else if !persist {
        ConnectionHeader::Close
    } else if !req_version.at_least_11() {
        ConnectionHeader::KeepAlive
    } else {
        ConnectionHeader::Default
    };
    let mut remove_buf: [&[u8]; 8] = [&[]; 8];
    let mut add_buf: [(&[u8], &[u8]); 8] = [(&[], &[]); 8];
    let remove_vec: Vec<&[u8]>;
    let add_vec: Vec<(&[u8], &[u8])>;
    let remove: &[&[u8]] = if edits.remove.len() <= 8 {
        for (d, r) in remove_buf.iter_mut().zip(&edits.remove) {
            *d = r.as_slice();
        }
        &remove_buf[..edits.remove.len()]
    } else {
        remove_vec = edits.remove.iter().map(Vec::as_slice).collect();
        &remove_vec
    };
    let add: &[(&[u8], &[u8])] = if edits.add.len() <= 8 {
        for (d, (n, v)) in add_buf.iter_mut().zip(&edits.add) {
            *d = (n.as_slice(), v.as_slice());
        }
        &add_buf[..edits.add.len()]
    } else {
        add_vec = edits
            .add
            .iter()
            .map(|(n, v)| (n.as_slice(), v.as_slice()))
            .collect();
        &add_vec
    };
    let edits_h = HeadEdits {
        connection,
        strip_hop_by_hop: false,
        remove,
        add,
        normalise_authority: false,
    };
    let start = out.len();
    write_response_message(resp, &edits_h, out);
    if let Some((status, reason)) = &edits.status
        && let Some(eol) = memchr::memmem::find(&out[start..], b"\r\n")
        && let Some(sp) = memchr::memchr(b' ', &out[start..start + eol])
    {
        let mut line = format!(" {status:03} ").into_bytes();
        line.extend_from_slice(reason);
        out.splice(start + sp..start + eol, line);
    }
}

/// A response body forwarded to the client as the server framed it: says how many bytes
/// of each read belong to the body and when it ends.
#[derive(Debug)]
pub struct ResponseBody {
    kind: BodyKind,
    left: u64,
    decoder: ChunkedDecoder,
    done: bool,
}

impl ResponseBody {
    /// The body that follows `resp`.
    pub fn new(resp: &ResponseHead) -> Self {
        let (left, done) = match resp.body {
            BodyKind::None => (0, true),
            BodyKind::Length(n) => (n, n == 0),
            BodyKind::Chunked | BodyKind::UntilClose => (0, false),
        };
        ResponseBody {
            kind: resp.body,
            left,
            decoder: ChunkedDecoder::for_response(),
            done,
        }
    }

    /// Of `input` (server bytes after those already taken), how many belong to the body;
    /// they are forwarded as they are. `Err`: malformed chunked framing.
    pub fn take(&mut self, input: &[u8]) -> Result<usize, H1Error> {
        match self.kind {
            BodyKind::None => Ok(0),
            BodyKind::Length(_) => {
                let k = (input.len() as u64).min(self.left) as usize;
                self.left -= k as u64;
                self.done = self.left == 0;
                Ok(k)
            }
            BodyKind::Chunked => {
                let k = self.decoder.feed(input)?;
                self.done = self.decoder.is_done();
                Ok(k)
            }
            BodyKind::UntilClose => Ok(input.len()),
        }
    }

    /// The whole body went through.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The body ends when the server closes: a close is its end, not an error.
    pub fn ends_at_close(&self) -> bool {
        self.kind == BodyKind::UntilClose
    }
}

/// A reply the proxy writes itself, encoded for an HTTP/1 client.
#[derive(Debug)]
pub struct LocalReply {
    /// The bytes to send.
    pub bytes: Cow<'static, [u8]>,
    /// The client connection persists after it.
    pub persist: bool,
    /// Counted in the log's bytes (`%B`): HAProxy's HTTP/1 layer does not count its own
    /// raw pages.
    pub counted: bool,
}

/// The error page for `status` (`page`: an `errorfile` or HAProxy's own), on a
/// connection the exchange would keep (`persist`: request fully read, client and
/// frontend willing). 408 is HAProxy's HTTP/1 layer's own raw page, and 400 (a body that
/// turned out malformed) closes too; a page without a length closes, and says so.
pub fn error_page(status: u16, page: Page<'_>, persist: bool) -> LocalReply {
    if status == 408 {
        return LocalReply {
            bytes: Cow::Borrowed(parse_error_response(status)),
            persist: false,
            counted: false,
        };
    }
    let bytes = encode(page);
    let persist = status != 400 && persist && keeps_alive(&bytes);
    let bytes = if persist || !keeps_alive(&bytes) {
        bytes
    } else {
        closing(bytes)
    };
    LocalReply {
        bytes,
        persist,
        counted: true,
    }
}

/// `reply` without its body: the answer to a HEAD request.
pub fn head_only(mut reply: LocalReply) -> LocalReply {
    if let Some(i) = memchr::memmem::find(&reply.bytes, b"\r\n\r\n") {
        reply.bytes = Cow::Owned(reply.bytes[..i + 4].to_vec());
    }
    reply
}

/// A `deny` or `return` reply (`page`), keeping the connection when `persist`, else
/// announcing `connection: close`.
pub fn local_reply(page: Page<'_>, persist: bool) -> LocalReply {
    let bytes = encode(page);
    let bytes = if persist { bytes } else { closing(bytes) };
    LocalReply {
        bytes,
        persist,
        counted: true,
    }
}

/// The bytes of a page on an HTTP/1 connection.
fn encode(page: Page<'_>) -> Cow<'static, [u8]> {
    match page {
        Page::Reply(r) => Cow::Owned(encode_reply(r)),
        Page::Empty => Cow::Borrowed(b""),
        Page::Builtin(status) => Cow::Borrowed(error_response(status)),
    }
}

/// `bytes` announcing `connection: close`.
fn closing(bytes: Cow<'static, [u8]>) -> Cow<'static, [u8]> {
    let owned = match with_close(&bytes) {
        Cow::Owned(v) => Some(v),
        Cow::Borrowed(_) => None,
    };
    owned.map_or(bytes, Cow::Owned)
}

/// HAProxy's own page for `status` as a neutral reply (for replies that add headers to
/// it, such as `http-request auth`'s 401).
pub fn builtin_reply(status: u16) -> Option<crate::config::model::Reply> {
    super::reply::parse_errorfile(super::pages::error_response(status))
        .ok()
        .flatten()
}
