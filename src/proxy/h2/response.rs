//! Heads and trailers toward an HTTP/2 client: a neutral response head (with the rules'
//! edits) or one of the proxy's own replies becomes an `http::Response`, without the
//! connection-specific headers HTTP/2 forbids (`connection`, `keep-alive`,
//! `proxy-connection`, `transfer-encoding`, `upgrade`), as HAProxy's HTTP/2 side drops
//! them.

use crate::config::model::Reply;
use crate::proxy::message::{Edits, Field, Response};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};

/// Whether `name` may not appear in an HTTP/2 message.
fn connection_specific(name: &[u8]) -> bool {
    [
        &b"connection"[..],
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"upgrade",
    ]
    .iter()
    .any(|n| n.eq_ignore_ascii_case(name))
}

/// Appends `name: value` to `map` (header names lowercased); an invalid field is left
/// out. Its HTTP/1 size, for the log's byte count.
fn append(map: &mut HeaderMap, name: &[u8], value: &[u8]) -> usize {
    if connection_specific(name) {
        return 0;
    }
    match (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
        (Ok(n), Ok(v)) => {
            map.append(n, v);
            name.len() + value.len() + 4
        }
        _ => 0,
    }
}

fn with_status(status: u16) -> http::Response<()> {
    let mut r = http::Response::new(());
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    r
}

/// The head for `resp` with the `http-response` rules' `edits`; and its size as
/// HTTP/1 would count it (`%B`).
pub(super) fn head(resp: &Response<'_>, edits: &Edits) -> (http::Response<()>, usize) {
    let status = edits.status.as_ref().map_or(resp.status, |s| s.0);
    let mut r = with_status(status);
    let mut size = 17;
    let map = r.headers_mut();
    for h in resp.headers {
        let name = h.name.get(resp.buf);
        if edits.removed(name)
            || (resp.stale_length && h.kind == crate::proxy::message::HeaderKind::ContentLength)
        {
            continue;
        }
        size += append(map, name, h.value.get(resp.buf));
    }
    for (n, v) in &edits.add {
        size += append(map, n, v);
    }
    (r, size + 2)
}

/// The head of one of the proxy's replies, and its HTTP/1 size.
pub(super) fn reply_head(reply: &Reply) -> (http::Response<()>, usize) {
    let mut r = with_status(reply.status);
    let mut size = 17;
    let map = r.headers_mut();
    for (n, v) in &reply.headers {
        size += append(map, n, v);
    }
    (r, size + 2)
}

/// Trailer fields as an HTTP/2 trailing HEADERS block.
pub(super) fn trailers(fields: &[Field]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (n, v) in fields {
        append(&mut map, n, v);
    }
    map
}

/// A received trailing HEADERS block as neutral fields.
pub(super) fn fields(map: &HeaderMap) -> Vec<Field> {
    map.iter()
        .map(|(n, v)| (n.as_str().as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}
