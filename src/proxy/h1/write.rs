//! Writing a parsed head to the other side with the proxy's edits: header names
//! lowercased and the start line normalised (as HAProxy 2.6 emits them over HTTP/1),
//! Connection handling, hop-by-hop stripping, header removal and additions
//! (`option forwardfor`, `http-request set-header`/`del-header` results).

use super::head::{Header, HeaderKind, Span, Version, list_contains, list_items};
use super::request::RequestHead;
use super::response::ResponseHead;
use crate::proxy::message::{Request, Response};

/// What Connection header to announce to the next hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConnectionHeader {
    /// Announce nothing beyond the version's default.
    #[default]
    Default,
    /// Append `connection: close` (the proxy closes after this exchange).
    Close,
    /// Append `connection: keep-alive` (HAProxy does it toward an HTTP/1.0 peer it keeps
    /// alive).
    KeepAlive,
}

/// Edits applied while a head is written out.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeadEdits<'a> {
    /// Connection header to append.
    pub connection: ConnectionHeader,
    /// `false` (HAProxy 2.6 behaviour): only the `close`/`keep-alive` tokens of Connection
    /// headers are removed, every other header passes. `true` (RFC 9110 §7.6.1): also drop
    /// Connection, Keep-Alive, Proxy-Connection, TE, Upgrade (unless the head upgrades)
    /// and every header named in Connection.
    pub strip_hop_by_hop: bool,
    /// Header names to drop (case-insensitive).
    pub remove: &'a [&'a [u8]],
    /// Headers to append, in order, after the kept ones (names written as given).
    pub add: &'a [(&'a [u8], &'a [u8])],
    /// `true` (what HAProxy 2.6 forwards): leave a default port out of an absolute
    /// `http`/`https` URI and of the Host value ([`RequestHead::uri_port`],
    /// [`RequestHead::host_port_trim`]). `false`: the URI and Host as received.
    pub normalise_authority: bool,
}

/// Writes `head` (parsed from `buf`) to `out` as `method SP uri SP version CRLF`, the
/// kept headers with lowercase names, the additions, the Connection header and the
/// final CRLF. Versions from 1.1 up are written `HTTP/1.1`. Normalised as HAProxy 2.6
/// forwards it: duplicate Content-Length headers (or `2, 2` lists) and identical Host
/// headers become a single one, a default port is left out of an absolute URI and of
/// the matching Host (with [`HeadEdits::normalise_authority`]), and
/// the `Upgrade` header of a request with a body is dropped (it cannot switch
/// protocols).
pub fn write_request_head(
    head: &RequestHead,
    buf: &[u8],
    edits: &HeadEdits<'_>,
    out: &mut Vec<u8>,
) {
    write_request_message(&head.message(buf), edits, out);
}

/// Writes a request head of the neutral model to `out` as HTTP/1, like
/// [`write_request_head`]: whatever codec read it, only its fields count.
pub fn write_request_message(req: &Request<'_>, edits: &HeadEdits<'_>, out: &mut Vec<u8>) {
    let buf = req.buf;
    out.extend_from_slice(req.method_bytes());
    out.push(b' ');
    let (u, skip) = (req.target, req.default_port);
    if skip.is_empty() || !edits.normalise_authority {
        out.extend_from_slice(u.get(buf));
    } else {
        out.extend_from_slice(Span::new(u.start as usize, skip.start as usize).get(buf));
        out.extend_from_slice(Span::new(skip.end as usize, u.end as usize).get(buf));
    }
    out.push(b' ');
    write_version(req.version, out);
    out.extend_from_slice(b"\r\n");
    let facts = Facts {
        upgrade: req.upgrade,
        drop_content_length: false,
        drop_upgrade: req.payload.is_some(),
        single_host: true,
        host_trim: if edits.normalise_authority {
            req.host_port_trim as usize
        } else {
            0
        },
    };
    write_fields(req.headers, buf, edits, facts, out);
}

/// Writes `head` (parsed from `buf`) to `out` like [`write_request_head`]: status line
/// `HTTP/1.x SP code SP reason CRLF`, then headers. A Content-Length sent alongside
/// chunked is dropped.
pub fn write_response_head(
    head: &ResponseHead,
    buf: &[u8],
    edits: &HeadEdits<'_>,
    out: &mut Vec<u8>,
) {
    write_response_message(&head.message(buf), edits, out);
}

/// Writes a response head of the neutral model to `out` as HTTP/1, like
/// [`write_response_head`].
pub fn write_response_message(resp: &Response<'_>, edits: &HeadEdits<'_>, out: &mut Vec<u8>) {
    write_version(resp.version, out);
    out.push(b' ');
    let s = resp.status;
    out.extend_from_slice(&[
        b'0' + (s / 100 % 10) as u8,
        b'0' + (s / 10 % 10) as u8,
        b'0' + (s % 10) as u8,
    ]);
    out.push(b' ');
    out.extend_from_slice(resp.reason.get(resp.buf));
    out.extend_from_slice(b"\r\n");
    let facts = Facts {
        upgrade: resp.status == 101,
        drop_content_length: resp.stale_length,
        drop_upgrade: false,
        single_host: false,
        host_trim: 0,
    };
    write_fields(resp.headers, resp.buf, edits, facts, out);
}

#[derive(Clone, Copy)]
struct Facts {
    upgrade: bool,
    drop_content_length: bool,
    /// Leave the Upgrade header out (a request with a body).
    drop_upgrade: bool,
    /// Write only the first Host header (a request: the others are identical).
    single_host: bool,
    /// Bytes to leave out at the end of Host values (a default port).
    host_trim: usize,
}

fn write_version(v: Version, out: &mut Vec<u8>) {
    if v.at_least_11() {
        out.extend_from_slice(b"HTTP/1.1");
    } else {
        out.extend_from_slice(&[
            b'H',
            b'T',
            b'T',
            b'P',
            b'/',
            b'0' + v.major,
            b'.',
            b'0' + v.minor,
        ]);
    }
}

fn write_fields(
    headers: &[Header],
    buf: &[u8],
    edits: &HeadEdits<'_>,
    f: Facts,
    out: &mut Vec<u8>,
) {
    let strip = edits.strip_hop_by_hop;
    let mut content_length_done = false;
    let mut host_done = false;
    for h in headers {
        let name = h.name.get(buf);
        let value = h.value.get(buf);
        if edits.remove.iter().any(|r| r.eq_ignore_ascii_case(name)) {
            continue;
        }
        match h.kind {
            HeaderKind::Connection => {
                if !strip {
                    write_connection_filtered(value, out);
                }
                continue;
            }
            HeaderKind::KeepAlive | HeaderKind::ProxyConnection | HeaderKind::Te if strip => {
                continue;
            }
            HeaderKind::Upgrade if f.drop_upgrade || (strip && !f.upgrade) => continue,
            HeaderKind::Host if f.single_host => {
                if !host_done {
                    host_done = true;
                    let keep = value.len().saturating_sub(f.host_trim);
                    write_field(name, &value[..keep], out);
                }
                continue;
            }
            HeaderKind::ContentLength => {
                if content_length_done || f.drop_content_length {
                    continue;
                }
                content_length_done = true;
                if !value.iter().all(u8::is_ascii_digit) {
                    // A `2, 2` list: write the single value.
                    let first = list_items(value).next().unwrap_or(b"0");
                    write_field(name, first, out);
                    continue;
                }
            }
            HeaderKind::Other if strip && named_in_connection(headers, buf, name) => {
                continue;
            }
            _ => {}
        }
        write_field(name, value, out);
    }
    for (name, value) in edits.add {
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    let upgrade = strip && f.upgrade;
    let token: &[u8] = match (edits.connection, upgrade) {
        (ConnectionHeader::Default, false) => b"",
        (ConnectionHeader::Default | ConnectionHeader::KeepAlive, true) => b"upgrade",
        (ConnectionHeader::Close, false) => b"close",
        (ConnectionHeader::Close, true) => b"upgrade, close",
        (ConnectionHeader::KeepAlive, false) => b"keep-alive",
    };
    if !token.is_empty() {
        write_field(b"connection", token, out);
    }
    out.extend_from_slice(b"\r\n");
}

/// Writes `name: value CRLF` with the name lowercased.
fn write_field(name: &[u8], value: &[u8], out: &mut Vec<u8>) {
    // One reservation, and the name lowercased as it is copied.
    out.reserve(name.len() + value.len() + 4);
    out.extend(name.iter().map(u8::to_ascii_lowercase));
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Writes a Connection header without its `close`/`keep-alive` tokens (nothing if none
/// remain), like HAProxy.
fn write_connection_filtered(value: &[u8], out: &mut Vec<u8>) {
    let mut first = true;
    for item in list_items(value) {
        if item.is_empty()
            || item.eq_ignore_ascii_case(b"close")
            || item.eq_ignore_ascii_case(b"keep-alive")
        {
            continue;
        }
        out.extend_from_slice(if first { b"connection: " } else { b", " });
        out.extend_from_slice(item);
        first = false;
    }
    if !first {
        out.extend_from_slice(b"\r\n");
    }
}

fn named_in_connection(headers: &[Header], buf: &[u8], name: &[u8]) -> bool {
    headers
        .iter()
        .filter(|h| h.kind == HeaderKind::Connection)
        .any(|h| list_contains(h.value.get(buf), name))
}
