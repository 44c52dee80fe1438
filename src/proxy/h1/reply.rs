//! Local replies on an HTTP/1 connection: errorfiles read into protocol-neutral
//! [`Reply`] values at load (refused as HAProxy 2.6 refuses them), replies encoded to
//! bytes, and the checks a connection makes on the bytes it is about to send.

use super::head::{BodyKind, Limits, Version, parse_version};
use super::request::Method;
use super::response::parse_response;
use super::write::{ConnectionHeader, HeadEdits, write_response_head};
use crate::config::model::Reply;
use std::borrow::Cow;

/// Reads an errorfile (an HTTP/1 response: status line, headers, blank line, body) into
/// a reply, as HAProxy 2.6 does when it loads one (`http_str_to_htx()`): the message is
/// parsed, then written back as HAProxy's HTTP/1 layer sends it (header names lowercased,
/// the `close`/`keep-alive` tokens of Connection replaced by one `connection: close`
/// last). `Ok(None)` for an empty file: nothing is sent. Errors are HAProxy's wording.
pub fn parse_errorfile(content: &[u8]) -> Result<Option<Reply>, String> {
    if content.is_empty() {
        return Ok(None);
    }
    let limits = Limits {
        max_head: content.len() + 1,
        max_headers: 101,
    };
    let head = match parse_response(content, &limits, Method::Get) {
        Ok(Some(h)) => h,
        // HAProxy's parser leaves its error position at -2 when the head is incomplete.
        Ok(None) => return Err("unable to parse headers (error offset: -2)".into()),
        Err(e) => {
            return Err(bad_version(content).unwrap_or_else(|| {
                format!("unable to parse headers (error offset: {})", e.position())
            }));
        }
    };
    if head.status < 200 {
        return Err(format!(
            "invalid http status code for an error message ({})",
            head.status
        ));
    }
    let body = &content[head.head_len..];
    let bodyless = match head.body {
        BodyKind::Chunked => return Err("chunk-encoded payload not supported".into()),
        BodyKind::None | BodyKind::Length(0) => true,
        BodyKind::Length(n) if n != body.len() as u64 => {
            return Err(format!(
                "payload size does not match the announced content-length ({} != {n})",
                body.len()
            ));
        }
        BodyKind::Length(_) | BodyKind::UntilClose => false,
    };
    if bodyless && !body.is_empty() {
        return Err("message payload not expected".into());
    }
    let edits = HeadEdits {
        connection: if head.connection.close {
            ConnectionHeader::Close
        } else {
            ConnectionHeader::Default
        },
        strip_hop_by_hop: false,
        remove: &[],
        add: &[],
        normalise_authority: false,
    };
    let mut out = Vec::with_capacity(head.head_len + 32);
    write_response_head(&head, content, &edits, &mut out);
    let version = if head.version.at_least_11() {
        Version::HTTP_11
    } else {
        head.version
    };
    // The written head is `status line CRLF (name: value CRLF)* CRLF`.
    let headers = out
        .split(|b| *b == b'\n')
        .skip(1)
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .take_while(|l| !l.is_empty())
        .filter_map(|l| {
            let colon = l.iter().position(|b| *b == b':')?;
            let value = l[colon + 1..].strip_prefix(b" ").unwrap_or(&l[colon + 1..]);
            Some((l[..colon].to_vec(), value.to_vec()))
        })
        .collect();
    Ok(Some(Reply {
        version: (version.major, version.minor),
        status: head.status,
        reason: head.reason.get(content).to_vec(),
        headers,
        body: body.to_vec(),
    }))
}

/// HAProxy's "invalid http version" for a status line whose version is not
/// `HTTP/d.d` but which is otherwise well formed (`FOO/1.0 503 X`).
fn bad_version(content: &[u8]) -> Option<String> {
    let line = content.split(|b| *b == b'\n').next()?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut words = line.splitn(3, |b| *b == b' ');
    let version = words.next()?;
    let status = words.next()?;
    let well_formed = status.len() == 3 && status.iter().all(u8::is_ascii_digit);
    (well_formed && parse_version(version).is_none()).then(|| {
        format!(
            "invalid http version ({})",
            String::from_utf8_lossy(version)
        )
    })
}

/// Encodes `reply` as an HTTP/1 response: `HTTP/x.y SP status SP reason CRLF`, each
/// header as `name: value CRLF`, a blank line, the body.
pub fn encode_reply(reply: &Reply) -> Vec<u8> {
    let len = 32
        + reply.reason.len()
        + reply
            .headers
            .iter()
            .map(|(n, v)| n.len() + v.len() + 4)
            .sum::<usize>()
        + reply.body.len();
    let mut out = Vec::with_capacity(len);
    let (major, minor) = reply.version;
    out.extend_from_slice(b"HTTP/");
    out.extend_from_slice(&[b'0' + major % 10, b'.', b'0' + minor % 10, b' ']);
    let s = reply.status;
    out.extend_from_slice(&[
        b'0' + (s / 100 % 10) as u8,
        b'0' + (s / 10 % 10) as u8,
        b'0' + (s % 10) as u8,
        b' ',
    ]);
    out.extend_from_slice(&reply.reason);
    out.extend_from_slice(b"\r\n");
    for (name, value) in &reply.headers {
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&reply.body);
    out
}

/// `page` with a `connection: close` header, for a client connection about to close.
pub fn with_close(page: &[u8]) -> Cow<'_, [u8]> {
    let Some(end) = page.windows(4).position(|w| w == b"\r\n\r\n") else {
        return page.into();
    };
    let head = &page[..end];
    let has = head
        .split(|b| *b == b'\n')
        .any(|l| l.len() >= 11 && l[..11].eq_ignore_ascii_case(b"connection:"));
    if has {
        return page.into();
    }
    let mut out = Vec::with_capacity(page.len() + 19);
    out.extend_from_slice(&page[..end + 2]);
    out.extend_from_slice(b"connection: close\r\n");
    out.extend_from_slice(&page[end + 2..]);
    out.into()
}

fn head_lines(page: &[u8]) -> impl Iterator<Item = &[u8]> {
    let end = page
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(page.len());
    page[..end].split(|b| *b == b'\n')
}

/// True when a response page lets the connection stay open after it: it has a length and
/// does not announce `connection: close`.
pub fn keeps_alive(page: &[u8]) -> bool {
    let starts = |l: &[u8], p: &[u8]| l.len() >= p.len() && l[..p.len()].eq_ignore_ascii_case(p);
    let has_len = head_lines(page).any(|l| starts(l, b"content-length:"));
    let close = head_lines(page).any(|l| {
        starts(l, b"connection:") && l.windows(5).any(|w| w.eq_ignore_ascii_case(b"close"))
    });
    has_len && !close
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_errorfile_is_sent_as_haproxys_http1_layer_writes_it() {
        let file = b"HTTP/1.0 503 Down\r\nX-Custom: A\r\nConnection: Keep-Alive, Close\r\nContent-Length: 4\r\n\r\ngone";
        let reply = parse_errorfile(file).expect("valid").expect("not empty");
        assert_eq!(reply.status, 503);
        assert_eq!(reply.header(b"content-length"), Some(&b"4"[..]));
        assert_eq!(
            encode_reply(&reply),
            b"HTTP/1.0 503 Down\r\nx-custom: A\r\ncontent-length: 4\r\nconnection: close\r\n\r\ngone"
        );
        let eleven = parse_errorfile(b"HTTP/1.2 404 \r\n\r\n")
            .expect("valid")
            .expect("reply");
        assert_eq!(encode_reply(&eleven), b"HTTP/1.1 404 \r\n\r\n");
        assert_eq!(parse_errorfile(b""), Ok(None));
    }

    #[test]
    fn close_and_keep_alive_are_read_from_the_encoded_head() {
        let page = b"HTTP/1.1 503 X\r\ncontent-length: 0\r\n\r\n";
        assert!(keeps_alive(page));
        let closed = with_close(page);
        assert!(!keeps_alive(&closed));
        assert!(closed.ends_with(b"connection: close\r\n\r\n"));
        assert!(!keeps_alive(b"HTTP/1.1 503 X\r\n\r\nbody"));
    }
}
