//! The client side of a `server … ssl` line (re-encryption): versions and suites, ALPN,
//! the client certificate (`crt`), session resumption (off with `no-ssl-reuse`), and
//! the verification of the server's certificate: `verify required` (the default, or
//! `ssl-server-verify`) checks the chain against `ca-file` (and `crl-file`), and the
//! name against `verifyhost`, else the SNI sent, else none, as HAProxy does; `verify
//! none` checks only the handshake's signatures.

use super::server_cafiles::{self, LiveChain, Sessions};
use super::{Bases, TlsError, suites};
use crate::config::model::{ServerTls, ServerTlsDefaults, Verify};
use rustls::client::Resumption;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, Error, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use std::sync::Arc;

/// Which name the server's certificate must carry.
#[derive(Debug)]
enum NameCheck {
    /// None (`verify none`, or neither `sni` nor `verifyhost`).
    Skip,
    /// The SNI sent.
    Sni,
    /// `verifyhost NAME`.
    Fixed(ServerName<'static>),
}

/// HAProxy's server certificate verification on top of webpki's.
#[derive(Debug)]
struct Verifier {
    /// The chain check (`None`: `verify none`), replaced by `commit ssl ca-file`.
    chain: Option<Arc<LiveChain>>,
    name: NameCheck,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        let name = match &self.name {
            NameCheck::Fixed(n) => n,
            _ => server_name,
        };
        match chain.verify(end_entity, intermediates, name, ocsp, now) {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if matches!(self.name, NameCheck::Skip) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Compiles a server line's TLS settings (`t.ssl` set) into a rustls configuration
/// for its connections (counted in `commit ssl ca-file`'s dots).
pub fn server_config(
    t: &ServerTls,
    d: &ServerTlsDefaults,
    bases: &Bases,
) -> Result<Arc<ClientConfig>, TlsError> {
    compile(t, d, bases, true)
}

/// The same for a server's health checks: it follows the server's CA and CRL files
/// through commits, without being counted apart.
pub fn check_config(
    t: &ServerTls,
    d: &ServerTlsDefaults,
    bases: &Bases,
) -> Result<Arc<ClientConfig>, TlsError> {
    compile(t, d, bases, false)
}

fn compile(
    t: &ServerTls,
    d: &ServerTlsDefaults,
    bases: &Bases,
    counted: bool,
) -> Result<Arc<ClientConfig>, TlsError> {
    let sessions = Sessions::new();
    let provider = Arc::new(
        suites::provider(
            t.ciphers.as_deref().or(d.ciphers.as_deref()),
            t.ciphersuites.as_deref().or(d.ciphersuites.as_deref()),
            t.curves.as_deref().map(|c| ("curves", c)),
        )
        .map_err(TlsError)?,
    );
    let versions = suites::versions(&t.versions, &d.versions).map_err(TlsError)?;
    let verify = t.verify.or(d.verify).unwrap_or(Verify::Required);
    let chain = match (verify, &t.ca_file) {
        (Verify::None, _) => None,
        (_, None) => {
            return Err(TlsError(
                "verify is enabled by default but no CA file specified. If you're running on a LAN where you're certain to trust the server's certificate, please set an explicit 'verify none' statement on the 'server' line, or use 'ssl-server-verify none' in the global section to disable server-side verifications by default.".into(),
            ));
        }
        (_, Some(ca)) => Some(server_cafiles::chain(
            &bases.ca(ca),
            t.crl_file.as_ref().map(|c| bases.ca(c)).as_deref(),
            provider.clone(),
            t.crt.is_some(),
            counted,
            sessions.clone(),
        )?),
    };
    let name = match (&t.verifyhost, &t.sni) {
        (Some(h), _) => NameCheck::Fixed(
            ServerName::try_from(h.clone())
                .map_err(|_| TlsError(format!("'verifyhost' : invalid name '{h}'")))?,
        ),
        (None, Some(_)) => NameCheck::Sni,
        (None, None) => NameCheck::Skip,
    };
    let verifier = Arc::new(Verifier {
        chain,
        name,
        provider: provider.clone(),
    });
    let builder = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| TlsError(format!("inconsistent versions and ciphers ({e})")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut cfg = match &t.crt {
        None => builder.with_no_client_auth(),
        Some(p) => {
            let p = bases.crt(p);
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&p)
                .and_then(|i| i.collect())
                .map_err(|e| TlsError::file(&p, e))?;
            let key = PrivateKeyDer::from_pem_file(&p).map_err(|e| TlsError::file(&p, e))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| TlsError::file(&p, e))?
        }
    };
    if let Some(alpn) = &t.alpn {
        cfg.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    }
    cfg.resumption = Resumption::store(sessions);
    if t.no_reuse {
        cfg.resumption = Resumption::disabled();
    }
    if t.versions.no_tickets || d.versions.no_tickets {
        cfg.resumption = cfg
            .resumption
            .tls12_resumption(rustls::client::Tls12Resumption::SessionIdOnly);
    }
    Ok(Arc::new(cfg))
}
