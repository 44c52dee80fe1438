//! The request head for an HTTP/2 server, from the neutral model and the rules' edits,
//! as HAProxy 2.6 writes it (`h2s_bck_make_req_headers`): an absolute URI gives
//! `:scheme` and `:authority` (and the `Host` header is then left out); an origin-form
//! target keeps its `Host` header and sends no `:authority` (RFC 9113 §8.3.1), an HTTP/2
//! client's `:scheme` and `:authority` go on as they came (no `Host`); a CONNECT
//! sends its target as `:authority` alone (RFC 9113 §8.5). The
//! connection-specific headers (`Connection`, `Proxy-Connection`, `Keep-Alive`,
//! `Upgrade`, `Transfer-Encoding`) are dropped, `TE` is kept only as `trailers`, header
//! names go lowercase.
//!
//! An HTTP/1 protocol upgrade (`Connection: upgrade` with `Upgrade: websocket`, or an
//! HTTP/2 client's extended CONNECT translated into one) becomes an extended CONNECT
//! (RFC 8441) as HAProxy 2.6 makes it: `:method CONNECT`, `:protocol` the first token of
//! `Upgrade` (at most 15 bytes), `:scheme` the target's (`https` for an origin-form
//! target, HAProxy's default), `:authority` the `Host` value (no `Host` header then),
//! `:path`; the other fields (`Sec-WebSocket-Key`, `-Version`, …) go as they are.

use crate::proxy::message::{Edits, HeaderKind, Payload, Request};
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, Uri};

/// A request head ready to open a stream (kept to open it again after a retry).
#[derive(Debug, Clone)]
pub struct Head {
    /// The method.
    pub method: Method,
    /// `:scheme`/`:authority`/`:path` as a URI (path only for an origin-form target).
    pub uri: Uri,
    /// The header fields.
    pub headers: HeaderMap,
    /// A protocol upgrade: how it goes as an extended CONNECT.
    pub upgrade: Option<Upgrade>,
    /// A CONNECT: `:authority` alone (the target), and a 2xx makes the stream a tunnel.
    pub connect: bool,
}

/// The extended CONNECT (RFC 8441) an upgrade request becomes.
#[derive(Debug, Clone)]
pub struct Upgrade {
    /// `:protocol`.
    pub protocol: h2::ext::Protocol,
    /// `:scheme`, `:authority` (the `Host` value) and `:path`.
    pub uri: Uri,
}

impl Head {
    /// The request to give to the `h2` crate (an extended CONNECT when the request is
    /// an upgrade).
    pub fn to_request(&self) -> http::Request<()> {
        let mut r = http::Request::new(());
        *r.headers_mut() = self.headers.clone();
        match &self.upgrade {
            Some(u) => {
                *r.method_mut() = Method::CONNECT;
                *r.uri_mut() = u.uri.clone();
                r.headers_mut().remove(http::header::HOST);
                r.extensions_mut().insert(u.protocol.clone());
            }
            None => {
                *r.method_mut() = self.method.clone();
                *r.uri_mut() = self.uri.clone();
            }
        }
        r
    }
}

/// Why a request cannot be written as HTTP/2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Untranslatable;

/// Builds the HTTP/2 head of `req` with the rules' `edits` and `extra` header.
pub fn build(
    req: &Request<'_>,
    edits: &Edits,
    extra: Option<(&[u8], &[u8])>,
) -> Result<Head, Untranslatable> {
    let method = Method::from_bytes(edits.method.as_deref().unwrap_or(req.method_bytes()))
        .map_err(|_| Untranslatable)?;
    // An HTTP/2 client's `scheme://authority` prefix (left out toward HTTP/1 servers)
    // stays: HAProxy sends its `:scheme` and `:authority` on, and no `Host`.
    let h2_prefix = !req.default_port.is_empty() && req.default_port.start == req.target.start;
    let target: Vec<u8> = match &edits.target {
        Some(t) => t.clone(),
        None if h2_prefix => req.target().to_vec(),
        None if !req.default_port.is_empty() => {
            let (t, skip) = (req.target, req.default_port);
            let mut v = req.buf[t.start as usize..skip.start as usize].to_vec();
            v.extend_from_slice(&req.buf[skip.end as usize..t.end as usize]);
            v
        }
        None => req.target().to_vec(),
    };
    let absolute = !target.starts_with(b"/") && target != b"*";
    let uri = Uri::try_from(target).map_err(|_| Untranslatable)?;
    // An absolute URI's authority becomes `:authority`: Host is not sent then.
    let has_authority = absolute && uri.authority().is_some();
    let mut headers = HeaderMap::with_capacity(req.headers.len() + edits.add.len() + 1);
    let mut host_done = false;
    let mut length_done = false;
    for h in req.headers {
        let name = h.name.get(req.buf);
        let mut value = h.value.get(req.buf);
        if edits.removed(name) {
            continue;
        }
        match h.kind {
            HeaderKind::Connection
            | HeaderKind::ProxyConnection
            | HeaderKind::KeepAlive
            | HeaderKind::Upgrade
            | HeaderKind::TransferEncoding => continue,
            HeaderKind::Host => {
                if has_authority || host_done {
                    continue;
                }
                host_done = true;
                let keep = value.len().saturating_sub(req.host_port_trim as usize);
                value = &value[..keep];
            }
            HeaderKind::ContentLength => {
                if length_done || !matches!(req.payload, Payload::Length(_)) {
                    continue;
                }
                length_done = true;
                if let Payload::Length(n) = req.payload {
                    headers.append(http::header::CONTENT_LENGTH, HeaderValue::from(n));
                }
                continue;
            }
            HeaderKind::Te => {
                let trailers = value
                    .split(|c| *c == b',')
                    .any(|t| t.trim_ascii().eq_ignore_ascii_case(b"trailers"));
                if !trailers {
                    continue;
                }
                value = b"trailers";
            }
            _ => {}
        }
        append(&mut headers, name, value)?;
    }
    for (n, v) in &edits.add {
        append(&mut headers, n, v)?;
    }
    if let Some((n, v)) = extra {
        append(&mut headers, n, v)?;
    }
    let connect = method == Method::CONNECT;
    let upgrade = if req.upgrade && !connect {
        Some(upgrade(req, &uri, &headers).ok_or(Untranslatable)?)
    } else {
        None
    };
    Ok(Head {
        method,
        uri,
        headers,
        upgrade,
        connect,
    })
}

/// The extended CONNECT of an upgrade request whose head is `uri` and `headers`
/// (`None`: no authority to send).
fn upgrade(req: &Request<'_>, uri: &Uri, headers: &HeaderMap) -> Option<Upgrade> {
    // HAProxy keeps the first token of the (last) `Upgrade` header, cut to 15 bytes.
    let value = req.values(b"upgrade").next_back()?;
    let token = value.split(|c| *c == b',').next()?.trim_ascii();
    let token = &token[..token.len().min(15)];
    let protocol = h2::ext::Protocol::from(std::str::from_utf8(token).ok()?);
    let authority = match headers.get(http::header::HOST) {
        Some(h) => h.to_str().ok()?.to_owned(),
        None => uri.authority()?.as_str().to_owned(),
    };
    // The client's scheme (an HTTP/2 client's `:scheme` is in its target even where the
    // authority is left out), else `https` as HAProxy for an origin-form target.
    let raw = req.target();
    let scheme = match uri.scheme_str() {
        Some(s) => s,
        None if raw.len() > 7 && raw[..7].eq_ignore_ascii_case(b"http://") => "http",
        None => "https",
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let uri = Uri::builder()
        .scheme(scheme)
        .authority(authority)
        .path_and_query(path)
        .build()
        .ok()?;
    Some(Upgrade { protocol, uri })
}

/// Appends one field, refusing the connection-specific ones a rule may have added.
fn append(headers: &mut HeaderMap, name: &[u8], value: &[u8]) -> Result<(), Untranslatable> {
    let name = HeaderName::from_bytes(name).map_err(|_| Untranslatable)?;
    if matches!(
        name.as_str(),
        "connection" | "proxy-connection" | "keep-alive" | "upgrade" | "transfer-encoding"
    ) {
        return Ok(());
    }
    if name == http::header::TE && !value.eq_ignore_ascii_case(b"trailers") {
        return Ok(());
    }
    let value = HeaderValue::from_bytes(value).map_err(|_| Untranslatable)?;
    headers.append(name, value);
    Ok(())
}
