//! Response head parsing and framing: HEAD/1xx/204/304 without body, Content-Length,
//! chunked or until-close; anything malformed maps to 502 like HAProxy 2.6.

use super::error::{H1Error, H1ErrorKind, Side};
use super::head::{
    BodyKind, ConnectionTokens, Header, HeaderKind, Limits, Span, TransferCodings, Version,
    add_connection_tokens, is_sp_ht, next_line, parse_content_length, parse_header_block,
    parse_version,
};
use super::request::{Method, header_value};

/// A parsed response head: spans into the caller's buffer plus the facts derived from it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseHead {
    /// Bytes from the start of the buffer to the end of the empty line.
    pub head_len: usize,
    /// Protocol version of the status line.
    pub version: Version,
    /// Status code (three digits).
    pub status: u16,
    /// Reason phrase (may be empty).
    pub reason: Span,
    /// Header lines in order.
    pub headers: Vec<Header>,
    /// Body framing, given the request method.
    pub body: BodyKind,
    /// Whether the server connection may be reused after this response.
    pub keep_alive: bool,
    /// Tokens seen in Connection headers.
    pub connection: ConnectionTokens,
    /// Both Content-Length and chunked were sent: the length is ignored (and dropped when
    /// the head is written), as HAProxy does.
    pub content_length_ignored: bool,
    /// After this head both directions become an opaque tunnel (101, or 2xx to CONNECT).
    pub tunnel: bool,
}

impl ResponseHead {
    /// A 1xx interim response (100 Continue, 103 Early Hints...) other than 101: forward
    /// it and parse the final response that follows.
    pub fn is_interim(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
    }

    /// 101 Switching Protocols.
    pub fn is_switching_protocols(&self) -> bool {
        self.status == 101
    }

    /// The first header with this name (case-insensitive).
    pub fn header<'a>(&self, buf: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
        header_value(&self.headers, buf, name)
    }

    fn clear(&mut self) {
        let mut headers = std::mem::take(&mut self.headers);
        headers.clear();
        *self = Self {
            headers,
            ..Self::default()
        };
    }
}

/// Parses a response head from the start of `buf`; `request_method` decides whether a
/// body may follow. `Ok(None)`: incomplete (an error once `limits.max_head` bytes are
/// buffered).
pub fn parse_response(
    buf: &[u8],
    limits: &Limits,
    request_method: Method,
) -> Result<Option<ResponseHead>, H1Error> {
    let mut head = ResponseHead::default();
    Ok(parse_response_into(&mut head, buf, limits, request_method)?.map(|_| head))
}

/// Like [`parse_response`] but fills `head`, reusing its header vector. Returns the
/// head length once complete.
pub fn parse_response_into(
    head: &mut ResponseHead,
    buf: &[u8],
    limits: &Limits,
    request_method: Method,
) -> Result<Option<usize>, H1Error> {
    head.clear();
    let window = &buf[..buf.len().min(limits.max_head)];
    match parse_window(head, window, limits)? {
        Some(len) => {
            head.head_len = len;
            derive(head, buf, request_method)?;
            Ok(Some(len))
        }
        None if buf.len() >= limits.max_head => Err(H1Error::new(
            H1ErrorKind::HeadTooLarge,
            Side::Response,
            limits.max_head,
        )),
        None => Ok(None),
    }
}

fn parse_window(
    head: &mut ResponseHead,
    buf: &[u8],
    limits: &Limits,
) -> Result<Option<usize>, H1Error> {
    let bad = |at| Err(H1Error::new(H1ErrorKind::BadStartLine, Side::Response, at));
    let Some((end, next)) = next_line(buf, 0, Side::Response)? else {
        // Refuse early what can never become a status line.
        let n = buf.len().min(5);
        if buf[..n] != b"HTTP/"[..n] {
            return bad(0);
        }
        return Ok(None);
    };
    let line = &buf[..end];
    let Some(version) = line.get(..8).and_then(parse_version) else {
        return bad(0);
    };
    let mut i = 8;
    while i < line.len() && is_sp_ht(line[i]) {
        i += 1;
    }
    // Exactly three digits (HAProxy 2.6 also forwards "20" or "1000"; we refuse them).
    let code = match line.get(i..i + 3) {
        Some(d) if i > 8 && d.iter().all(u8::is_ascii_digit) => {
            d.iter().fold(0u16, |n, &c| n * 10 + u16::from(c - b'0'))
        }
        _ => return bad(i),
    };
    i += 3;
    if i < line.len() && !is_sp_ht(line[i]) {
        return bad(i);
    }
    while i < line.len() && is_sp_ht(line[i]) {
        i += 1;
    }
    if code < 100 {
        return bad(8);
    }
    head.version = version;
    head.status = code;
    head.reason = Span::new(i, end);
    parse_header_block(buf, next, Side::Response, limits, &mut head.headers)
}

fn derive(head: &mut ResponseHead, buf: &[u8], method: Method) -> Result<(), H1Error> {
    let err = |kind, at: Span| H1Error::new(kind, Side::Response, at.start as usize);
    let mut content_length: Option<u64> = None;
    let mut te = TransferCodings::default();
    let mut te_span = Span::default();
    for h in &head.headers {
        let v = h.value.get(buf);
        match h.kind {
            HeaderKind::ContentLength => {
                let n = parse_content_length(v).map_err(|k| err(k, h.value))?;
                if content_length.is_some_and(|prev| prev != n) {
                    return Err(err(H1ErrorKind::ConflictingContentLength, h.value));
                }
                content_length = Some(n);
            }
            HeaderKind::TransferEncoding => {
                te.add(v);
                te_span = h.value;
            }
            HeaderKind::Connection => add_connection_tokens(&mut head.connection, v),
            _ => {}
        }
    }
    // HAProxy 2.6 answers 502 to a response whose codings do not end with one chunked.
    if te.present && !te.ends_chunked() {
        return Err(err(H1ErrorKind::BadTransferEncoding, te_span));
    }
    head.content_length_ignored = te.present && content_length.is_some();
    let s = head.status;
    head.tunnel = s == 101 || (method == Method::Connect && (200..300).contains(&s));
    head.body = if method == Method::Head || s < 200 || s == 204 || s == 304 || head.tunnel {
        BodyKind::None
    } else if te.present {
        BodyKind::Chunked
    } else if let Some(n) = content_length {
        BodyKind::Length(n)
    } else {
        BodyKind::UntilClose
    };
    let c = head.connection;
    head.keep_alive = !c.close
        && (head.version.at_least_11() || c.keep_alive)
        && head.body != BodyKind::UntilClose
        && !head.tunnel;
    Ok(())
}
