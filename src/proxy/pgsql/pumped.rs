//! The client's stream while a front-door session is pumped (`crate::proxy::tunnel`):
//! the bytes pass through unchanged, whole reads and whole writes. Two things look at
//! them on the way:
//! - what the client is sent is followed message by message ([`Framing`]: a few
//!   instructions per message, no copy), so that gatehouse adds a message of its own
//!   (the `57P01` `ErrorResponse` of a session shut down from outside:
//!   `on-marked-down shutdown-sessions`, `shutdown sessions server`) only between two
//!   messages, never inside one;
//! - with `option pgsql-audit-statements` only, what the client sends goes through the
//!   statement [`Framer`] ([`super::tap`]).

use super::tap::Framer;
use crate::pgwire::frame::Framing;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What is called with each statement the client sends: its kind (`Q` or `P`) and text.
pub type OnStatement = Box<dyn FnMut(u8, &[u8]) + Send>;

/// A client's stream during the pump.
pub struct Pumped<S> {
    inner: S,
    /// The statement audit, when configured.
    tap: Option<(Framer, OnStatement)>,
    /// What the client was sent so far.
    sent: Framing,
}

impl<S> Pumped<S> {
    /// `inner`, standing between two messages in both directions; `tap` shows the
    /// client's statements to the audit.
    pub fn new(inner: S, tap: Option<(Framer, OnStatement)>) -> Pumped<S> {
        Pumped {
            inner,
            tap,
            sent: Framing::default(),
        }
    }

    /// Follows bytes the client was sent before the pump (the server's bytes read with
    /// its `ReadyForQuery`).
    pub fn sent_before(&mut self, b: &[u8]) {
        self.sent.feed(b, |_| {});
    }

    /// Whether what the client was sent so far ends between two messages.
    pub fn at_boundary(&self) -> bool {
        self.sent.at_boundary()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Pumped<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut me.inner).poll_read(cx, buf);
        if let (Poll::Ready(Ok(())), Some((framer, on))) = (&r, &mut me.tap) {
            framer.feed(&buf.filled()[before..], &mut **on);
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Pumped<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        let r = Pin::new(&mut me.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = r {
            me.sent.feed(&buf[..n], |_| {});
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
    use crate::pgwire::frame::encode;
    use crate::pgwire::message::backend;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn bytes_pass_unchanged_while_statements_and_boundaries_are_followed() {
        let (near, mut far) = tokio::io::duplex(1024);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let on: OnStatement = Box::new(move |k, t| {
            log.lock()
                .unwrap()
                .push((k, String::from_utf8_lossy(t).into_owned()))
        });
        let mut p = Pumped::new(near, Some((Framer::new(100), on)));
        let mut sent = encode(b'Q', b"SELECT 1\0");
        sent.extend(encode(b'X', b""));
        far.write_all(&sent).await.unwrap();
        let mut got = vec![0u8; sent.len()];
        p.read_exact(&mut got).await.unwrap();
        assert_eq!(got, sent);
        assert_eq!(*seen.lock().unwrap(), [(b'Q', "SELECT 1".to_owned())]);
        let rfq = backend::ready_for_query(b'I');
        p.write_all(&rfq[..3]).await.unwrap();
        assert!(!p.at_boundary());
        p.write_all(&rfq[3..]).await.unwrap();
        assert!(p.at_boundary());
        let mut back = vec![0u8; rfq.len()];
        far.read_exact(&mut back).await.unwrap();
        assert_eq!(back, rfq);
    }
}
