//! Checks over TLS: `check-ssl`, `check-sni`, `check-alpn`, with the server's `verify`
//! and `ca-file` (rustls with the aws-lc-rs provider). As in HAProxy 2.6, the default
//! is `verify required`, which needs a `ca-file`; without an SNI (`check-sni`) the
//! certificate's chain is verified but not its name (HAProxy checks the name against
//! the SNI sent, or `verifyhost`).

use crate::config::model::ServerOpts;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, IpAddr, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, Error, SignatureScheme};
use std::net::SocketAddr;
use std::sync::Arc;
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
    /// `verify required` (the default) without `ca-file`.
    #[error(
        "verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default."
    )]
    NoCaFile,
    /// The CA file could not be read or holds no certificate.
    #[error("unable to load CA file '{path}' : {why}.")]
    CaFile {
        /// The file.
        path: String,
        /// What went wrong.
        why: String,
    },
    /// `check-sni` is not a valid name.
    #[error("invalid check-sni '{0}'.")]
    Sni(String),
    /// rustls refused the configuration.
    #[error("TLS setup failed: {0}.")]
    Rustls(String),
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The check TLS layer of a server with `check-ssl`, or `None` without it.
pub fn for_server(o: &ServerOpts) -> Result<Option<CheckTls>, TlsSetupError> {
    if !o.check_ssl {
        return Ok(None);
    }
    let provider = provider();
    let verify = o.verify.as_deref() != Some("none");
    let sni = match &o.check_sni {
        Some(s) => {
            Some(ServerName::try_from(s.clone()).map_err(|_| TlsSetupError::Sni(s.clone()))?)
        }
        None => None,
    };
    let verifier: Arc<dyn ServerCertVerifier> = if verify {
        let path = o.ca_file.as_ref().ok_or(TlsSetupError::NoCaFile)?;
        let ca_err = |why: String| TlsSetupError::CaFile {
            path: path.display().to_string(),
            why,
        };
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(path).map_err(|e| ca_err(e.to_string()))? {
            let c = c.map_err(|e| ca_err(e.to_string()))?;
            roots.add(c).map_err(|e| ca_err(e.to_string()))?;
        }
        if roots.is_empty() {
            return Err(ca_err("no certificate found".into()));
        }
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
        Arc::new(Verify {
            inner,
            names: sni.is_some(),
        })
    } else {
        Arc::new(NoVerify(provider.signature_verification_algorithms))
    };
    let mut cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::Rustls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    if let Some(a) = &o.check_alpn {
        cfg.alpn_protocols = a.iter().map(|p| p.as_bytes().to_vec()).collect();
    }
    Ok(Some(CheckTls {
        connector: TlsConnector::from(Arc::new(cfg)),
        sni,
        key: format!(
            "{:?}|{:?}|{:?}|{:?}",
            o.check_sni, o.check_alpn, o.verify, o.ca_file
        ),
    }))
}

/// The TLS layers of the `connect … ssl` steps of `rules` for a server with options
/// `o` (its `verify` and `ca-file`; the step's `sni` and `alpn`, none by default), by
/// step index.
pub fn for_rules(
    o: &ServerOpts,
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
                check_ssl: true,
                check_sni: sni.clone(),
                check_alpn: alpn.clone(),
                ..o.clone()
            };
            if let Some(t) = for_server(&opts)? {
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

/// `verify required`: the chain against `ca-file`; the name only when an SNI was sent.
#[derive(Debug)]
struct Verify {
    inner: Arc<WebPkiServerVerifier>,
    names: bool,
}

impl ServerCertVerifier for Verify {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        match self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
            | Err(Error::InvalidCertificate(rustls::CertificateError::NotValidForNameContext {
                ..
            })) if !self.names => Ok(ServerCertVerified::assertion()),
            r => r,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `verify none`: any certificate (the handshake's signatures are still checked).
#[derive(Debug)]
struct NoVerify(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}
