//! [`DataStream`]: both halves of an HTTP/2 stream turned into a tunnel, as a byte
//! stream. Reading gives the peer's DATA frames (their flow-control capacity released as
//! they are taken; END_STREAM reads as the end), writing sends DATA frames within the
//! peer's window, and shutting down sends END_STREAM (a half-close). The client side
//! (a CONNECT or extended CONNECT stream from a client) and the server side (an extended
//! CONNECT toward an HTTP/2 server) use the same type: `h2` gives both the same halves.

use bytes::Bytes;
use h2::{RecvStream, SendStream};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A stream's halves as a byte stream.
pub struct DataStream {
    recv: RecvStream,
    send: SendStream<Bytes>,
    /// The rest of a DATA frame that did not fit the reader's buffer.
    pending: Bytes,
    /// END_STREAM was sent.
    ended: bool,
}

impl DataStream {
    /// The byte stream of a stream's receiving and sending halves.
    pub fn new(recv: RecvStream, send: SendStream<Bytes>) -> Self {
        DataStream {
            recv,
            send,
            pending: Bytes::new(),
            ended: false,
        }
    }
}

/// A failure of the `h2` crate as a byte stream's error.
pub(crate) fn io_error(e: h2::Error) -> io::Error {
    if e.is_reset() || e.is_go_away() {
        io::ErrorKind::ConnectionReset.into()
    } else {
        io::Error::other(e)
    }
}

impl AsyncRead for DataStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let t = self.get_mut();
        if t.pending.is_empty() {
            match t.recv.poll_data(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(io_error(e))),
                Poll::Ready(Some(Ok(b))) => {
                    let _ = t.recv.flow_control().release_capacity(b.len());
                    t.pending = b;
                }
            }
        }
        let n = t.pending.len().min(buf.remaining());
        buf.put_slice(&t.pending.split_to(n));
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for DataStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let t = self.get_mut();
        if t.ended {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        t.send.reserve_capacity(buf.len());
        let mut cap = t.send.capacity();
        if cap == 0 {
            cap = match t.send.poll_capacity(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(io_error(e))),
                Poll::Ready(Some(Ok(n))) => n,
            };
        }
        let n = cap.min(buf.len());
        t.send
            .send_data(Bytes::copy_from_slice(&buf[..n]), false)
            .map_err(io_error)?;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let t = self.get_mut();
        if !t.ended {
            t.ended = true;
            t.send.send_data(Bytes::new(), true).map_err(io_error)?;
        }
        Poll::Ready(Ok(()))
    }
}
