//! A TLS stream's write as the proxy needs it: complete only once its bytes left for the
//! socket. rustls keeps encrypted bytes a socket write could not take until the next
//! write or flush, and the proxy's exchange never flushes.
//!
//! A vectored write (a response head and its first body bytes) becomes one TLS record
//! and one socket write, as HAProxy's one `SSL_write` of its output buffer does, rather
//! than a record and a `sendto` per slice (docs/performance.md).

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;

/// Writes `buf` into `inner` and flushes it; `accepted` keeps how many bytes `inner` took
/// while the flush waits, so that the caller's retry (with the same bytes) completes it.
pub fn poll_write_through<W: AsyncWrite + Unpin>(
    inner: &mut W,
    accepted: &mut Option<usize>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    if accepted.is_none() {
        match Pin::new(&mut *inner).poll_write(cx, buf) {
            Poll::Ready(Ok(n)) => *accepted = Some(n),
            other => return other,
        }
    }
    flush_through(inner, accepted, cx)
}

/// [`poll_write_through`] of several slices at once: rustls seals what it takes of all
/// of them into one record (up to its 16 KiB limit) and sends it with one socket write.
pub fn poll_write_vectored_through<W: AsyncWrite + Unpin>(
    inner: &mut W,
    accepted: &mut Option<usize>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    if accepted.is_none() {
        match Pin::new(&mut *inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(Ok(n)) => *accepted = Some(n),
            other => return other,
        }
    }
    flush_through(inner, accepted, cx)
}

/// The flush that completes a write-through: the bytes `inner` accepted once they left
/// for the socket, or the flush's error (and nothing kept).
fn flush_through<W: AsyncWrite + Unpin>(
    inner: &mut W,
    accepted: &mut Option<usize>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<usize>> {
    match Pin::new(inner).poll_flush(cx) {
        Poll::Ready(Ok(())) => Poll::Ready(Ok(accepted.take().unwrap_or(0))),
        Poll::Ready(Err(e)) => {
            *accepted = None;
            Poll::Ready(Err(e))
        }
        Poll::Pending => Poll::Pending,
    }
}

/// Implements `AsyncRead` and `AsyncWrite` for an enum of two streams, `$a(s)` and
/// `$b(s)` (a stream, a box of one or a `&mut` to one), by calling the variant's own.
macro_rules! either_stream_io {
    ($ty:ty, $a:path, $b:path) => {
        impl tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                $crate::tls::stream::either_stream_io!(@ self, $a, $b, AsyncRead::poll_read(cx, buf))
            }
        }

        impl tokio::io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::tls::stream::either_stream_io!(@ self, $a, $b, AsyncWrite::poll_write(cx, buf))
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                $crate::tls::stream::either_stream_io!(@ self, $a, $b, AsyncWrite::poll_flush(cx))
            }

            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                $crate::tls::stream::either_stream_io!(@ self, $a, $b, AsyncWrite::poll_shutdown(cx))
            }
        }
    };
    (@ $self:ident, $a:path, $b:path, $tr:ident :: $m:ident ($($arg:ident),*)) => {
        match $self.get_mut() {
            $a(s) => tokio::io::$tr::$m(std::pin::Pin::new(s), $($arg),*),
            $b(s) => tokio::io::$tr::$m(std::pin::Pin::new(s), $($arg),*),
        }
    };
}
pub(crate) use either_stream_io;
