//! HTTP/1.x message parsing and framing for the http-mode hot path: request/response heads
//! parsed zero-copy (spans into the caller's buffer), HAProxy 2.6 request hygiene, body
//! framing, a streaming chunked validator, head rewriting and HAProxy's built-in error
//! pages. Pure code, no I/O: the exchange reads and writes, the codec says what the bytes
//! mean and which bytes to send. Keywords: `tune.bufsize`, `tune.maxrewrite`,
//! `tune.max_http_hdr` (through [`Limits`]), `errorfile` defaults ([`error_response`]).
//!
//! # How the exchange uses it
//!
//! The exchange (`proxy::http`) works on the neutral model (`proxy::message`) through the
//! codec traits (`proxy::codec`); this codec is the only code that knows HTTP/1 syntax.
//! [`H1Client`] implements `ClientCodec` over the client's stream (request heads read
//! with [`client::read_request`], bodies as frames, responses written with
//! [`client::write_response_for`], replies with [`client::error_page`] /
//! [`client::local_reply`]); [`H1Server`] implements `ServerCodec` over a server
//! connection (heads written with [`server::write_request_for`], responses read with
//! [`server::read_response_for`], reuse by [`server::server_persists`]). Bodies become
//! neutral frames: `Content-Length` data borrowed from the read buffer as it is, chunked
//! data decoded ([`ChunkedDecoder::decode`]) into one `Data` frame per read and encoded
//! again by the writing side ([`encode_chunked`]: one chunk per read, uppercase hex, no
//! extensions, trailer names lowercased), so framing the sender wrote never reaches the
//! other side, as with HAProxy 2.6. The per-call functions of [`client`] and [`server`]
//! (`RequestBody`, `ResponseBody`, …) stay for the unit tests and benches.
//!
//! Underneath: [`parse_request_into`], [`parse_response_into`], [`ChunkedDecoder`],
//! [`write_request_head`], [`write_response_head`], HAProxy's pages
//! ([`error_response`], [`parse_error_response`]) and errorfiles ([`parse_errorfile`]).
//!
//! # Conformance with HAProxy 2.6.12 (checked against the real haproxy)
//!
//! Accepted like HAProxy: bare LF line ends, empty lines before the request line,
//! several SP/HT between request-line parts, any `HTTP/d.d` version (1.1 and up are
//! handled and forwarded as 1.1), lowercase or unknown method tokens, missing Host in 1.1,
//! empty Host, absolute-form URIs, `Content-Length: 2, 2` and identical duplicates (written
//! once), leading zeros, control bytes other than NUL in values, `Transfer-Encoding:
//! chunked,`. Refused with 400 like HAProxy: heads over `max_head` bytes (HAProxy 2.6
//! answers 400, not 431/414, also for a too-long URI), `max_headers - 1` header lines or
//! more, differing Content-Length values, non-numeric/overflowing lengths, codings not
//! ending with a single `chunked`, bare CR, whitespace before the colon, invalid name
//! bytes, empty names, CTL/space/`#`/non-ASCII in the URI, HTTP/0.9 requests, trailing
//! space after the version, differing Host headers or a target authority that differs
//! from Host (absolute URIs up to the scheme's default port; `GET host:443` or `GET ab`
//! with another Host), a CONNECT target that is not `host:port`, a WebSocket upgrade
//! without `Sec-WebSocket-Key`. 422 like HAProxy: a
//! coding before `chunked` (`gzip, chunked`).
//!
//! Deliberate differences (stricter): Content-Length together with Transfer-Encoding in a
//! request is refused with 400 (HAProxy drops the length and goes on chunked); obs-fold
//! lines are refused (HAProxy unfolds them into spaces); NUL in header values is refused
//! (HAProxy 2.6.12 forwards it); `PRI * HTTP/2.0` is an error (HAProxy switches the
//! connection to HTTP/2); response status codes must be exactly three digits >= 100.
//!
//! What HAProxy sends on: header names are lowercased; the request line is rebuilt with
//! single spaces; `close`/`keep-alive` tokens are removed from Connection; identical
//! Host headers are written once; the default port of an absolute `http`/`https` URI
//! (and of a Host carrying the same port, or of a CONNECT's Host) is left out; a request
//! with a body loses its `Upgrade` header; chunked bodies are re-encoded, trailer names
//! lowercased, `Transfer-Encoding` trailers dropped. HAProxy does
//! NOT strip other hop-by-hop headers (Keep-Alive, TE, Upgrade, headers named in
//! Connection all pass); [`HeadEdits::strip_hop_by_hop`] offers the RFC behaviour.

mod body;
mod bufs;
mod chunked;
pub mod client;
mod client_codec;
mod error;
mod head;
pub mod htx_size;
mod pages;
mod reply;
mod request;
mod response;
pub mod server;
mod server_codec;
mod websocket;
mod write;

#[cfg(test)]
mod tests;

pub use chunked::{ChunkedDecoder, encode_chunked};
pub use client_codec::H1Client;
pub use error::{H1Error, H1ErrorKind, Side};
pub use head::{BodyKind, ConnectionTokens, Header, HeaderKind, Limits, Span, Version};
pub use pages::{error_response, parse_error_response};
pub use reply::{encode_reply, keeps_alive, parse_errorfile, with_close};
pub use request::{Method, RequestHead, parse_request, parse_request_into};
pub use response::{ResponseHead, parse_response, parse_response_into};
pub use server_codec::H1Server;
pub use write::{
    ConnectionHeader, HeadEdits, write_request_head, write_request_message, write_response_head,
    write_response_message,
};
