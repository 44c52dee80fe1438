//! What requests and responses share: byte spans, the header table, the header-block
//! scanner (HAProxy 2.6 h1 rules: bare LF accepted, no whitespace before the colon,
//! strict token names, OWS trimmed) and the list-valued framing headers.

use super::error::{H1Error, H1ErrorKind, Side};
pub use crate::proxy::message::{Header, HeaderKind, Span, Version};

/// HTTP/1 syntax of a version: exactly `HTTP/d.d`.
pub(crate) fn parse_version(v: &[u8]) -> Option<Version> {
    match v {
        [b'H', b'T', b'T', b'P', b'/', ma, b'.', mi]
            if ma.is_ascii_digit() && mi.is_ascii_digit() =>
        {
            Some(Version {
                major: ma - b'0',
                minor: mi - b'0',
            })
        }
        _ => None,
    }
}

/// How the message body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyKind {
    /// No body at all (no framing header, or a response that cannot have one).
    #[default]
    None,
    /// Exactly this many bytes follow the head.
    Length(u64),
    /// A chunked body: feed it to a [`super::ChunkedDecoder`] to find its end.
    Chunked,
    /// A response body that ends when the server closes (no keep-alive possible).
    UntilClose,
}

/// Connection-header tokens the proxy acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnectionTokens {
    /// `close` was listed.
    pub close: bool,
    /// `keep-alive` was listed.
    pub keep_alive: bool,
    /// `upgrade` was listed.
    pub upgrade: bool,
    /// Some other token (a header name to treat as hop-by-hop) was listed.
    pub other: bool,
}

/// Size limits for a head, from haproxy.cfg's `tune.*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum head size in bytes: `tune.bufsize - tune.maxrewrite` (16384 - 1024 by
    /// default). A longer head is refused with 400, as HAProxy 2.6 does.
    pub max_head: usize,
    /// `tune.max_http_hdr` (default 101). Like HAProxy, at most `max_headers - 1` header
    /// lines are accepted (one slot is kept for the end of headers).
    pub max_headers: usize,
}

impl Limits {
    /// The limits of a configuration: `tune.bufsize` less `tune.maxrewrite` for a head,
    /// HAProxy's default `tune.max_http_hdr` (101).
    pub fn from_tune(bufsize: usize, maxrewrite: usize) -> Self {
        Self {
            max_head: bufsize - maxrewrite,
            max_headers: 101,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_head: 16384 - 1024,
            max_headers: 101,
        }
    }
}

/// Byte classes: RFC 9110 tchar.
static TCHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        i += 1;
    }
    t
};

/// Whether `c` may appear in a method or header name.
#[inline]
pub(crate) fn is_tchar(c: u8) -> bool {
    TCHAR[c as usize]
}

#[inline]
pub(crate) fn is_sp_ht(c: u8) -> bool {
    c == b' ' || c == b'\t'
}

/// Finds the next line in `buf[pos..]`: returns (end of content without CR, start of next
/// line), `Ok(None)` if no LF yet, or an error for a CR inside the line.
#[inline]
pub(crate) fn next_line(
    buf: &[u8],
    pos: usize,
    side: Side,
) -> Result<Option<(usize, usize)>, H1Error> {
    let rest = buf.get(pos..).unwrap_or(&[]);
    let Some(lf) = memchr::memchr(b'\n', rest) else {
        return Ok(None);
    };
    let lf = pos + lf;
    let end = if lf > pos && buf[lf - 1] == b'\r' {
        lf - 1
    } else {
        lf
    };
    if let Some(cr) = memchr::memchr(b'\r', &buf[pos..end]) {
        return Err(H1Error::new(H1ErrorKind::BareCr, side, pos + cr));
    }
    Ok(Some((end, lf + 1)))
}

/// Like [`next_line`], in one scan that also finds the first NUL byte of the line
/// (`Some(offset)` from `pos`): a header line is looked at once, not three times.
fn next_header_line(
    buf: &[u8],
    pos: usize,
    side: Side,
) -> Result<Option<(usize, usize, Option<usize>)>, H1Error> {
    let rest = buf.get(pos..).unwrap_or(&[]);
    let mut first_cr = None;
    let mut first_nul = None;
    let mut i = 0;
    let lf = loop {
        let Some(j) = memchr::memchr3(b'\n', b'\r', 0, &rest[i..]) else {
            return Ok(None);
        };
        let at = i + j;
        match rest[at] {
            b'\n' => break at,
            b'\r' => {
                if rest.get(at + 1) == Some(&b'\n') {
                    break at + 1;
                }
                first_cr.get_or_insert(at);
            }
            _ => {
                first_nul.get_or_insert(at);
            }
        }
        i = at + 1;
    };
    let end = if lf > 0 && rest[lf - 1] == b'\r' {
        lf - 1
    } else {
        lf
    };
    if let Some(cr) = first_cr.filter(|&c| c < end) {
        return Err(H1Error::new(H1ErrorKind::BareCr, side, pos + cr));
    }
    Ok(Some((pos + end, pos + lf + 1, first_nul)))
}

/// Parses header lines from `pos` up to and including the empty line. Returns the head
/// length, or `None` if the empty line has not arrived yet.
pub(crate) fn parse_header_block(
    buf: &[u8],
    mut pos: usize,
    side: Side,
    limits: &Limits,
    headers: &mut Vec<Header>,
) -> Result<Option<usize>, H1Error> {
    let err = |kind, at| Err(H1Error::new(kind, side, at));
    loop {
        let Some((end, next, nul)) = next_header_line(buf, pos, side)? else {
            return Ok(None);
        };
        if end == pos {
            return Ok(Some(next));
        }
        let line = &buf[pos..end];
        if is_sp_ht(line[0]) {
            return err(H1ErrorKind::ObsFold, pos);
        }
        let name_len = line
            .iter()
            .position(|&c| !is_tchar(c))
            .unwrap_or(line.len());
        if name_len == 0 || line.get(name_len) != Some(&b':') {
            return err(H1ErrorKind::BadHeaderName, pos + name_len);
        }
        let mut vs = name_len + 1;
        while vs < line.len() && is_sp_ht(line[vs]) {
            vs += 1;
        }
        let mut ve = line.len();
        while ve > vs && is_sp_ht(line[ve - 1]) {
            ve -= 1;
        }
        if let Some(nul) = nul {
            // HAProxy 2.6.12 forwards NUL; RFC 9110 forbids it and it is a known
            // header-injection vector, so we refuse it. (A NUL before the colon failed
            // the name already; after it, it is in the trimmed value.)
            return err(H1ErrorKind::BadHeaderValue, pos + nul);
        }
        if headers.len() + 1 >= limits.max_headers {
            return err(H1ErrorKind::TooManyHeaders, pos);
        }
        headers.push(Header {
            name: Span::new(pos, pos + name_len),
            value: Span::new(pos + vs, pos + ve),
            kind: HeaderKind::classify(&line[..name_len]),
        });
        pos = next;
    }
}

/// Iterates the comma-separated elements of a list value, OWS-trimmed (empty ones kept).
pub(crate) fn list_items(v: &[u8]) -> impl Iterator<Item = &[u8]> {
    v.split(|&c| c == b',').map(trim_ows)
}

pub(crate) fn trim_ows(mut v: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = v {
        if !is_sp_ht(*first) {
            break;
        }
        v = rest;
    }
    while let [rest @ .., last] = v {
        if !is_sp_ht(*last) {
            break;
        }
        v = rest;
    }
    v
}

/// Parses one Content-Length value (a list of equal decimal numbers, as HAProxy accepts
/// `2, 2`); `None` if invalid or if the elements differ.
pub(crate) fn parse_content_length(v: &[u8]) -> Result<u64, H1ErrorKind> {
    let mut found: Option<u64> = None;
    for item in list_items(v) {
        if item.is_empty() || !item.iter().all(u8::is_ascii_digit) {
            return Err(H1ErrorKind::BadContentLength);
        }
        let mut n: u64 = 0;
        for &d in item {
            n = n
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(d - b'0')))
                .ok_or(H1ErrorKind::BadContentLength)?;
        }
        match found {
            Some(prev) if prev != n => return Err(H1ErrorKind::ConflictingContentLength),
            _ => found = Some(n),
        }
    }
    found.ok_or(H1ErrorKind::BadContentLength)
}

/// Accumulated view of all Transfer-Encoding headers of a message.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct TransferCodings {
    pub present: bool,
    pub chunked: bool,
    /// `chunked` appeared twice or was followed by another coding.
    pub chunked_not_last: bool,
    /// A coding (or an empty element) came before `chunked`.
    pub other_before: bool,
}

impl TransferCodings {
    /// Adds one header value; mirrors HAProxy 2.6 (`chunked,` ok, `, chunked` is "other").
    pub(crate) fn add(&mut self, v: &[u8]) {
        self.present = true;
        for item in list_items(v) {
            if item.eq_ignore_ascii_case(b"chunked") {
                if self.chunked {
                    self.chunked_not_last = true;
                }
                self.chunked = true;
            } else if item.is_empty() {
                if !self.chunked {
                    self.other_before = true;
                }
            } else if self.chunked {
                self.chunked_not_last = true;
            } else {
                self.other_before = true;
            }
        }
    }

    /// Whether `chunked` is the single, final coding.
    pub(crate) fn ends_chunked(&self) -> bool {
        self.chunked && !self.chunked_not_last
    }
}

/// Adds one Connection header value to `t`.
pub(crate) fn add_connection_tokens(t: &mut ConnectionTokens, v: &[u8]) {
    for item in list_items(v) {
        if item.eq_ignore_ascii_case(b"close") {
            t.close = true;
        } else if item.eq_ignore_ascii_case(b"keep-alive") {
            t.keep_alive = true;
        } else if item.eq_ignore_ascii_case(b"upgrade") {
            t.upgrade = true;
        } else if !item.is_empty() {
            t.other = true;
        }
    }
}

/// Whether the comma-separated list `v` contains `token` (case-insensitive).
pub(crate) fn list_contains(v: &[u8], token: &[u8]) -> bool {
    list_items(v).any(|i| i.eq_ignore_ascii_case(token))
}
