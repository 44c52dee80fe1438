//! The protocol-neutral HTTP message model every phase of the exchange works on: a
//! request head (method, target, version, headers in their original order and case), a
//! response head (status, reason, headers), what follows a head ([`Payload`]) and the
//! header edits rules make ([`Edits`]). A codec (`proxy::h1` today, HTTP/2 next) reads
//! bytes into heads and writes heads back into bytes; nothing here knows a protocol's
//! syntax.
//!
//! Nothing is copied: a head is a table of [`Span`]s into the buffer the codec read it
//! into (HAProxy's HTX keeps its blocks in one buffer the same way), and
//! [`Request`]/[`Response`] are borrowed views of it, built for free.

/// A byte range `start..end` of the buffer a head was parsed from (zero-copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    pub(crate) fn new(start: usize, end: usize) -> Self {
        // Heads are bounded by `Limits::max_head`, far below u32::MAX.
        Self {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The bytes this span covers in `buf` (empty if `buf` is not the parsed buffer).
    pub fn get<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        buf.get(self.start as usize..self.end as usize)
            .unwrap_or(&[])
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }

    /// Whether the span is empty.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// Headers the codecs and the exchange interpret; found once when a head is read so
/// nothing is re-scanned by name on the hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderKind {
    /// `Host`.
    Host,
    /// `Content-Length`.
    ContentLength,
    /// `Transfer-Encoding`.
    TransferEncoding,
    /// `Connection`.
    Connection,
    /// `Keep-Alive` (hop-by-hop).
    KeepAlive,
    /// `Proxy-Connection` (hop-by-hop, non-standard).
    ProxyConnection,
    /// `TE` (hop-by-hop).
    Te,
    /// `Upgrade`.
    Upgrade,
    /// `Expect`.
    Expect,
    /// `Sec-WebSocket-Key`.
    SecWebSocketKey,
    /// `X-Forwarded-For`.
    XForwardedFor,
    /// Any other header.
    Other,
}

impl HeaderKind {
    /// The kind of a header by its name (case-insensitive).
    pub(crate) fn classify(name: &[u8]) -> Self {
        let is = |n: &str| name.eq_ignore_ascii_case(n.as_bytes());
        match name.len() {
            2 if is("te") => Self::Te,
            4 if is("host") => Self::Host,
            6 if is("expect") => Self::Expect,
            7 if is("upgrade") => Self::Upgrade,
            10 if is("connection") => Self::Connection,
            10 if is("keep-alive") => Self::KeepAlive,
            14 if is("content-length") => Self::ContentLength,
            15 if is("x-forwarded-for") => Self::XForwardedFor,
            16 if is("proxy-connection") => Self::ProxyConnection,
            17 if is("transfer-encoding") => Self::TransferEncoding,
            17 if is("sec-websocket-key") => Self::SecWebSocketKey,
            _ => Self::Other,
        }
    }
}

/// One header line: name and value (OWS trimmed) as spans, plus its recognised kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The name as sent (case preserved).
    pub name: Span,
    /// The value without leading/trailing SP/HT.
    pub value: Span,
    /// Which interpreted header this is.
    pub kind: HeaderKind,
}

/// The protocol version of a message, e.g. 1.0, 1.1 (or 2.0). HAProxy accepts any
/// `HTTP/<digit>.<digit>` on HTTP/1 and handles everything from 1.1 up as 1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Version {
    /// Major digit.
    pub major: u8,
    /// Minor digit.
    pub minor: u8,
}

impl Version {
    /// HTTP/1.0.
    pub const HTTP_10: Version = Version { major: 1, minor: 0 };
    /// HTTP/1.1.
    pub const HTTP_11: Version = Version { major: 1, minor: 1 };

    /// Whether the message gets HTTP/1.1 semantics (persistent by default, chunked).
    pub fn at_least_11(self) -> bool {
        self.major > 1 || (self.major == 1 && self.minor >= 1)
    }
}

/// Request method; the common ones as variants, anything else as `Other` (methods are
/// case-sensitive: `get` is `Other`, as HAProxy forwards it unchanged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// GET.
    #[default]
    Get,
    /// HEAD: the response never has a body.
    Head,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// DELETE.
    Delete,
    /// OPTIONS.
    Options,
    /// CONNECT: a 2xx answer turns the connection into a tunnel.
    Connect,
    /// TRACE.
    Trace,
    /// PATCH.
    Patch,
    /// Any other token; read it with the head's `method_span`.
    Other,
}

impl Method {
    /// The method of a token (case-sensitive).
    pub(crate) fn from_bytes(m: &[u8]) -> Self {
        match m {
            b"GET" => Self::Get,
            b"HEAD" => Self::Head,
            b"POST" => Self::Post,
            b"PUT" => Self::Put,
            b"DELETE" => Self::Delete,
            b"OPTIONS" => Self::Options,
            b"CONNECT" => Self::Connect,
            b"TRACE" => Self::Trace,
            b"PATCH" => Self::Patch,
            _ => Self::Other,
        }
    }
}

/// What follows a head: how much body, as far as the exchange needs to know. The codec
/// knows the framing (HTTP/1 `Content-Length` or chunked, HTTP/2 DATA frames).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Payload {
    /// No body.
    #[default]
    None,
    /// Exactly this many bytes.
    Length(u64),
    /// A body of unknown length, up to its end (and optional trailers).
    Streamed,
}

impl Payload {
    /// Whether at least one body byte may follow.
    pub fn is_some(self) -> bool {
        !matches!(self, Payload::None | Payload::Length(0))
    }
}

/// A request head as the phases see it: borrowed from the codec that read it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The buffer the spans refer to.
    pub buf: &'a [u8],
    /// Method kind.
    pub method: Method,
    /// The method token.
    pub method_span: Span,
    /// The request target as the client sent it.
    pub target: Span,
    /// Protocol version.
    pub version: Version,
    /// Header fields in order, names in their original case.
    pub headers: &'a [Header],
    /// The body that follows.
    pub payload: Payload,
    /// The client's connection may carry another exchange after this one (HTTP/1: its
    /// version and `Connection`; a multiplexed protocol: always).
    pub persist: bool,
    /// The client waits for an interim `100 Continue` before sending its body.
    pub expect_continue: bool,
    /// A protocol upgrade is asked for: a successful answer turns the exchange into a
    /// tunnel.
    pub upgrade: bool,
    /// The part of the target that names the scheme's default port (`:80` of
    /// `http://h:80/`), left out when the head is written on (empty: none).
    pub default_port: Span,
    /// Bytes at the end of the Host value that name the default port, left out likewise.
    pub host_port_trim: u32,
}

impl<'a> Request<'a> {
    /// The method token.
    pub fn method_bytes(&self) -> &'a [u8] {
        self.method_span.get(self.buf)
    }

    /// The request target as sent.
    pub fn target(&self) -> &'a [u8] {
        self.target.get(self.buf)
    }

    /// Each header as (name, value), in order.
    pub fn fields(&self) -> impl DoubleEndedIterator<Item = (&'a [u8], &'a [u8])> + use<'a> {
        let buf = self.buf;
        self.headers
            .iter()
            .map(move |h| (h.name.get(buf), h.value.get(buf)))
    }

    /// The values of the headers named `name` (case-insensitive), in order.
    pub fn values(&self, name: &[u8]) -> impl DoubleEndedIterator<Item = &'a [u8]> {
        self.fields()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Whether a header named `name` is present (case-insensitive).
    pub fn has(&self, name: &[u8]) -> bool {
        self.values(name).next().is_some()
    }

    /// The head's size as HAProxy 2.6 counts it in `bin` and `%U`: the size of its HTX
    /// form (a 20-byte start-line block with method, target and version, each header's
    /// name and value, a 1-byte end of headers), not the bytes on the wire.
    pub fn htx_size(&self) -> u64 {
        let line = self.method_bytes().len() + self.target().len() + HTX_VERSION_LEN;
        (HTX_START_LINE + line + fields_size(self.buf, self.headers) + 1) as u64
    }
}

/// The fixed part of an HTX start-line block (`struct htx_sl`).
const HTX_START_LINE: usize = 20;
/// The version in an HTX start line (`HTTP/1.1`).
const HTX_VERSION_LEN: usize = 8;

/// The HTX size of `headers`: names and values, without separators.
fn fields_size(buf: &[u8], headers: &[Header]) -> usize {
    headers
        .iter()
        .map(|h| htx_field_size(h.name.get(buf), h.value.get(buf)))
        .sum()
}

/// The HTX size of one header field as HAProxy's HTTP/1 layer stores it: name and
/// value, but a `Connection` header loses its `close` and `keep-alive` tokens (and is
/// dropped when none other is left).
pub fn htx_field_size(name: &[u8], value: &[u8]) -> usize {
    if !name.eq_ignore_ascii_case(b"connection") {
        return name.len() + value.len();
    }
    let kept: Vec<&[u8]> = value
        .split(|&b| b == b',')
        .map(|t| t.trim_ascii())
        .filter(|t| {
            !t.is_empty()
                && !t.eq_ignore_ascii_case(b"close")
                && !t.eq_ignore_ascii_case(b"keep-alive")
        })
        .collect();
    if kept.is_empty() {
        return 0;
    }
    let joined: usize = kept.iter().map(|t| t.len()).sum::<usize>() + 2 * (kept.len() - 1);
    name.len() + joined
}

/// A response head as the phases see it: borrowed from the codec that read it.
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    /// The buffer the spans refer to.
    pub buf: &'a [u8],
    /// Protocol version.
    pub version: Version,
    /// Status code.
    pub status: u16,
    /// Reason phrase (empty where the protocol has none).
    pub reason: Span,
    /// Header fields in order, names in their original case.
    pub headers: &'a [Header],
    /// After this head both directions become an opaque tunnel (a switch of protocols,
    /// a successful CONNECT).
    pub tunnel: bool,
    /// The body that follows.
    pub payload: Payload,
    /// The body ends when the server closes its connection (no length, no framing): the
    /// client connection cannot persist after it.
    pub until_close: bool,
    /// A `Content-Length` header was sent that does not describe the body (it came with
    /// another framing): not forwarded.
    pub stale_length: bool,
}

impl Response<'_> {
    /// An interim response (1xx but 101): forwarded, then the final one follows.
    pub fn is_interim(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
    }

    /// The head's size as HAProxy 2.6 counts it in `bout` and `%B`: its HTX form, as
    /// received from the server (before the `http-response` rules; see
    /// [`Request::htx_size`]).
    pub fn htx_size(&self) -> u64 {
        let line = HTX_VERSION_LEN + 3 + self.reason.len();
        (HTX_START_LINE + line + fields_size(self.buf, self.headers) + 1) as u64
    }
}

/// One header field owned by its message (trailers): name as sent, value trimmed.
pub type Field = (Vec<u8>, Vec<u8>);

/// One piece of a body as every codec sees it: data, then optional trailers, then the
/// end. HTTP/1 decodes `Content-Length` and chunked framing into these; HTTP/2 maps DATA
/// frames to `Data`, a trailing HEADERS frame to `Trailers` and END_STREAM to `End`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// Body bytes (decoded: no framing of the sender's protocol).
    Data(&'a [u8]),
    /// Trailer fields, after the last data.
    Trailers(&'a [Field]),
    /// The body is complete.
    End,
}

/// The frames one read of a body gave, in order: its data (one `Data` frame, contiguous:
/// an HTTP/1 codec hands a `Content-Length` body out of its read buffer without copying,
/// and the chunks of a chunked body decoded from one read as one piece), then, if the
/// body ended there, its trailers and its end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Frames<'a> {
    /// The data.
    pub data: &'a [u8],
    /// Trailer fields (only with `end`).
    pub trailers: &'a [Field],
    /// The body ended with these frames.
    pub end: bool,
    /// Bytes of the connection these frames took, framing included (the log's `%U`).
    pub wire: usize,
    /// The body ended with a trailer section, even an empty one (an HTTP/1 chunked
    /// body's last chunk): HAProxy stores its end as a 1-byte block, counted in
    /// `bin`/`bout`.
    pub end_of_trailers: bool,
}

impl<'a> Frames<'a> {
    /// The frames in order: `Data` (when not empty), `Trailers` (when any), `End`.
    pub fn iter(&self) -> impl Iterator<Item = Frame<'a>> + use<'a> {
        let data = (!self.data.is_empty()).then_some(Frame::Data(self.data));
        let trailers = (!self.trailers.is_empty()).then_some(Frame::Trailers(self.trailers));
        let end = self.end.then_some(Frame::End);
        data.into_iter().chain(trailers).chain(end)
    }

    /// Nothing at all (no data, not the end).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty() && !self.end
    }

    /// Their size as HAProxy 2.6 counts body bytes (`bin`/`bout`, `%U`/`%B`): the data
    /// without framing, and trailers' names and values with a 1-byte end (a chunked
    /// body's end counts that byte without trailers too).
    pub fn htx_size(&self) -> u64 {
        let trailers = if self.trailers.is_empty() {
            usize::from(self.end && self.end_of_trailers)
        } else {
            1 + self
                .trailers
                .iter()
                .map(|(n, v)| n.len() + v.len())
                .sum::<usize>()
        };
        (self.data.len() + trailers) as u64
    }
}

/// Edits collected from rules, applied by the codec when it writes the head: headers
/// removed and added, and the start line's parts rewritten.
#[derive(Debug, Default)]
pub struct Edits {
    /// Header names to remove (lowercase).
    pub remove: Vec<Vec<u8>>,
    /// Headers to add, in order.
    pub add: Vec<(Vec<u8>, Vec<u8>)>,
    /// A request's new method (`set-method`).
    pub method: Option<Vec<u8>>,
    /// A request's new target (`set-path`, `set-query`, `set-uri`, …).
    pub target: Option<Vec<u8>>,
    /// A response's new status and reason (`set-status`).
    pub status: Option<(u16, Vec<u8>)>,
}

impl Edits {
    /// Forgets everything (reused per request).
    pub fn clear(&mut self) {
        self.remove.clear();
        self.add.clear();
        self.method = None;
        self.target = None;
        self.status = None;
    }

    /// True when there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.remove.is_empty()
            && self.add.is_empty()
            && self.method.is_none()
            && self.target.is_none()
            && self.status.is_none()
    }

    /// Whether the header `name` is removed (case-insensitive).
    pub fn removed(&self, name: &[u8]) -> bool {
        self.remove.iter().any(|r| r.eq_ignore_ascii_case(name))
    }
}
