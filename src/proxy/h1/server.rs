//! The server side of an HTTP/1 connection, as the exchange drives it: writing the
//! request head with the Connection header HAProxy 2.6 sends, framing the request body
//! toward the server, reading the response head, and whether the connection may be
//! reused afterwards.

use super::chunked::ChunkedDecoder;
use super::error::{H1Error, H1ErrorKind, Side};
use super::head::{BodyKind, Limits};
use super::request::RequestHead;
use super::response::{ResponseHead, parse_response_into};
use super::write::{ConnectionHeader, HeadEdits, write_request_message};
use crate::proxy::message::{Edits, Method, Payload, Request};

/// Writes the request head for the server into `out` (cleared first), with the rules'
/// `edits` and `extra` headers appended (e.g. `x-forwarded-for`). `persist`: the server
/// connection is meant to stay open (`option http-keep-alive`). As HAProxy 2.6:
/// `connection: keep-alive` only toward an HTTP/1.0 request kept alive (not with a
/// chunked body), `close` only where HTTP/1.1 would keep the connection, nothing on a
/// protocol upgrade (its `Connection: upgrade` must reach the server alone).
pub fn write_request(
    head: &RequestHead,
    buf: &[u8],
    persist: bool,
    edits: &Edits,
    extra: Option<(&[u8], &[u8])>,
    out: &mut Vec<u8>,
) {
    out.clear();
    write_request_for(&head.message(buf), persist, edits, extra, out);
}

/// [`write_request`] for a neutral request head, appended to `out`.
pub fn write_request_for(
    req: &Request<'_>,
    persist: bool,
    edits: &Edits,
    extra: Option<(&[u8], &[u8])>,
    out: &mut Vec<u8>,
) {
    let (v11, upgrade) = (req.version.at_least_11(), req.upgrade);
    let chunked = req.payload == Payload::Streamed;
    let connection = match persist {
        true if !v11 && !upgrade && !chunked => ConnectionHeader::KeepAlive,
        true => ConnectionHeader::Default,
        false if v11 && !upgrade => ConnectionHeader::Close,
        false => ConnectionHeader::Default,
    };
    if edits.is_empty() && extra.is_none() {
        let edits = HeadEdits {
            connection,
            strip_hop_by_hop: false,
            remove: &[],
            add: &[],
            normalise_authority: true,
        };
        write_request_message(req, &edits, out);
        return;
    }
    let start = out.len();
    let remove: Vec<&[u8]> = edits.remove.iter().map(Vec::as_slice).collect();
    let mut add: Vec<(&[u8], &[u8])> = edits
        .add
        .iter()
        .map(|(n, v)| (n.as_slice(), v.as_slice()))
        .collect();
    add.extend(extra);
    let head_edits = HeadEdits {
        connection,
        strip_hop_by_hop: false,
        remove: &remove,
        add: &add,
        normalise_authority: true,
    };
    write_request_message(req, &head_edits, out);
    if edits_line(edits) {
        let mut line = out.split_off(start);
        rewrite_request_line(&mut line, edits.method.as_deref(), edits.target.as_deref());
        out.extend_from_slice(&line);
    }
}

fn edits_line(e: &Edits) -> bool {
    e.method.is_some() || e.target.is_some()
}

/// Replaces the method and/or target of the request line at the start of `out`.
fn rewrite_request_line(out: &mut Vec<u8>, method: Option<&[u8]>, target: Option<&[u8]>) {
    let Some(eol) = memchr::memmem::find(out, b"\r\n") else {
        return;
    };
    let line = &out[..eol];
    let Some(sp1) = memchr::memchr(b' ', line) else {
        return;
    };
    let Some(sp2) = memchr::memrchr(b' ', line).filter(|&p| p > sp1) else {
        return;
    };
    let mut new = Vec::with_capacity(eol + 64);
    new.extend_from_slice(method.unwrap_or(&line[..sp1]));
    new.push(b' ');
    new.extend_from_slice(target.unwrap_or(&line[sp1 + 1..sp2]));
    new.extend_from_slice(&line[sp2..]);
    out.splice(..eol, new);
}

/// What [`RequestBody::take`] did with the client's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Taken {
    /// How many bytes at the start of the input belong to the body.
    pub used: usize,
    /// They were framed again into the output (chunked); otherwise they go to the
    /// server as they are.
    pub reframed: bool,
}

/// A request body on its way to the server: `Content-Length` bytes as they are, a
/// chunked body decoded and encoded again (only framing written here reaches the server).
#[derive(Debug)]
pub struct RequestBody {
    chunked: bool,
    left: u64,
    decoder: ChunkedDecoder,
    done: bool,
}

impl RequestBody {
    /// The body that follows `head`.
    pub fn new(head: &RequestHead) -> Self {
        let (chunked, left, done) = match head.body {
            BodyKind::Length(n) => (false, n, n == 0),
            BodyKind::Chunked => (true, 0, false),
            BodyKind::None | BodyKind::UntilClose => (false, 0, true),
        };
        RequestBody {
            chunked,
            left,
            decoder: ChunkedDecoder::for_request(),
            done,
        }
    }

    /// Takes the body bytes at the start of `input`; re-framed ones are appended to
    /// `out`. `Err`: malformed chunked framing (a bad request).
    pub fn take(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<Taken, H1Error> {
        if self.done {
            return Ok(Taken {
                used: 0,
                reframed: false,
            });
        }
        if self.chunked {
            let used = self.decoder.reencode(input, out)?;
            self.done = self.decoder.is_done();
            return Ok(Taken {
                used,
                reframed: true,
            });
        }
        let used = (input.len() as u64).min(self.left) as usize;
        self.left -= used as u64;
        self.done = self.left == 0;
        Ok(Taken {
            used,
            reframed: false,
        })
    }

    /// The whole body went to the server.
    pub fn is_done(&self) -> bool {
        self.done
    }
}

/// Reads the response head at the start of `rbuf` into `resp`: `Ok(Some(len))` once
/// complete, `Ok(None)` to read more. `req` decides whether a body may follow, and a
/// `101` to a request that asked for no upgrade is refused (HAProxy 2.6 answers 502).
pub fn read_response(
    resp: &mut ResponseHead,
    rbuf: &[u8],
    limits: &Limits,
    req: &RequestHead,
) -> Result<Option<usize>, H1Error> {
    read_response_for(resp, rbuf, limits, req.method, req.upgrade)
}

/// [`read_response`] for a request of `method` that asked for an upgrade or not.
pub fn read_response_for(
    resp: &mut ResponseHead,
    rbuf: &[u8],
    limits: &Limits,
    method: Method,
    upgrade: bool,
) -> Result<Option<usize>, H1Error> {
    match parse_response_into(resp, rbuf, limits, method)? {
        Some(_) if resp.is_switching_protocols() && !upgrade => Err(H1Error::new(
            H1ErrorKind::UnrequestedSwitch,
            Side::Response,
            0,
        )),
        r => Ok(r),
    }
}

/// Whether the server connection may carry another request after `resp` (the
/// exchange also needs it clean: nothing left unread).
pub fn server_persists(resp: &ResponseHead) -> bool {
    resp.keep_alive && !resp.tunnel
}
