//! Reads and writes with HAProxy's inactivity timeouts.

use std::io;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

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

/// Appends what is available to `buf` (at least one byte, or `Closed`).
pub async fn read_more<R: AsyncRead + Unpin + ?Sized>(
    r: &mut R,
    buf: &mut Vec<u8>,
    reserve: usize,
    timeout: Option<Duration>,
) -> Result<usize, IoFail> {
    if buf.capacity() - buf.len() < reserve / 4 {
        buf.reserve(reserve);
    }
    let res = match timeout {
        Some(t) => tokio::time::timeout(t, r.read_buf(buf))
            .await
            .map_err(|_| IoFail::Timeout)?,
        None => r.read_buf(buf).await,
    };
    match res {
        Ok(0) => Err(IoFail::Closed),
        Ok(n) => Ok(n),
        Err(_) => Err(IoFail::Error),
    }
}

/// Writes all of `data`.
pub async fn write_all<W: AsyncWrite + Unpin + ?Sized>(
    w: &mut W,
    data: &[u8],
    timeout: Option<Duration>,
) -> Result<(), IoFail> {
    let res: io::Result<()> = match timeout {
        Some(t) => tokio::time::timeout(t, w.write_all(data))
            .await
            .map_err(|_| IoFail::Timeout)?,
        None => w.write_all(data).await,
    };
    res.map_err(|_| IoFail::Error)
}
