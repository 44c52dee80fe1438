//! Error responses: HAProxy's default pages, overridden per proxy by `errorfile`.

use crate::config::model::ErrorFile;
use std::sync::Arc;

/// The `errorfile` overrides of one proxy; falls back to HAProxy's built-in pages.
#[derive(Clone, Debug, Default)]
pub struct ErrorPages {
    pages: Vec<(u16, Arc<[u8]>)>,
}

impl ErrorPages {
    /// From a proxy's `errorfile` lines.
    pub fn new(files: &[ErrorFile]) -> Self {
        ErrorPages {
            pages: files
                .iter()
                .map(|f| (f.status, Arc::from(normalize(&f.content).as_slice())))
                .collect(),
        }
    }

    /// The override for `status`, if any.
    pub fn get(&self, status: u16) -> Option<&[u8]> {
        self.pages
            .iter()
            .find(|(s, _)| *s == status)
            .map(|(_, p)| &**p)
    }
}

/// The response to send for `status`: the backend's errorfile, else the frontend's, else
/// HAProxy's default page.
pub fn page<'a>(
    status: u16,
    backend: Option<&'a ErrorPages>,
    frontend: &'a ErrorPages,
) -> &'a [u8] {
    backend
        .and_then(|b| b.get(status))
        .or_else(|| frontend.get(status))
        .unwrap_or_else(|| crate::proxy::h1::error_response(status))
}

/// HAProxy parses an errorfile into a message and writes it back out: header names
/// lowercased, `Connection: close` written last. A file that does not parse is sent as is.
fn normalize(content: &[u8]) -> Vec<u8> {
    use crate::proxy::h1::{
        ConnectionHeader, HeadEdits, Limits, Method, parse_response, write_response_head,
    };
    let limits = Limits {
        max_head: content.len().max(1) + 1,
        max_headers: 101,
    };
    let Ok(Some(head)) = parse_response(content, &limits, Method::Get) else {
        return content.to_vec();
    };
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
    let mut out = Vec::with_capacity(content.len() + 32);
    write_response_head(&head, content, &edits, &mut out);
    out.extend_from_slice(&content[head.head_len..]);
    out
}

/// `page` with a `connection: close` header, for a client connection about to close.
pub fn with_close(page: &[u8]) -> std::borrow::Cow<'_, [u8]> {
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
