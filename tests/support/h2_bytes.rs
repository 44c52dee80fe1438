//! One stream of an HTTP/2 connection (the `h2` crate) as a tokio byte stream: the
//! tests' side of a tunnel (CONNECT, extended CONNECT / WebSocket) carried by a stream.

use bytes::Bytes;
use h2::{RecvStream, SendStream};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A stream of an HTTP/2 connection as a byte stream: reads its DATA (releasing flow
/// control as it goes), writes DATA within the send window, and ends the stream
/// (END_STREAM) on shutdown.
pub struct StreamBytes {
    /// The stream's sending half.
    pub send: SendStream<Bytes>,
    /// The stream's receiving half.
    pub recv: RecvStream,
    /// Data received and not read yet.
    pub pending: Bytes,
}

impl StreamBytes {
    /// The byte stream over `send` and `recv`.
    pub fn new(send: SendStream<Bytes>, recv: RecvStream) -> Self {
        StreamBytes {
            send,
            recv,
            pending: Bytes::new(),
        }
    }
}

impl AsyncRead for StreamBytes {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let me = self.get_mut();
        if me.pending.is_empty() {
            match me.recv.poll_data(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(std::io::Error::other(e))),
                Poll::Ready(Some(Ok(b))) => {
                    let _ = me.recv.flow_control().release_capacity(b.len());
                    me.pending = b;
                }
            }
        }
        let n = me.pending.len().min(buf.remaining());
        buf.put_slice(&me.pending.split_to(n));
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for StreamBytes {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let me = self.get_mut();
        me.send.reserve_capacity(buf.len());
        let mut cap = me.send.capacity();
        if cap == 0 {
            cap = match me.send.poll_capacity(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(n))) => n,
                _ => return Poll::Ready(Err(std::io::ErrorKind::BrokenPipe.into())),
            };
        }
        let n = cap.min(buf.len());
        me.send
            .send_data(Bytes::copy_from_slice(&buf[..n]), false)
            .map_err(std::io::Error::other)?;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let _ = self.get_mut().send.send_data(Bytes::new(), true);
        Poll::Ready(Ok(()))
    }
}
