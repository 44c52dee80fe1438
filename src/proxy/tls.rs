//! TLS termination on the client side: the handshake of a `bind … ssl` connection and
//! the stream the http and tcp modes then read, [`TlsClient`].
//!
//! Two things make a TLS stream differ from a socket for the exchange. Decrypted bytes
//! can wait inside rustls while the socket has nothing to read, so readiness is "rustls
//! holds plaintext, or the socket is readable". And rustls buffers encrypted bytes a
//! socket write could not take; the exchange never flushes, so a write here completes
//! only once its bytes have left for the socket.

use super::http::io::WaitReadable;
use crate::tls::Facts;
use crate::tls::server::BindTlsRt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A client connection after its TLS handshake.
pub struct TlsClient<S> {
    inner: tokio_rustls::server::TlsStream<S>,
    /// rustls holds decrypted bytes (or the peer's close) not read yet.
    buffered: bool,
    /// Bytes of the write in progress that rustls took; the write completes when they
    /// have been flushed to the socket.
    accepted: Option<usize>,
    /// Where the connection's first TLS error goes (`ssl_fc_err`).
    error: crate::tls::errors::ErrorCell,
}

/// Why a client's handshake did not complete, with HAProxy's words for its log line
/// (`conn_err_code_str`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandshakeFail {
    /// The client closed before the handshake completed (`CO_ER_SSL_EMPTY`; not
    /// logged under `option dontlognull`).
    Closed,
    /// The connection broke (reset) during the handshake.
    Aborted,
    /// `timeout client` passed.
    Timeout,
    /// The client's certificate did not verify (`verify required|optional`).
    UntrustedClientCert,
    /// The handshake failed: no common version or cipher, a bad message, a refused name…
    Failure,
}

impl HandshakeFail {
    /// The text HAProxy logs after `<frontend>/<listener>: `.
    pub fn message(self) -> &'static str {
        match self {
            HandshakeFail::Closed => "Connection closed during SSL handshake",
            HandshakeFail::Aborted => "Connection error during SSL handshake",
            HandshakeFail::Timeout => "Timeout during SSL handshake",
            HandshakeFail::UntrustedClientCert => "SSL client certificate not trusted",
            HandshakeFail::Failure => "SSL handshake failure",
        }
    }

    fn of(e: &io::Error) -> HandshakeFail {
        match e.kind() {
            io::ErrorKind::UnexpectedEof => HandshakeFail::Closed,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => HandshakeFail::Aborted,
            _ => match e.get_ref().and_then(|x| x.downcast_ref::<rustls::Error>()) {
                Some(rustls::Error::InvalidCertificate(_)) => HandshakeFail::UntrustedClientCert,
                _ => HandshakeFail::Failure,
            },
        }
    }
}

/// Runs the TLS handshake on `stream`, within `timeout` (`timeout client`); why it
/// failed otherwise (the client is gone or was refused).
pub async fn accept<S>(
    config: Arc<BindTlsRt>,
    stream: S,
    timeout: Option<Duration>,
) -> Result<(TlsClient<S>, Facts), HandshakeFail>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let hs = crate::tls::tickets::counted(handshake(config, stream));
    let done = match timeout {
        Some(t) => tokio::time::timeout(t, hs)
            .await
            .map_err(|_| HandshakeFail::Timeout)?,
        None => hs.await,
    };
    let tls = done.map_err(|e| HandshakeFail::of(&e))?;
    let facts = Facts::of(tls.get_ref().1);
    Ok((
        TlsClient {
            inner: tls,
            buffered: false,
            accepted: None,
            error: facts.error.clone(),
        },
        facts,
    ))
}

/// The handshake: with the bind's one configuration, or, when crt-list lines have
/// options, with the one their certificate's line calls for once the ClientHello is read.
async fn handshake<S>(
    config: Arc<BindTlsRt>,
    stream: S,
) -> io::Result<tokio_rustls::server::TlsStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if !config.needs_hello() {
        return tokio_rustls::TlsAcceptor::from(config.base.clone())
            .accept(stream)
            .await;
    }
    let start =
        tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream).await?;
    let chosen = config.choose(&start.client_hello());
    start.into_stream(chosen).await
}

impl<S: WaitReadable> WaitReadable for TlsClient<S>
where
    tokio_rustls::server::TlsStream<S>: Sync,
{
    /// Passed to the socket: the records of a body of known length, and those that
    /// end a connection with its `close_notify`, leave in full segments.
    fn set_more(&mut self, more: bool) {
        self.inner.get_mut().0.set_more(more);
    }

    fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.buffered {
            return Poll::Ready(Ok(()));
        }
        self.inner.get_ref().0.poll_read_ready(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for TlsClient<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        let r = Pin::new(&mut me.inner).poll_read(cx, buf);
        if let Poll::Ready(Err(e)) = &r
            && let Some(tls) = e.get_ref().and_then(|x| x.downcast_ref::<rustls::Error>())
        {
            me.error.record(tls);
        }
        if r.is_ready() {
            // tokio-rustls processed every complete record it read: rustls wants no read
            // exactly when it holds plaintext or the peer's close (a field check, where
            // `process_new_packets` again cost ~300 instructions a read).
            me.buffered = !me.inner.get_ref().1.wants_read();
        }
        r
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for TlsClient<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        crate::tls::stream::poll_write_through(&mut me.inner, &mut me.accepted, cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        crate::tls::stream::poll_write_vectored_through(&mut me.inner, &mut me.accepted, cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
