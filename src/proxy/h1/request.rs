//! Request head parsing and request hygiene, as HAProxy 2.6's h1 parser applies it before
//! any `http-request` rule runs (smuggling checks, Host consistency, WebSocket keys).

use super::error::{H1Error, H1ErrorKind, Side};
use super::head::{
    BodyKind, ConnectionTokens, Header, HeaderKind, Limits, Span, TransferCodings, Version,
    add_connection_tokens, is_sp_ht, is_tchar, list_contains, next_line, parse_content_length,
    parse_header_block, parse_version,
};
pub use crate::proxy::message::Method;

/// A parsed request head: spans into the caller's buffer plus the facts derived from it.
/// Reuse one per connection with [`parse_request_into`] to avoid allocating per request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHead {
    /// Bytes from the start of the buffer to the end of the empty line (leading empty
    /// lines included); the body starts here.
    pub head_len: usize,
    /// Method kind.
    pub method: Method,
    /// The method token.
    pub method_span: Span,
    /// The request target as sent (origin-, absolute-, authority- or asterisk-form).
    pub uri: Span,
    /// The authority of an absolute-form URI (`http://host:port/...`) or of a CONNECT
    /// target, if any (userinfo left out).
    pub authority: Option<Span>,
    /// Part of the URI left out when the request is forwarded: the default port of an
    /// absolute `http`/`https` URI (`:80` of `http://a:80/`), as HAProxy normalises it.
    /// Empty when nothing is left out.
    pub uri_port: Span,
    /// Bytes left out at the end of each `Host` value when forwarded: its default port
    /// (with the colon), dropped like HAProxy does for CONNECT and absolute URIs.
    pub host_port_trim: u32,
    /// Protocol version.
    pub version: Version,
    /// Header lines in order.
    pub headers: Vec<Header>,
    /// Body framing.
    pub body: BodyKind,
    /// Whether the client wants the connection kept open after this exchange (version
    /// default, overridden by `Connection: close` / `keep-alive`).
    pub keep_alive: bool,
    /// Tokens seen in Connection headers.
    pub connection: ConnectionTokens,
    /// A protocol upgrade is requested (`Connection: upgrade` plus an `Upgrade` header).
    pub upgrade: bool,
    /// The upgrade asked for is WebSocket.
    pub websocket: bool,
    /// `Expect: 100-continue` was sent (HTTP/1.1 only).
    pub expect_100: bool,
    /// The first Host header's value.
    pub host: Option<Span>,
    /// An X-Forwarded-For header is present.
    pub has_xff: bool,
}

impl RequestHead {
    /// The method token bytes.
    pub fn method_bytes<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        self.method_span.get(buf)
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

/// The first header of `headers` named `name` (case-insensitive), as bytes of `buf`.
pub(crate) fn header_value<'a>(headers: &[Header], buf: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|h| h.name.get(buf).eq_ignore_ascii_case(name))
        .map(|h| h.value.get(buf))
}

/// Parses a request head from the start of `buf`. `Ok(None)`: incomplete, read more
/// (unless the buffer already holds `limits.max_head` bytes: then it is an error).
pub fn parse_request(buf: &[u8], limits: &Limits) -> Result<Option<RequestHead>, H1Error> {
    let mut head = RequestHead::default();
    Ok(parse_request_into(&mut head, buf, limits)?.map(|_| head))
}

/// Like [`parse_request`] but fills `head`, reusing its header vector. Returns the head
/// length once complete. `head` holds garbage after `Ok(None)` or an error.
pub fn parse_request_into(
    head: &mut RequestHead,
    buf: &[u8],
    limits: &Limits,
) -> Result<Option<usize>, H1Error> {
    head.clear();
    let window = &buf[..buf.len().min(limits.max_head)];
    match parse_window(head, window, limits)? {
        Some(len) => {
            head.head_len = len;
            derive(head, buf)?;
            Ok(Some(len))
        }
        None if buf.len() >= limits.max_head => Err(H1Error::new(
            H1ErrorKind::HeadTooLarge,
            Side::Request,
            limits.max_head,
        )),
        None => Ok(None),
    }
}

fn parse_window(
    head: &mut RequestHead,
    buf: &[u8],
    limits: &Limits,
) -> Result<Option<usize>, H1Error> {
    let bad = |at| Err(H1Error::new(H1ErrorKind::BadStartLine, Side::Request, at));
    // Empty lines before the request line are skipped (RFC 9112 §2.2, HAProxy too).
    let mut pos = 0;
    loop {
        match buf.get(pos..) {
            Some([b'\r', b'\n', ..]) => pos += 2,
            Some([b'\n', ..]) => pos += 1,
            Some([] | [b'\r']) => return Ok(None),
            _ => break,
        }
    }
    let Some((end, next)) = next_line(buf, pos, Side::Request)? else {
        return Ok(None);
    };
    let line = &buf[pos..end];
    let m_len = line
        .iter()
        .position(|&c| !is_tchar(c))
        .unwrap_or(line.len());
    if m_len == 0 {
        return bad(pos);
    }
    let mut i = m_len;
    let skip_ws = |mut i: usize| {
        while i < line.len() && is_sp_ht(line[i]) {
            i += 1;
        }
        i
    };
    let after = skip_ws(i);
    if after == i {
        return bad(pos + i);
    }
    i = after;
    let u_start = i;
    while i < line.len() && !is_sp_ht(line[i]) {
        let c = line[i];
        // HAProxy refuses CTLs, non-ASCII and '#' in the URI (DEL passes).
        if !(0x21..0x80).contains(&c) || c == b'#' {
            return bad(pos + i);
        }
        i += 1;
    }
    let u_end = i;
    let after = skip_ws(i);
    if after == i || u_end == u_start {
        // Also refuses HTTP/0.9 (no version).
        return bad(pos + i);
    }
    let Some(version) = parse_version(&line[after..]) else {
        return bad(pos + after);
    };
    let method = &line[..m_len];
    let uri = &line[u_start..u_end];
    if method == b"PRI" && uri == b"*" && version == (Version { major: 2, minor: 0 }) {
        return Err(H1Error::new(H1ErrorKind::Http2Preface, Side::Request, pos));
    }
    head.method = Method::from_bytes(method);
    head.method_span = Span::new(pos, pos + m_len);
    head.uri = Span::new(pos + u_start, pos + u_end);
    head.version = version;
    parse_header_block(buf, next, Side::Request, limits, &mut head.headers)
}

/// Semantic checks and derived facts once the whole head is known.
fn derive(head: &mut RequestHead, buf: &[u8]) -> Result<(), H1Error> {
    let err = |kind, at: Span| H1Error::new(kind, Side::Request, at.start as usize);
    let mut content_length: Option<(u64, Span)> = None;
    let mut te = TransferCodings::default();
    let mut te_span = Span::default();
    let mut upgrade_ws = false;
    let mut upgrade_hdr = false;
    let mut ws_key = false;
    for h in &head.headers {
        let v = h.value.get(buf);
        match h.kind {
            HeaderKind::ContentLength => {
                let n = parse_content_length(v).map_err(|k| err(k, h.value))?;
                match content_length {
                    Some((prev, _)) if prev != n => {
                        return Err(err(H1ErrorKind::ConflictingContentLength, h.value));
                    }
                    _ => content_length = Some((n, h.value)),
                }
            }
            HeaderKind::TransferEncoding => {
                te.add(v);
                te_span = h.value;
            }
            HeaderKind::Connection => add_connection_tokens(&mut head.connection, v),
            HeaderKind::Host => match head.host {
                Some(first) if !first.get(buf).eq_ignore_ascii_case(v) => {
                    return Err(err(H1ErrorKind::ConflictingHost, h.value));
                }
                Some(_) => {}
                None => head.host = Some(h.value),
            },
            HeaderKind::Upgrade => {
                upgrade_hdr = true;
                upgrade_ws |= list_contains(v, b"websocket");
            }
            HeaderKind::Expect => {
                head.expect_100 |=
                    head.version.at_least_11() && v.eq_ignore_ascii_case(b"100-continue");
            }
            HeaderKind::SecWebSocketKey => ws_key = true,
            HeaderKind::XForwardedFor => head.has_xff = true,
            _ => {}
        }
    }
    head.body = match (te.present, content_length) {
        // HAProxy 2.6 drops Content-Length and goes on with chunked; we refuse the
        // request outright: an ambiguous length is the classic smuggling vector.
        (true, Some(_)) => {
            return Err(err(H1ErrorKind::ContentLengthWithTransferEncoding, te_span));
        }
        (true, None) if !te.ends_chunked() => {
            return Err(err(H1ErrorKind::BadTransferEncoding, te_span));
        }
        (true, None) if te.other_before => {
            return Err(err(H1ErrorKind::UnsupportedTransferCoding, te_span));
        }
        (true, None) => BodyKind::Chunked,
        (false, Some((n, _))) => BodyKind::Length(n),
        (false, None) => BodyKind::None,
    };
    let c = head.connection;
    head.keep_alive = !c.close && (head.version.at_least_11() || c.keep_alive);
    head.upgrade = c.upgrade && upgrade_hdr;
    head.websocket = head.upgrade && upgrade_ws;
    // HAProxy 2.6 answers 413 to an HTTP/1.0 upgrade carrying a body.
    let payload = !matches!(head.body, BodyKind::None | BodyKind::Length(0));
    if head.upgrade && payload && !head.version.at_least_11() {
        return Err(err(H1ErrorKind::UpgradeWithBody, head.uri));
    }
    if head.websocket && !ws_key {
        return Err(err(H1ErrorKind::BadWebSocketUpgrade, head.uri));
    }
    check_target(head, buf)
}

/// HAProxy 2.6's request-target rules (RFC 9112 §3.2), and the normalisation it applies
/// when forwarding. CONNECT needs an authority-form target with a port, matching `Host`
/// if present (a `Host` without port only for ports 80/443), and its `Host` loses a
/// default port. Other targets that are neither origin- nor asterisk-form carry an
/// authority (after an optional `scheme://`, up to the first `/`, userinfo left out)
/// that must match `Host`: equal, or for an absolute URI equal up to the scheme's
/// default port. An absolute `http`/`https` URI loses its default port, and so does a
/// `Host` with the same port.
fn check_target(head: &mut RequestHead, buf: &[u8]) -> Result<(), H1Error> {
    let uri = head.uri.get(buf);
    let conflict = |at: Span| {
        Err(H1Error::new(
            H1ErrorKind::ConflictingHost,
            Side::Request,
            at.start as usize,
        ))
    };
    let origin_or_asterisk = matches!(uri.first(), Some(b'/' | b'*'));
    if head.method == Method::Connect {
        if origin_or_asterisk {
            return Err(H1Error::new(
                H1ErrorKind::BadAuthority,
                Side::Request,
                head.uri.start as usize,
            ));
        }
    } else if origin_or_asterisk {
        return Ok(());
    }
    let (scheme, auth) = split_target(head.uri, buf);
    let a = auth.get(buf);
    if head.method == Method::Connect {
        head.authority = Some(auth);
        let (uri_host, Some(port)) = split_port(a) else {
            return Err(H1Error::new(
                H1ErrorKind::BadAuthority,
                Side::Request,
                auth.start as usize,
            ));
        };
        if port.is_empty() {
            return Err(H1Error::new(
                H1ErrorKind::BadAuthority,
                Side::Request,
                auth.start as usize,
            ));
        }
        if let Some(host) = head.host {
            let (h, hp) = split_port(host.get(buf));
            let port_ok = match hp {
                Some(hp) => hp == port,
                None => is_default_port(None, port),
            };
            if !port_ok || !h.eq_ignore_ascii_case(uri_host) {
                return conflict(host);
            }
            if let Some(hp) = hp.filter(|p| is_default_port(None, p)) {
                head.host_port_trim = hp.len() as u32 + 1;
            }
        }
        return Ok(());
    }
    if scheme.is_some() {
        head.authority = Some(auth);
    }
    if a.is_empty() {
        return Ok(());
    }
    let (uri_host, uri_port) = split_port(a);
    if let Some(host) = head.host {
        let hv = host.get(buf);
        if !a.eq_ignore_ascii_case(hv) {
            let Some(scheme) = scheme else {
                return conflict(host);
            };
            let scheme = scheme.get(buf);
            let (h, hp) = split_port(hv);
            let ports_ok = hp == uri_port
                || (hp.is_none() && uri_port.is_some_and(|p| is_default_port(Some(scheme), p)))
                || (uri_port.is_none() && hp.is_some_and(|p| is_default_port(Some(scheme), p)));
            if !ports_ok || !h.eq_ignore_ascii_case(uri_host) {
                return conflict(host);
            }
        }
    }
    let http = scheme.is_some_and(|s| {
        let s = s.get(buf);
        s.eq_ignore_ascii_case(b"http") || s.eq_ignore_ascii_case(b"https")
    });
    if let (true, Some(scheme), Some(port)) = (http, scheme, uri_port)
        && is_default_port(Some(scheme.get(buf)), port)
    {
        let end = auth.end as usize;
        head.uri_port = Span::new(end - port.len() - 1, end);
        if let Some(host) = head.host
            && split_port(host.get(buf)).1 == Some(port)
        {
            head.host_port_trim = port.len() as u32 + 1;
        }
    }
    Ok(())
}

/// Splits a target that is not origin- or asterisk-form into its scheme (if it starts
/// with `scheme://`, as HAProxy parses it) and its authority: up to the first `/`,
/// without a userinfo part (up to the last `@`).
fn split_target(uri: Span, buf: &[u8]) -> (Option<Span>, Span) {
    let u = uri.get(buf);
    let base = uri.start as usize;
    let mut start = 0;
    let mut scheme = None;
    if u.first().is_some_and(u8::is_ascii_alphabetic) {
        let n = u
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')))
            .unwrap_or(u.len());
        if u[n..].starts_with(b"://") {
            scheme = Some(Span::new(base, base + n));
            start = n + 3;
        }
    }
    let end = u[start..]
        .iter()
        .position(|&c| c == b'/')
        .map_or(u.len(), |p| start + p);
    if let Some(at) = memchr::memrchr(b'@', &u[start..end]) {
        start += at + 1;
    }
    (scheme, Span::new(base + start, base + end))
}

/// Splits `host[:port]` like HAProxy's `http_get_host_port`: the port is the run of
/// digits after a final `:` (possibly empty); `None` if there is no such colon.
fn split_port(v: &[u8]) -> (&[u8], Option<&[u8]>) {
    let digits = v.iter().rev().take_while(|c| c.is_ascii_digit()).count();
    let colon = v.len() - digits;
    if colon > 0 && v[colon - 1] == b':' {
        (&v[..colon - 1], Some(&v[colon..]))
    } else {
        (v, None)
    }
}

/// HAProxy's `http_is_default_port`: an empty port is the default; otherwise 80 for
/// `http`, 443 for `https`, either without a scheme (CONNECT).
fn is_default_port(scheme: Option<&[u8]>, port: &[u8]) -> bool {
    match scheme {
        _ if port.is_empty() => true,
        None => port == b"80" || port == b"443",
        Some(s) if s.eq_ignore_ascii_case(b"http") => port == b"80",
        Some(s) if s.eq_ignore_ascii_case(b"https") => port == b"443",
        Some(_) => false,
    }
}
