//! The WebSocket handshake keys the HTTP/1 server side adds, as HAProxy 2.6's H1 mux
//! does for a WebSocket request that came without one (an HTTP/2 client's extended
//! CONNECT, RFC 8441, has no `Sec-WebSocket-Key`): a random key goes to the server, and
//! its `101` must carry the matching `Sec-WebSocket-Accept` (RFC 6455 section 4.2.2),
//! else the response is invalid (`502`); a switch to WebSocket without any
//! `Sec-WebSocket-Accept` is invalid whoever made the key. The other way round, a `101` from an HTTP/2
//! server (the `200` to an extended CONNECT) has no `Sec-WebSocket-Accept`: the HTTP/1
//! client side adds the one its client's key calls for, as HAProxy's H1 mux does.

use super::head::list_contains;
use super::response::ResponseHead;
use crate::proxy::message::{Request, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha1::{Digest, Sha1};

/// RFC 6455's GUID appended to the key before hashing.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// A `Sec-WebSocket-Key` value: 16 random bytes in base64.
pub type Key = [u8; 24];

/// A fresh key when `req` is a WebSocket upgrade without one (HAProxy's
/// `h1_generate_random_ws_input_key`), else `None`.
pub fn key_for(req: &Request<'_>) -> Option<Key> {
    let websocket = req.upgrade
        && req
            .values(b"upgrade")
            .any(|v| list_contains(v, b"websocket"))
        && !req.has(b"sec-websocket-key");
    if !websocket {
        return None;
    }
    let raw: [u8; 16] = std::array::from_fn(|_| fastrand::u8(..));
    let mut key = [0u8; 24];
    STANDARD
        .encode_slice(raw, &mut key)
        .expect("16 bytes encode to 24");
    Some(key)
}

/// The `Sec-WebSocket-Accept` value a server answers to `key`.
pub fn accept_for(key: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(key);
    h.update(GUID);
    STANDARD.encode(h.finalize())
}

/// Appends `Sec-Websocket-Key: <key>` (HAProxy's spelling) to the head written in
/// `out`, before its final empty line.
pub fn add_key(out: &mut Vec<u8>, key: &Key) {
    add_field(out, b"Sec-Websocket-Key: ", key);
}

/// Appends `Sec-Websocket-Accept: <value>` (HAProxy's spelling) to the response head
/// written in `out`, before its final empty line.
pub fn add_accept(out: &mut Vec<u8>, value: &[u8]) {
    add_field(out, b"Sec-Websocket-Accept: ", value);
}

/// Whether `resp` switches to WebSocket without saying which key it accepts (a `101`
/// from an HTTP/2 server): the client side must then add it.
pub fn accept_missing(resp: &Response<'_>) -> bool {
    resp.status == 101
        && resp.headers.iter().any(|h| {
            h.name.get(resp.buf).eq_ignore_ascii_case(b"upgrade")
                && list_contains(h.value.get(resp.buf), b"websocket")
        })
        && !resp.headers.iter().any(|h| {
            h.name
                .get(resp.buf)
                .eq_ignore_ascii_case(b"sec-websocket-accept")
        })
}

/// Whether the server's response head `resp` (in `buf`) switches to WebSocket:
/// `Connection: upgrade` and `Upgrade: websocket` (HAProxy's `H1_MF_CONN_UPG` and
/// `H1_MF_UPG_WEBSOCKET`).
pub fn switches_to_websocket(resp: &ResponseHead, buf: &[u8]) -> bool {
    resp.connection.upgrade
        && resp.headers.iter().any(|h| {
            h.name.get(buf).eq_ignore_ascii_case(b"upgrade")
                && list_contains(h.value.get(buf), b"websocket")
        })
}

fn add_field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    let at = out.len().saturating_sub(2);
    let mut field = Vec::with_capacity(name.len() + value.len() + 2);
    field.extend_from_slice(name);
    field.extend_from_slice(value);
    field.extend_from_slice(b"\r\n");
    out.splice(at..at, field);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_is_rfc_6455s_sample() {
        assert_eq!(
            accept_for(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn a_key_is_added_before_the_end_of_the_head() {
        let mut out = b"GET / HTTP/1.1\r\nupgrade: websocket\r\n\r\n".to_vec();
        add_key(&mut out, b"AAAAAAAAAAAAAAAAAAAAAA==");
        assert_eq!(
            out,
            b"GET / HTTP/1.1\r\nupgrade: websocket\r\nSec-Websocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n\r\n"
        );
    }
}
