//! HAProxy's built-in error pages, byte-exact.

use crate::proxy::h1::{error_response, parse_error_response};

const STATUSES: [u16; 17] = [
    400, 401, 403, 404, 405, 407, 408, 410, 413, 422, 425, 429, 500, 501, 502, 503, 504,
];

#[test]
fn pages_match_haproxy_bytes() {
    assert_eq!(
        error_response(503),
        &b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server is available to handle this request.\n</body></html>\n"[..]
    );
    assert_eq!(
        parse_error_response(400),
        &b"HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent an invalid request.\n</body></html>\n"[..]
    );
}

#[test]
fn every_page_has_its_status_and_a_correct_content_length() {
    for s in STATUSES {
        for page in [error_response(s), parse_error_response(s)] {
            let text = std::str::from_utf8(page).expect("ascii");
            assert!(text.starts_with(&format!("HTTP/1.1 {s} ")), "{text}");
            let (head, body) = text.split_once("\r\n\r\n").expect("head end");
            let len = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .expect("content-length");
            assert_eq!(len.parse::<usize>().ok(), Some(body.len()), "{s}");
        }
    }
    // Unknown statuses fall back to 500 like HAProxy.
    assert_eq!(error_response(418), error_response(500));
}
