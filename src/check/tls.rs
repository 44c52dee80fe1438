//! Checks over TLS: `check-ssl` (implied by `ssl` on the server), `check-sni`,
//! `check-alpn`, with the server line's TLS settings compiled by `crate::tls::client`
//! (rustls with the aws-lc-rs provider). As in HAProxy 2.6, the default is `verify
//! required`, which needs a `ca-file`; the name is checked against `verifyhost`, else
//! the SNI sent (`check-sni`), else not at all.

use crate::config::model::{Global, ServerOpts, ServerTls};
use rustls::Error;
use rustls::pki_types::{IpAddr, ServerName};
use std::net::SocketAddr;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// What a check's TLS layer needs: the client configuration and the name to send.
#[derive(Clone)]
pub struct CheckTls {
    connector: TlsConnector,
    sni: Option<ServerName<'static>>,
    /// The settings it was built from (what tells two apart).
    key: String,
}

impl std::fmt::Debug for CheckTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CheckTls({})", self.key)
    }
}

impl PartialEq for CheckTls {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

/// Why a server's check TLS settings cannot be used (worded as HAProxy's alerts).
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// `check-sni` is not a valid name.
    #[error("invalid check-sni '{0}'.")]
    Sni(String),
    /// The TLS settings do not compile (no `ca-file` with `verify required`, an
    /// unreadable file, inconsistent versions…).
    #[error("{0}")]
    Tls(#[from] crate::tls::TlsError),
}

/// Whether `o`'s health checks run over TLS: `check-ssl`, or `ssl` on the server
/// without `no-check-ssl` and without a check `port` or `addr` (HAProxy's rule).
pub fn checks_over_tls(o: &ServerOpts) -> bool {
    o.check_ssl
        .unwrap_or(o.tls.ssl && o.check_port.is_none() && o.check_addr.is_none())
}

/// The check TLS layer of a server whose checks run over TLS ([`checks_over_tls`]),
/// or `None`. The rustls configuration is the server line's (`verify`, `ca-file`,
/// `crl-file`, `crt`, `verifyhost`, versions, ciphers, with the `global` defaults),
/// with `check-sni` as the SNI and `check-alpn` as the ALPN.
pub fn for_server(o: &ServerOpts, g: &Global) -> Result<Option<CheckTls>, TlsSetupError> {
    if !checks_over_tls(o) {
        return Ok(None);
    }
    let sni = match &o.check_sni {
        Some(s) => {
            Some(ServerName::try_from(s.clone()).map_err(|_| TlsSetupError::Sni(s.clone()))?)
        }
        None => None,
    };
    let settings = ServerTls {
        ssl: true,
        sni: o.check_sni.clone(),
        // Without `check-alpn`, none: HAProxy 2.6 offers the server's `alpn` then, and
        // speaks HTTP/1 even when the server picks `h2` (the check fails).
        alpn: o.check_alpn.clone(),
        ..o.tls.clone()
    };
    let cfg =
        crate::tls::client::check_config(&settings, &g.ssl_server, &crate::tls::Bases::of(g))?;
    Ok(Some(CheckTls {
        connector: TlsConnector::from(cfg),
        sni,
        key: format!("{settings:?}|{:?}", g.ssl_server),
    }))
}

/// The TLS layers of the `connect … ssl` steps of `rules` for a server with options
/// `o` (its TLS settings; the step's `sni` and `alpn`, none by default), by step
/// index.
pub fn for_rules(
    o: &ServerOpts,
    g: &Global,
    rules: &[super::rule::Rule],
) -> Result<Vec<(usize, CheckTls)>, TlsSetupError> {
    let mut out = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        if let super::rule::Rule::Connect {
            tls: super::rule::ConnectTls::Ssl { sni, alpn },
            ..
        } = r
        {
            let opts = ServerOpts {
                check_ssl: Some(true),
                check_sni: sni.clone(),
                check_alpn: alpn.clone(),
                ..o.clone()
            };
            if let Some(t) = for_server(&opts, g)? {
                out.push((i, t));
            }
        }
    }
    Ok(out)
}

impl CheckTls {
    /// Runs the TLS handshake over `tcp` to `addr`.
    pub async fn handshake(
        &self,
        tcp: TcpStream,
        addr: SocketAddr,
    ) -> std::io::Result<TlsStream<TcpStream>> {
        // Without an SNI, the address: rustls then sends no server_name extension.
        let name = self
            .sni
            .clone()
            .unwrap_or_else(|| ServerName::IpAddress(IpAddr::from(addr.ip())));
        self.connector.connect(name, tcp).await
    }
}

impl CheckTls {
    /// PostgreSQL's TLS: `SSLRequest` on `tcp`, then the handshake (sending the check's
    /// SNI, else none).
    pub async fn start_pgsql(
        &self,
        tcp: TcpStream,
        addr: SocketAddr,
    ) -> Result<TlsStream<TcpStream>, crate::pgwire::PgError> {
        let name = self
            .sni
            .clone()
            .unwrap_or_else(|| ServerName::IpAddress(IpAddr::from(addr.ip())));
        crate::pgwire::start_tls(tcp, &self.connector, name).await
    }
}

/// HAProxy's text for a failed handshake (`conn_err_code_str`): a certificate for
/// another name than the SNI sent is told apart.
pub fn failure_info(e: &std::io::Error) -> &'static str {
    match e.get_ref().and_then(|i| i.downcast_ref::<Error>()) {
        Some(Error::InvalidCertificate(
            rustls::CertificateError::NotValidForName
            | rustls::CertificateError::NotValidForNameContext { .. },
        )) => "Server presented an SSL certificate different from the expected one",
        _ => "SSL handshake failure",
    }
}
