//! A parsed request seen through the ACL engine's and the balancer's eyes, without
//! copying anything.

use crate::acl::SampleSource;
use crate::balance::BalanceInput;
use crate::proxy::h1::RequestHead;
use crate::proxy::session::ConnInfo;
use std::net::{IpAddr, SocketAddr};

/// A request head in its buffer, with its connection.
pub struct ReqView<'a> {
    /// The buffer the head was parsed from.
    pub buf: &'a [u8],
    /// The parsed head.
    pub head: &'a RequestHead,
    /// The client connection.
    pub conn: &'a ConnInfo,
    /// The response status, once known (for `http-response` rules).
    pub status: Option<u16>,
}

impl SampleSource for ReqView<'_> {
    fn src(&self) -> Option<SocketAddr> {
        self.conn.peer
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.conn.local
    }
    fn method(&self) -> Option<&[u8]> {
        Some(self.head.method_bytes(self.buf))
    }
    fn uri(&self) -> Option<&[u8]> {
        Some(self.head.uri.get(self.buf))
    }
    fn req_header(&self, name: &str, each: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.head
            .headers
            .iter()
            .filter(|h| h.name.get(self.buf).eq_ignore_ascii_case(name.as_bytes()))
            .any(|h| each(h.value.get(self.buf)))
    }
    fn version(&self) -> Option<&[u8]> {
        Some(if self.head.version.at_least_11() {
            b"1.1"
        } else {
            b"1.0"
        })
    }
    fn req_headers(&self, each: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> bool {
        self.head
            .headers
            .iter()
            .any(|h| each(h.name.get(self.buf), h.value.get(self.buf)))
    }
    fn status(&self) -> Option<u16> {
        self.status
    }
}

impl BalanceInput for ReqView<'_> {
    fn src(&self) -> Option<IpAddr> {
        self.conn.peer.map(|p| p.ip())
    }
    fn uri(&self) -> Option<&[u8]> {
        Some(self.head.uri.get(self.buf))
    }
    fn header(&self, name: &str) -> Option<&[u8]> {
        self.head
            .headers
            .iter()
            .rev()
            .find(|h| h.name.get(self.buf).eq_ignore_ascii_case(name.as_bytes()))
            .map(|h| h.value.get(self.buf))
    }
}
