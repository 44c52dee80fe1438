//! `tcp-response content` rules in `mode tcp`: before the tunnel starts, the server's
//! first bytes are read and the backend's rules evaluated each time they grow, until
//! a rule decides, the inspect delay ends, the buffer fills or the server closes — as
//! HAProxy's `tcp_inspect_response()` does.

use crate::acl::SampleSource;
use crate::runtime::tcp_response::{ResAction, TcpResponse};
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::Instant;

/// The stream as the response rules see it: `inner` (the connection, the request
/// payload, the live state) with the server's bytes read so far.
struct Response<'a> {
    inner: &'a dyn SampleSource,
    data: &'a [u8],
    last: bool,
}

impl SampleSource for Response<'_> {
    fn src(&self) -> Option<SocketAddr> {
        self.inner.src()
    }
    fn dst(&self) -> Option<SocketAddr> {
        self.inner.dst()
    }
    fn tls(&self) -> Option<&crate::tls::Facts> {
        self.inner.tls()
    }
    fn req_payload(&self) -> Option<&[u8]> {
        self.inner.req_payload()
    }
    fn res_payload(&self) -> Option<&[u8]> {
        Some(self.data)
    }
    fn payload_final(&self) -> bool {
        self.last
    }
}

/// Reads the server's first bytes into `buf` and runs `rules` on them; `inner` gives
/// the rest of the stream. `None`: the server connection failed while read.
pub async fn inspect<S: AsyncRead + Unpin>(
    rules: &TcpResponse,
    server: &mut S,
    inner: &(dyn SampleSource + Sync),
    live: &(dyn crate::acl::LiveState + Sync),
    buf: &mut Vec<u8>,
    bufsize: usize,
) -> Option<ResAction> {
    let deadline = rules.delay.map(|d| Instant::now() + d);
    let mut closed = false;
    loop {
        let last = closed || buf.len() >= bufsize || deadline.is_none_or(|d| Instant::now() >= d);
        let verdict = {
            let view = Response {
                inner,
                data: buf,
                last,
            };
            let src = crate::acl::WithLive { inner: &view, live };
            rules.verdict(&src, !last)
        };
        if let Some(v) = verdict {
            return Some(v);
        }
        let Some(d) = deadline else {
            return Some(ResAction::Accept);
        };
        let start = buf.len();
        buf.resize(bufsize, 0);
        let read = tokio::time::timeout_at(d, server.read(&mut buf[start..])).await;
        match read {
            Ok(Ok(0)) => {
                buf.truncate(start);
                closed = true;
            }
            Ok(Ok(n)) => buf.truncate(start + n),
            Ok(Err(_)) => {
                buf.truncate(start);
                return None;
            }
            // The delay ended: the next evaluation is final.
            Err(_) => buf.truncate(start),
        }
    }
}
