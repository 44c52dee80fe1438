//! Errors of the HTTP/1 layer: what was wrong, where, and on which side; `status()` maps
//! them to the status HAProxy 2.6 answers (400/422 for a client, 502 for a server).

use std::fmt;

/// Which peer sent the faulty message; decides the status an error maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The client's request (errors answer 400, or 422 for an unsupported coding).
    Request,
    /// The server's response (errors answer 502).
    Response,
}

/// What exactly was wrong with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum H1ErrorKind {
    /// The head did not fit in `Limits::max_head` bytes (HAProxy: 400 for requests).
    HeadTooLarge,
    /// More header lines than `Limits::max_headers - 1` (tune.max_http_hdr).
    TooManyHeaders,
    /// The request or status line is malformed (method, URI, version, status code).
    BadStartLine,
    /// The HTTP/2 connection preface `PRI * HTTP/2.0` reached an HTTP/1 parser.
    Http2Preface,
    /// A header line is malformed: empty name, invalid name character, no colon, or
    /// whitespace before the colon.
    BadHeaderName,
    /// A header value holds a forbidden byte (NUL).
    BadHeaderValue,
    /// A CR not followed by LF.
    BareCr,
    /// An obs-fold continuation line (starting with SP or HT).
    ObsFold,
    /// A Content-Length value that is not a list of decimal numbers, or overflows.
    BadContentLength,
    /// Several Content-Length values that differ.
    ConflictingContentLength,
    /// Both Content-Length and Transfer-Encoding in a request (smuggling vector).
    ContentLengthWithTransferEncoding,
    /// Transfer-Encoding whose final coding is not `chunked`, or `chunked` twice.
    BadTransferEncoding,
    /// A request Transfer-Encoding with a coding other than `chunked` before it
    /// (HAProxy 2.6 answers 422).
    UnsupportedTransferCoding,
    /// Several Host headers that differ, or a Host that differs from an absolute URI's
    /// authority.
    ConflictingHost,
    /// A WebSocket upgrade request without `Sec-WebSocket-Key`.
    BadWebSocketUpgrade,
    /// A CONNECT whose target is not `host:port` (authority-form with a port).
    BadAuthority,
    /// An HTTP/1.0 protocol-upgrade request with a body (HAProxy 2.6 answers 413).
    UpgradeWithBody,
    /// A malformed chunk size line, chunk terminator or trailer.
    BadChunk,
    /// A `101 Switching Protocols` to a request that asked for no upgrade (HAProxy 2.6
    /// answers 502).
    UnrequestedSwitch,
}

impl H1ErrorKind {
    fn describe(self) -> &'static str {
        match self {
            Self::HeadTooLarge => "message head too large",
            Self::TooManyHeaders => "too many header lines",
            Self::BadStartLine => "malformed start line",
            Self::Http2Preface => "HTTP/2 preface on an HTTP/1 connection",
            Self::BadHeaderName => "malformed header name",
            Self::BadHeaderValue => "forbidden byte in header value",
            Self::BareCr => "CR not followed by LF",
            Self::ObsFold => "obsolete header line folding",
            Self::BadContentLength => "invalid Content-Length",
            Self::ConflictingContentLength => "conflicting Content-Length values",
            Self::ContentLengthWithTransferEncoding => "both Content-Length and Transfer-Encoding",
            Self::BadTransferEncoding => "Transfer-Encoding does not end with a single chunked",
            Self::UnsupportedTransferCoding => "unsupported transfer coding",
            Self::ConflictingHost => "conflicting Host",
            Self::BadAuthority => "CONNECT target is not host:port",
            Self::UpgradeWithBody => "HTTP/1.0 upgrade request with a body",
            Self::BadWebSocketUpgrade => "WebSocket upgrade without Sec-WebSocket-Key",
            Self::BadChunk => "malformed chunked encoding",
            Self::UnrequestedSwitch => "101 Switching Protocols without an upgrade request",
        }
    }
}

/// A message the HTTP/1 layer refuses. Carries the failure, the side that sent it and the
/// byte offset (into the parsed buffer, or into the stream for chunked bodies) where the
/// problem was seen, like HAProxy's `err_pos`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct H1Error {
    kind: H1ErrorKind,
    side: Side,
    pos: usize,
}

impl H1Error {
    /// Builds an error (used by the parsers; public for callers that wrap their own checks).
    pub fn new(kind: H1ErrorKind, side: Side, pos: usize) -> Self {
        Self { kind, side, pos }
    }

    /// What was wrong.
    pub fn kind(&self) -> H1ErrorKind {
        self.kind
    }

    /// Who sent the faulty message.
    pub fn side(&self) -> Side {
        self.side
    }

    /// Byte offset where the problem was detected.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The status HAProxy 2.6 answers: 502 for anything wrong in a response; for a
    /// request 422 when the Transfer-Encoding has an unsupported coding, 413 for an
    /// HTTP/1.0 upgrade with a body, else 400
    /// (including a head too large, which HAProxy 2.6 also answers with 400).
    pub fn status(&self) -> u16 {
        match (self.side, self.kind) {
            (Side::Response, _) => 502,
            (Side::Request, H1ErrorKind::UnsupportedTransferCoding) => 422,
            (Side::Request, H1ErrorKind::UpgradeWithBody) => 413,
            (Side::Request, _) => 400,
        }
    }

    /// The bytes to send the client for this error (see [`super::parse_error_response`]).
    pub fn response(&self) -> &'static [u8] {
        match self.side {
            Side::Request => super::pages::parse_error_response(self.status()),
            Side::Response => super::pages::error_response(502),
        }
    }
}

impl fmt::Display for H1Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = match self.side {
            Side::Request => "request",
            Side::Response => "response",
        };
        write!(
            f,
            "invalid HTTP/1 {side}: {} at byte {}",
            self.kind.describe(),
            self.pos
        )
    }
}

impl std::error::Error for H1Error {}
