//! An HTTP/2 request head turned into the neutral model, as HAProxy 2.6 turns one into
//! HTX: the target in absolute form `scheme://authority/path` when `:authority` came (what
//! the log line and the `url` fetch show; an HTTP/1 server gets the path alone), `Host`
//! added from `:authority` when absent, the `cookie` crumbs joined with `; ` into one
//! header after the others, and `transfer-encoding: chunked` added to a body of unknown
//! length (the HTTP/1 server side then frames it chunked).
//!
//! Tunnels (HAProxy 2.6's `h2_prepare_htx_reqline`): an extended CONNECT (RFC 8441,
//! `:protocol`) becomes `GET` with `upgrade: <protocol>` and `connection: upgrade`, the
//! request an HTTP/1 server knows (WebSocket over HTTP/2 reaches it as an HTTP/1.1
//! WebSocket handshake); a plain CONNECT keeps its method and its `:authority` as the
//! target. Neither has a body: the DATA frames that follow are the tunnel's bytes.

use crate::proxy::message::{Header, HeaderKind, Method, Payload, Span, Version};

/// The neutral request head of one stream: its bytes and the spans into them.
#[derive(Debug, Default)]
pub(super) struct Head {
    /// Method, target, then each header's name and value.
    pub buf: Vec<u8>,
    /// The headers, in order.
    pub headers: Vec<Header>,
    /// The method.
    pub method: Method,
    /// The method token.
    pub method_span: Span,
    /// The target (absolute form when `:authority` came).
    pub target: Span,
    /// `scheme://authority` at the start of the target: left out toward HTTP/1 servers.
    pub authority: Span,
    /// The body that follows.
    pub payload: Payload,
    /// `Expect: 100-continue`.
    pub expect_continue: bool,
    /// An extended CONNECT (RFC 8441): a protocol upgrade (`101` from an HTTP/1
    /// server), answered `200` on the stream.
    pub upgrade: bool,
    /// The stream becomes a tunnel once the server agrees (extended or plain CONNECT).
    pub tunnel: bool,
}

/// What one pass over a request's fields found: the map is not searched again for
/// each of these (each search hashes the name).
struct Seen<'a> {
    /// A `host` field came.
    host: bool,
    /// A `cookie` field came.
    cookie: bool,
    /// The first `content-length` field's value.
    length: Option<&'a http::HeaderValue>,
}

impl<'a> Seen<'a> {
    fn of(map: &'a http::HeaderMap) -> Seen<'a> {
        let mut seen = Seen {
            host: false,
            cookie: false,
            length: None,
        };
        for name in map.keys() {
            if name == http::header::HOST {
                seen.host = true;
            } else if name == http::header::COOKIE {
                seen.cookie = true;
            } else if name == http::header::CONTENT_LENGTH {
                seen.length = map.get(name);
            }
        }
        seen
    }
}

/// Why a stream's request is refused before the exchange (the status answered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Refused(pub u16);

impl Head {
    fn push(&mut self, bytes: &[u8]) -> Span {
        let start = self.buf.len();
        self.buf.extend_from_slice(bytes);
        Span::new(start, self.buf.len())
    }

    fn header(&mut self, name: &[u8], value: &[u8]) {
        let kind = HeaderKind::classify(name);
        let name = self.push(name);
        let value = self.push(value);
        self.headers.push(Header { name, value, kind });
    }

    /// The head of `parts`; `end_stream`: the HEADERS frame ended the stream (no body).
    pub(super) fn of(parts: &http::request::Parts, end_stream: bool) -> Result<Head, Refused> {
        let mut h = Head {
            buf: Vec::with_capacity(256),
            // The fields, with `host`, `cookie` and `transfer-encoding` added.
            headers: Vec::with_capacity(parts.headers.len() + 3),
            ..Head::default()
        };
        let protocol = parts.extensions.get::<h2::ext::Protocol>();
        let mut m = parts.method.as_str().as_bytes();
        let connect = parts.method == http::Method::CONNECT;
        if connect {
            h.tunnel = true;
            if let Some(p) = protocol {
                // HAProxy refuses these two as the protocol of an extended CONNECT.
                if p.as_str().eq_ignore_ascii_case("h2") || p.as_str().eq_ignore_ascii_case("h2c") {
                    return Err(Refused(400));
                }
                h.upgrade = true;
                m = b"GET";
            }
        }
        h.method = Method::from_bytes(m);
        h.method_span = h.push(m);
        let uri = &parts.uri;
        let authority = uri.authority().map(|a| a.as_str());
        let seen = Seen::of(&parts.headers);
        if connect && protocol.is_none() {
            // CONNECT host:port: the target is the authority alone.
            let a = authority.ok_or(Refused(400))?;
            h.target = h.push(a.as_bytes());
            if !seen.host {
                h.header(b"host", a.as_bytes());
            }
            h.copy_fields(parts);
            h.join_cookies(parts, seen.cookie);
            return Ok(h);
        }
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let start = h.buf.len();
        if let Some(a) = authority {
            h.buf
                .extend_from_slice(uri.scheme_str().unwrap_or("http").as_bytes());
            h.buf.extend_from_slice(b"://");
            h.buf.extend_from_slice(a.as_bytes());
            h.authority = Span::new(start, h.buf.len());
        }
        h.buf.extend_from_slice(path.as_bytes());
        h.target = Span::new(start, h.buf.len());
        let length = match seen.length {
            Some(v) => Some(
                std::str::from_utf8(v.as_bytes())
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .ok_or(Refused(400))?,
            ),
            None => None,
        };
        h.payload = match (end_stream || h.tunnel, length) {
            (true, _) => Payload::None,
            (false, Some(n)) => Payload::Length(n),
            (false, None) => Payload::Streamed,
        };
        if let Some(a) = authority
            && !seen.host
        {
            h.header(b"host", a.as_bytes());
        }
        h.copy_fields(parts);
        if let Some(p) = protocol.filter(|_| h.upgrade) {
            h.header(b"upgrade", p.as_str().as_bytes());
            h.header(b"connection", b"upgrade");
        }
        h.join_cookies(parts, seen.cookie);
        if h.payload == Payload::Streamed {
            h.header(b"transfer-encoding", b"chunked");
        }
        Ok(h)
    }

    /// The regular fields of `parts` in order, but the `cookie` crumbs.
    fn copy_fields(&mut self, parts: &http::request::Parts) {
        for (name, value) in &parts.headers {
            if name == http::header::COOKIE {
                continue;
            }
            if name == http::header::EXPECT {
                self.expect_continue |= value.as_bytes().eq_ignore_ascii_case(b"100-continue");
            }
            self.header(name.as_str().as_bytes(), value.as_bytes());
        }
    }

    /// The `cookie` crumbs of `parts` joined into one header (none without crumbs;
    /// `any`: whether there are some).
    fn join_cookies(&mut self, parts: &http::request::Parts, any: bool) {
        if !any {
            return;
        }
        let mut joined = Vec::new();
        for v in parts.headers.get_all(http::header::COOKIE) {
            if !joined.is_empty() {
                joined.extend_from_slice(b"; ");
            }
            joined.extend_from_slice(v.as_bytes());
        }
        if !joined.is_empty() {
            self.header(b"cookie", &joined);
        }
    }

    /// The version every HTTP/2 request has.
    pub(super) const VERSION: Version = Version { major: 2, minor: 0 };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(req: http::Request<()>, end: bool) -> Head {
        Head::of(&req.into_parts().0, end).unwrap()
    }

    fn fields(h: &Head) -> Vec<(String, String)> {
        h.headers
            .iter()
            .map(|x| {
                (
                    String::from_utf8_lossy(x.name.get(&h.buf)).into_owned(),
                    String::from_utf8_lossy(x.value.get(&h.buf)).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn authority_becomes_host_and_an_absolute_target() {
        let req = http::Request::get("https://example.test:8443/a/b?q=1")
            .header("cookie", "a=1")
            .header("user-agent", "t")
            .header("cookie", "b=2")
            .body(())
            .unwrap();
        let h = head(req, false);
        assert_eq!(h.target.get(&h.buf), b"https://example.test:8443/a/b?q=1");
        assert_eq!(h.authority.get(&h.buf), b"https://example.test:8443");
        assert_eq!(h.payload, Payload::Streamed);
        assert_eq!(
            fields(&h),
            [
                ("host", "example.test:8443"),
                ("user-agent", "t"),
                ("cookie", "a=1; b=2"),
                ("transfer-encoding", "chunked"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
    }

    #[test]
    fn lengths_and_ends_decide_the_payload() {
        let req = http::Request::post("http://h/")
            .header("content-length", "5")
            .body(())
            .unwrap();
        assert_eq!(head(req, false).payload, Payload::Length(5));
        let req = http::Request::get("http://h/").body(()).unwrap();
        let h = head(req, true);
        assert_eq!(h.payload, Payload::None);
        assert!(!fields(&h).iter().any(|(n, _)| n == "transfer-encoding"));
    }

    #[test]
    fn connect_and_extended_connect_become_tunnels() {
        let req = http::Request::connect("h:443").body(()).unwrap();
        let h = head(req, false);
        assert!(h.tunnel && !h.upgrade);
        assert_eq!(
            (h.method, h.target.get(&h.buf)),
            (Method::Connect, &b"h:443"[..])
        );
        assert_eq!(h.payload, Payload::None);
        let mut req = http::Request::connect("https://h/chat")
            .header("cookie", "a=1")
            .header("sec-websocket-version", "13")
            .body(())
            .unwrap();
        req.extensions_mut()
            .insert(h2::ext::Protocol::from_static("websocket"));
        let h = head(req, false);
        assert!(h.tunnel && h.upgrade);
        assert_eq!(h.method_span.get(&h.buf), b"GET");
        assert_eq!(h.target.get(&h.buf), b"https://h/chat");
        assert_eq!(h.payload, Payload::None);
        assert_eq!(
            fields(&h),
            [
                ("host", "h"),
                ("sec-websocket-version", "13"),
                ("upgrade", "websocket"),
                ("connection", "upgrade"),
                ("cookie", "a=1"),
            ]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
        );
        let mut req = http::Request::connect("https://h/").body(()).unwrap();
        req.extensions_mut()
            .insert(h2::ext::Protocol::from_static("h2c"));
        assert_eq!(
            Head::of(&req.into_parts().0, false).unwrap_err(),
            Refused(400)
        );
    }
}
