//! The server-to-client side of a pumped session: the bytes pass through unchanged
//! while the message framing of what the client was sent is followed, so that gatehouse
//! can add a message of its own (the `57P01` `ErrorResponse` of a session shut down by
//! `on-marked-down shutdown-sessions`) only between two messages, never inside one.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;

/// Where the client's stream is in the message framing.
#[derive(Debug, Default)]
pub struct Framing {
    /// Bytes of the current message's 5-byte header seen.
    head: [u8; 5],
    have: usize,
    /// Bytes of the current message's body still to come.
    left: usize,
}

impl Framing {
    /// Follows `b`, the next bytes of the stream.
    pub fn feed(&mut self, mut b: &[u8]) {
        while !b.is_empty() {
            if self.left > 0 {
                let n = self.left.min(b.len());
                self.left -= n;
                b = &b[n..];
                continue;
            }
            let n = (5 - self.have).min(b.len());
            self.head[self.have..self.have + n].copy_from_slice(&b[..n]);
            self.have += n;
            b = &b[n..];
            if self.have == 5 {
                let len =
                    u32::from_be_bytes([self.head[1], self.head[2], self.head[3], self.head[4]]);
                self.left = (len as usize).saturating_sub(4);
                self.have = 0;
            }
        }
    }

    /// Whether the stream stands between two messages.
    pub fn at_boundary(&self) -> bool {
        self.have == 0 && self.left == 0
    }
}

/// A writer that follows the [`Framing`] of the bytes it accepted.
#[derive(Debug)]
pub struct Frames<W> {
    /// The client's writing half.
    pub inner: W,
    /// What the client was sent so far.
    pub framing: Framing,
}

impl<W> Frames<W> {
    /// A writer on `inner`, whose stream stands between two messages.
    pub fn new(inner: W) -> Frames<W> {
        Frames {
            inner,
            framing: Framing::default(),
        }
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for Frames<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        let r = Pin::new(&mut me.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = r {
            me.framing.feed(&buf[..n]);
        }
        r
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_are_found_whatever_the_write_sizes() {
        let mut stream = super::super::wire::ready_for_query(b'I');
        stream.extend(super::super::wire::parameter_status("a", "b"));
        stream.extend(super::super::wire::error_response("57P01", "x"));
        // The offsets where a message ends.
        let ends = [6, 6 + 9, stream.len()];
        for step in 1..=stream.len() {
            let mut f = Framing::default();
            let mut at = 0;
            for c in stream.chunks(step) {
                f.feed(c);
                at += c.len();
                assert_eq!(f.at_boundary(), ends.contains(&at), "step {step} at {at}");
            }
        }
    }
}
