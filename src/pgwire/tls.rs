//! TLS toward a PostgreSQL server: PostgreSQL starts plain, so the client sends
//! `SSLRequest`, reads one byte (`S`: go on with a TLS handshake; `N`: the server does
//! not do TLS) and only then shakes hands (rustls, with the client configuration
//! `crate::tls::client` compiles from a `server … ssl` line). [`PgStream`] is either.

use super::error::PgError;
use super::message::frontend;
use bytes::BytesMut;
use rustls::pki_types::ServerName;
use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Asks for TLS on `stream` (`SSLRequest`) and shakes hands with `connector` sending
/// `name`. The server's `N` is [`PgError::TlsRefused`]; exactly one byte of answer is
/// read before the handshake, so nothing sent in the clear is taken as TLS data.
pub async fn start_tls<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    connector: &TlsConnector,
    name: ServerName<'static>,
) -> Result<TlsStream<S>, PgError> {
    let mut buf = BytesMut::new();
    frontend::ssl_request(&mut buf);
    stream.write_all(&buf).await?;
    stream.flush().await?;
    let answer = match stream.read_u8().await {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Err(PgError::Closed),
        Err(e) => return Err(e.into()),
    };
    match answer {
        b'S' => connector
            .connect(name, stream)
            .await
            .map_err(PgError::TlsHandshake),
        b'N' => Err(PgError::TlsRefused),
        other => Err(PgError::Protocol(format!(
            "unexpected answer {other:#04x} to SSLRequest"
        ))),
    }
}

/// A connection to a PostgreSQL server, in the clear or over TLS.
#[derive(Debug)]
pub enum PgStream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS after `SSLRequest`.
    Tls(Box<TlsStream<TcpStream>>),
}

impl PgStream {
    /// The TCP connection under it.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            PgStream::Plain(s) => s,
            PgStream::Tls(s) => s.get_ref().0,
        }
    }
}

/// Connects to `addr` (with `TCP_NODELAY`), then, with `tls`, asks for TLS and shakes
/// hands sending the given name (an IP address name sends no SNI).
pub async fn connect(
    addr: SocketAddr,
    tls: Option<(&TlsConnector, ServerName<'static>)>,
) -> Result<PgStream, PgError> {
    let tcp = TcpStream::connect(addr).await?;
    let _ = tcp.set_nodelay(true);
    Ok(match tls {
        None => PgStream::Plain(tcp),
        Some((c, name)) => PgStream::Tls(Box::new(start_tls(tcp, c, name).await?)),
    })
}

crate::tls::stream::either_stream_io!(PgStream, PgStream::Plain, PgStream::Tls);

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn connector() -> TlsConnector {
        let roots = rustls::RootCertStore::empty();
        let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        TlsConnector::from(Arc::new(cfg))
    }

    #[tokio::test]
    async fn a_server_without_tls_answers_n() {
        let (client, mut server) = tokio::io::duplex(64);
        tokio::spawn(async move {
            let mut req = [0u8; 8];
            server.read_exact(&mut req).await.unwrap();
            assert_eq!(req, [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
            server.write_all(b"N").await.unwrap();
        });
        let name = ServerName::try_from("db.example").unwrap();
        let e = start_tls(client, &connector(), name).await.unwrap_err();
        assert!(matches!(e, PgError::TlsRefused), "{e:?}");
        assert_eq!(e.sqlstate(), "08001");
    }
}
