//! An HTTP/2 response head in the neutral model: the status, the standard reason phrase
//! an HTTP/1 client is given (HTTP/2 has none), the fields in order in one buffer, and
//! the framing an HTTP/1 client needs, added as HAProxy's H1 side adds it: a body of
//! unknown length goes `Transfer-Encoding: chunked`, an empty one `Content-Length: 0`.
//! The `200` answering an extended CONNECT (RFC 8441) is the `101 Switching Protocols`
//! of the upgrade it came from, with `Connection: upgrade` and `Upgrade: <protocol>`
//! added (HAProxy's `h2_make_htx_response`): the exchange becomes a tunnel.

use crate::proxy::message::{Header, HeaderKind, Payload, Response, Span, Version};

/// A response head read from an HTTP/2 stream, owned.
#[derive(Debug, Default)]
pub struct Head {
    buf: Vec<u8>,
    headers: Vec<Header>,
    status: u16,
    reason: Span,
    payload: Payload,
    /// An upgrade was agreed to: the exchange becomes a tunnel.
    tunnel: bool,
}

/// The response head was larger than the proxy accepts (`tune.bufsize` less
/// `tune.maxrewrite`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLarge;

impl Head {
    /// Reads `parts`, the answer to a request of `method`; `ended`: the HEADERS frame
    /// ended the stream; `upgrade`: the `:protocol` of the extended CONNECT it answers;
    /// `connect`: it answers a CONNECT (a 2xx opens the tunnel).
    /// At most `max_head` bytes of fields.
    pub fn fill(
        &mut self,
        parts: &http::response::Parts,
        head_request: bool,
        ended: bool,
        upgrade: Option<&[u8]>,
        connect: bool,
        max_head: usize,
    ) -> Result<(), TooLarge> {
        self.buf.clear();
        self.headers.clear();
        self.status = parts.status.as_u16();
        let upgrade = upgrade.filter(|_| self.status == 200);
        self.tunnel = upgrade.is_some() || (connect && parts.status.is_success());
        let mut reason = parts.status.canonical_reason().unwrap_or("");
        if upgrade.is_some() {
            self.status = 101;
            reason = "Switching Protocols";
        }
        self.buf.extend_from_slice(reason.as_bytes());
        self.reason = Span::new(0, self.buf.len());
        let bodiless = head_request
            || parts.status.is_informational()
            || self.status == 204
            || self.status == 304;
        let mut length = None;
        for (name, value) in &parts.headers {
            let n = name.as_str().as_bytes();
            let v = value.as_bytes();
            let kind = HeaderKind::classify(n);
            match kind {
                // Never valid over HTTP/2; a server that sends them is not followed.
                HeaderKind::Connection
                | HeaderKind::KeepAlive
                | HeaderKind::ProxyConnection
                | HeaderKind::TransferEncoding
                | HeaderKind::Upgrade => continue,
                HeaderKind::ContentLength => {
                    if length.is_some() {
                        continue;
                    }
                    length = std::str::from_utf8(v)
                        .ok()
                        .and_then(|s| s.trim().parse::<u64>().ok());
                }
                _ => {}
            }
            self.push(n, v, kind);
            if self.buf.len() > max_head {
                return Err(TooLarge);
            }
        }
        if let Some(p) = upgrade {
            self.push(b"connection", b"upgrade", HeaderKind::Connection);
            self.push(b"upgrade", p, HeaderKind::Upgrade);
        }
        if self.tunnel {
            self.payload = Payload::None;
            return Ok(());
        }
        self.payload = if bodiless {
            Payload::None
        } else if let Some(n) = length {
            Payload::Length(n)
        } else if ended {
            self.push(b"content-length", b"0", HeaderKind::ContentLength);
            Payload::Length(0)
        } else {
            self.push(
                b"transfer-encoding",
                b"chunked",
                HeaderKind::TransferEncoding,
            );
            Payload::Streamed
        };
        Ok(())
    }

    fn push(&mut self, name: &[u8], value: &[u8], kind: HeaderKind) {
        let n0 = self.buf.len();
        self.buf.extend_from_slice(name);
        let v0 = self.buf.len();
        self.buf.extend_from_slice(value);
        self.headers.push(Header {
            name: Span::new(n0, v0),
            value: Span::new(v0, self.buf.len()),
            kind,
        });
    }

    /// The body that follows.
    pub fn payload(&self) -> Payload {
        self.payload
    }

    /// The head as the phases see it.
    pub fn message(&self) -> Response<'_> {
        Response {
            buf: &self.buf,
            version: Version::HTTP_11,
            status: self.status,
            reason: self.reason,
            headers: &self.headers,
            tunnel: self.tunnel,
            payload: self.payload,
            until_close: false,
            stale_length: false,
        }
    }
}
