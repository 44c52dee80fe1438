//! HTTP/1.x message parsing and framing for the http-mode hot path: request/response heads
//! parsed zero-copy (spans into the caller's buffer), HAProxy 2.6 request hygiene, body
//! framing, a streaming chunked validator, head rewriting and HAProxy's built-in error
//! pages. Pure code, no I/O. Keywords: `tune.bufsize`, `tune.maxrewrite`,
//! `tune.max_http_hdr` (through [`Limits`]), `errorfile` defaults ([`error_response`]).
//!
//! # How the proxy uses it
//!
//! 1. Read client bytes into a buffer; call [`parse_request_into`] (reusing one
//!    [`RequestHead`] per connection). `Ok(None)`: read more. `Err(e)`: send
//!    [`H1Error::response`] (status [`H1Error::status`], 400 or 422) and close.
//! 2. Pick a server, then [`write_request_head`] into the server-side output with the
//!    [`HeadEdits`] the rules computed (e.g. `x-forwarded-for`).
//! 3. Forward the body after `head_len` according to [`RequestHead::body`]:
//!    `Length(n)`: exactly n bytes; `Chunked`: pass every read through
//!    [`ChunkedDecoder::reencode`] (of a [`ChunkedDecoder::for_request`]) and forward
//!    what it writes, the body decoded and encoded again as HAProxy does (CRLF, no
//!    extensions), until [`ChunkedDecoder::is_done`]: framing the client wrote never
//!    reaches the server. Bytes of the body already read with the head are checked
//!    ([`ChunkedDecoder::feed`]) before any server is contacted; `None`: nothing.
//! 4. Parse the server's head with [`parse_response_into`] (the request method decides
//!    whether a body follows). [`ResponseHead::is_interim`] (100 Continue...): forward it
//!    and parse again. [`ResponseHead::tunnel`] (101, 2xx to CONNECT): splice both ways.
//!    Errors map to 502 ([`error_response`]`(502)`).
//! 5. [`write_response_head`], then stream the body by [`ResponseHead::body`]
//!    (`UntilClose`: until the server closes; the client connection must then close).
//!    Keep the connections alive only if both `keep_alive` facts allow it.
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

mod chunked;
pub mod client;
mod error;
mod head;
mod pages;
mod reply;
mod request;
mod response;
pub mod server;
mod write;

#[cfg(test)]
mod tests;

pub use chunked::ChunkedDecoder;
pub use error::{H1Error, H1ErrorKind, Side};
pub use head::{BodyKind, ConnectionTokens, Header, HeaderKind, Limits, Span, Version};
pub use pages::{error_response, parse_error_response};
pub use reply::{encode_reply, keeps_alive, parse_errorfile, with_close};
pub use request::{Method, RequestHead, parse_request, parse_request_into};
pub use response::{ResponseHead, parse_response, parse_response_into};
pub use write::{ConnectionHeader, HeadEdits, write_request_head, write_response_head};
