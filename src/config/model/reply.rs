//! A response the proxy sends itself (an `errorfile`, an `http-request return`, HAProxy's
//! error pages), protocol-neutral: the client's codec encodes it.

/// A local reply: status, reason, headers in order, body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    /// The HTTP version an errorfile's status line states (`(1, 0)` for `HTTP/1.0`);
    /// `(1, 1)` for the proxy's own replies. The HTTP/1 codec writes it back.
    pub version: (u8, u8),
    /// The status code.
    pub status: u16,
    /// The reason phrase.
    pub reason: Vec<u8>,
    /// Header fields in order, names as they are sent (lowercase).
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// The payload.
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &[u8]) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}
