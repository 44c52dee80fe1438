//! Reads and writes with HAProxy's inactivity timeouts.

use crate::proxy::deadline::Deadline;
use std::io;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A client stream whose read readiness can be polled without a buffer, so that an idle
/// keep-alive connection holds no read buffer (and no nested futures) while it waits.
pub trait WaitReadable: Sync {
    /// Ready when a read would not block (data, end of stream or an error).
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Says that the writes until the next call are followed by more bytes of the same
    /// message (a response body of known length not finished yet), as HAProxy passes
    /// `MSG_MORE` to `send`: the kernel then sends full segments instead of one per
    /// write, and the client is woken once per segment rather than per write. Streams
    /// that cannot pass it ignore it (the default).
    fn set_more(&mut self, more: bool) {
        let _ = more;
    }
}

impl WaitReadable for tokio::net::TcpStream {
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        tokio::net::TcpStream::poll_read_ready(self, cx)
    }
}

impl WaitReadable for tokio::net::UnixStream {
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        tokio::net::UnixStream::poll_read_ready(self, cx)
    }
}

/// Waits until `stream` has something to read, for at most `timeout` (on `timer`, the
/// connection's own, re-armed rather than registered anew at each wait): `false` when
/// the timeout expired or the stream failed.
pub async fn wait_readable<S: WaitReadable>(
    stream: &S,
    timeout: Option<Duration>,
    timer: &mut Deadline,
) -> bool {
    match timeout {
        Some(t) => timer.arm(t),
        None => timer.disarm(),
    }
    let ready = std::future::poll_fn(|cx| {
        if let Poll::Ready(r) = stream.poll_read_ready(cx) {
            return Poll::Ready(r.is_ok());
        }
        timer.poll_expired(cx).map(|()| false)
    })
    .await;
    timer.disarm();
    ready
}

/// Reads what is available right now into `buf` without waiting: `None` when nothing
/// is (the caller then waits), `Some(Ok(0))` at end of stream.
pub async fn read_now<R: AsyncRead + Unpin + ?Sized>(
    r: &mut R,
    buf: &mut Vec<u8>,
    reserve: usize,
) -> Option<io::Result<usize>> {
    if buf.capacity() - buf.len() < reserve / 4 {
        buf.reserve(reserve);
    }
    let mut read = std::pin::pin!(r.read_buf(buf));
    std::future::poll_fn(|cx| match read.as_mut().poll(cx) {
        Poll::Pending => Poll::Ready(None),
        Poll::Ready(r) => Poll::Ready(Some(r)),
    })
    .await
}

/// Why an I/O step failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoFail {
    /// The timeout expired.
    Timeout,
    /// The peer closed (read returned 0 where more was expected).
    Closed,
    /// A socket error (reset…).
    Error,
}

/// Appends what is available to `buf` (at least one byte, or `Closed`). The read is tried
/// first; the timer is armed only when it would block (a timer costs a clock read and a
/// timer-wheel entry, several per request otherwise).
pub async fn read_more<R: AsyncRead + Unpin + ?Sized>(
    r: &mut R,
    buf: &mut Vec<u8>,
    reserve: usize,
    timeout: Option<Duration>,
) -> Result<usize, IoFail> {
    read_more_with(r, buf, reserve, || timeout, None).await
}

/// [`read_more`] with the timeout worked out only when the read would block, and with
/// a reusable timer (`timer`: a wait for a server's response re-arms the timer of its
/// buffers instead of registering a new one; docs/performance.md).
pub async fn read_more_with<R: AsyncRead + Unpin + ?Sized>(
    r: &mut R,
    buf: &mut Vec<u8>,
    reserve: usize,
    timeout: impl FnOnce() -> Option<Duration>,
    timer: Option<&mut Deadline>,
) -> Result<usize, IoFail> {
    let res = match read_now(r, buf, reserve).await {
        Some(res) => res,
        None => match (timeout(), timer) {
            (Some(t), Some(timer)) => {
                timer.arm(t);
                let mut read = std::pin::pin!(r.read_buf(buf));
                let res = std::future::poll_fn(|cx| {
                    if let Poll::Ready(r) = read.as_mut().poll(cx) {
                        return Poll::Ready(Some(r));
                    }
                    timer.poll_expired(cx).map(|()| None)
                })
                .await;
                timer.disarm();
                res.ok_or(IoFail::Timeout)?
            }
            (Some(t), None) => tokio::time::timeout(t, r.read_buf(buf))
                .await
                .map_err(|_| IoFail::Timeout)?,
            (None, _) => r.read_buf(buf).await,
        },
    };
    match res {
        Ok(0) => Err(IoFail::Closed),
        Ok(n) => Ok(n),
        Err(_) => Err(IoFail::Error),
    }
}

/// Writes what `w` takes of `bufs` right now without waiting: `None` when it would
/// block.
async fn write_now<W: AsyncWrite + Unpin + ?Sized>(
    w: &mut W,
    bufs: &[io::IoSlice<'_>],
) -> Option<io::Result<usize>> {
    std::future::poll_fn(|cx| {
        let w = std::pin::Pin::new(&mut *w);
        // One slice: a plain `send`, as `write_all` would.
        let r = match bufs {
            [one] => w.poll_write(cx, one),
            _ => w.poll_write_vectored(cx, bufs),
        };
        match r {
            Poll::Pending => Poll::Ready(None),
            Poll::Ready(r) => Poll::Ready(Some(r)),
        }
    })
    .await
}

/// Writes all of `data`. The write is tried first; the timer is armed only for what
/// would block.
pub async fn write_all<W: AsyncWrite + Unpin + ?Sized>(
    w: &mut W,
    data: &[u8],
    timeout: Option<Duration>,
) -> Result<(), IoFail> {
    if data.is_empty() {
        return Ok(());
    }
    let data = match write_now(w, &[io::IoSlice::new(data)]).await {
        Some(Ok(0)) | Some(Err(_)) => return Err(IoFail::Error),
        Some(Ok(n)) if n == data.len() => return Ok(()),
        Some(Ok(n)) => &data[n..],
        None => data,
    };
    let res: io::Result<()> = match timeout {
        Some(t) => tokio::time::timeout(t, w.write_all(data))
            .await
            .map_err(|_| IoFail::Timeout)?,
        None => w.write_all(data).await,
    };
    res.map_err(|_| IoFail::Error)
}

/// Writes all of `head`, then all of `body`, with vectored writes: a response head and
/// the first body bytes leave in one `writev` without first being copied together.
pub async fn write_all_pair<W: AsyncWrite + Unpin + ?Sized>(
    w: &mut W,
    head: &[u8],
    body: &[u8],
    timeout: Option<Duration>,
) -> Result<(), IoFail> {
    let (mut head, mut body) = (head, body);
    match write_now(w, &[io::IoSlice::new(head), io::IoSlice::new(body)]).await {
        Some(Ok(0)) | Some(Err(_)) => return Err(IoFail::Error),
        Some(Ok(n)) => {
            if n >= head.len() {
                body = &body[n - head.len()..];
                head = &[];
            } else {
                head = &head[n..];
            }
            if head.is_empty() && body.is_empty() {
                return Ok(());
            }
        }
        None => {}
    }
    let write = async {
        while !head.is_empty() {
            let n = w
                .write_vectored(&[io::IoSlice::new(head), io::IoSlice::new(body)])
                .await?;
            if n == 0 {
                return Err(io::Error::from(io::ErrorKind::WriteZero));
            }
            if n >= head.len() {
                body = &body[n - head.len()..];
                head = &[];
            } else {
                head = &head[n..];
            }
        }
        w.write_all(body).await
    };
    let res: io::Result<()> = match timeout {
        Some(t) => tokio::time::timeout(t, write)
            .await
            .map_err(|_| IoFail::Timeout)?,
        None => write.await,
    };
    res.map_err(|_| IoFail::Error)
}
