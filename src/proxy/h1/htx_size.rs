//! The size HAProxy 2.6 counts for a message the proxy writes itself (its error pages,
//! `return`/`deny` replies, `monitor-uri`): the size of its HTX form, not its bytes on
//! the wire (`bout`, `%B`).

use crate::config::model::Reply;
use crate::proxy::message::htx_field_size;
use crate::runtime::errors::Page;

/// The HTX size of one of the proxy's replies, whichever protocol carries it (HAProxy
/// builds the same HTX message for an HTTP/2 client): its HTTP/1 form measured by
/// [`of_local_message`]; `head_only` (a `HEAD` request) without its body.
pub fn of_reply(reply: &Reply, head_only: bool) -> u64 {
    let mut r = super::client::local_reply(Page::Reply(reply), true);
    if head_only {
        r = super::client::head_only(r);
    }
    of_local_message(&r.bytes)
}

/// The HTX size of an HTTP/1 message `bytes` the proxy encoded itself (`name: value`
/// lines): a 20-byte start-line block with its three parts, each header's name and
/// value, a 1-byte end of headers, then the body.
pub fn of_local_message(bytes: &[u8]) -> u64 {
    let Some(end) = memchr::memmem::find(bytes, b"\r\n\r\n") else {
        return bytes.len() as u64;
    };
    let mut lines = bytes[..end]
        .split(|&b| b == b'\n')
        .map(|l| l.trim_ascii_end());
    let start = lines.next().unwrap_or_default();
    // The three parts without the two spaces between them.
    let mut size = 20 + start.len().saturating_sub(2);
    for l in lines {
        let (name, value) = match memchr::memchr(b':', l) {
            Some(i) => (&l[..i], l[i + 1..].trim_ascii()),
            None => (l, &b""[..]),
        };
        size += htx_field_size(name, value);
    }
    (size + 1 + bytes.len() - (end + 4)) as u64
}

#[cfg(test)]
mod tests {
    use super::of_local_message;

    #[test]
    fn counts_the_htx_form_of_haproxys_monitor_page() {
        // HAProxy 2.6 counts 150 bytes for its `monitor-uri` 200 page.
        let body = "<html><body><h1>200 OK</h1>\nService ready.\n</body></html>\n";
        let page = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\ncache-control: no-cache\r\nconnection: close\r\ncontent-type: text/html\r\n\r\n{body}",
            body.len()
        );
        assert_eq!(of_local_message(page.as_bytes()), 150);
    }
}
