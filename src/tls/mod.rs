//! TLS on rustls with the aws-lc-rs provider: certificates (`crt`, `crt-list`), the SNI
//! certificate choice, client-certificate verification (`ca-file`, `verify`,
//! `crl-file`), the server-side configuration of a `bind … ssl` line, the client-side one
//! of a `server … ssl` line, the facts a handshake leaves for the `ssl_fc_*`/`ssl_c_*`
//! fetches, and the ClientHello reader of `req.ssl_sni` (passthrough).
//!
//! It compiles the `config` model into rustls configurations; it knows nothing of the
//! proxy that runs them.

pub mod cafiles;
pub mod cert_info;
pub mod certs;
pub mod client;
pub mod crl_info;
pub mod errors;
pub mod facts;
pub mod hello;
pub mod ocsp;
pub mod ocsp_der;
pub mod ocsp_print;
pub mod server;
pub mod server_cafiles;
pub mod sni;
pub mod store;
pub mod stream;
pub mod suites;
pub mod tickets;
pub mod x509_print;

pub use facts::{ClientCert, Facts};

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why a TLS setting could not be compiled: the message names the file or the value.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TlsError(pub String);

impl TlsError {
    /// An error about file `path`.
    pub fn file(path: &Path, msg: impl std::fmt::Display) -> TlsError {
        TlsError(format!("'{}' : {msg}", path.display()))
    }
}

/// The cryptography every TLS configuration uses: aws-lc-rs.
pub fn provider() -> rustls::crypto::CryptoProvider {
    rustls::crypto::aws_lc_rs::default_provider()
}

/// Where relative file names resolve: `crt-base` for certificates, `ca-base` for CA and
/// CRL files (as HAProxy; otherwise the working directory).
#[derive(Clone, Debug, Default)]
pub struct Bases {
    /// `crt-base`.
    pub crt: Option<PathBuf>,
    /// `ca-base`.
    pub ca: Option<PathBuf>,
}

impl Bases {
    /// From the `global` section.
    pub fn of(g: &crate::config::model::Global) -> Bases {
        Bases {
            crt: g.crt_base.as_ref().map(PathBuf::from),
            ca: g.ca_base.as_ref().map(PathBuf::from),
        }
    }

    /// A certificate path.
    pub fn crt(&self, p: &Path) -> PathBuf {
        join(self.crt.as_deref(), p)
    }

    /// A CA or CRL path.
    pub fn ca(&self, p: &Path) -> PathBuf {
        join(self.ca.as_deref(), p)
    }
}

/// HAProxy's `"%s/%s"` of a base and a relative name (a base ending in `/` gives `//`,
/// which HAProxy then shows).
fn join(base: Option<&Path>, p: &Path) -> PathBuf {
    match base {
        Some(b) if p.is_relative() => {
            let mut s = b.as_os_str().to_owned();
            s.push("/");
            s.push(p.as_os_str());
            PathBuf::from(s)
        }
        _ => p.to_path_buf(),
    }
}

/// The CA certificates of a `ca-file`, as a root store.
pub fn root_store(path: &Path) -> Result<Arc<rustls::RootCertStore>, TlsError> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let iter = CertificateDer::pem_file_iter(path).map_err(|e| TlsError::file(path, e))?;
    for c in iter {
        let c = c.map_err(|e| TlsError::file(path, e))?;
        roots
            .add(c)
            .map_err(|e| TlsError::file(path, format!("invalid CA certificate ({e})")))?;
    }
    if roots.is_empty() {
        return Err(TlsError::file(path, "no CA certificate found"));
    }
    Ok(Arc::new(roots))
}

/// The revocation lists of a `crl-file`.
pub fn crls(
    path: &Path,
) -> Result<Vec<rustls_pki_types::CertificateRevocationListDer<'static>>, TlsError> {
    use rustls_pki_types::CertificateRevocationListDer;
    use rustls_pki_types::pem::PemObject;
    let out = CertificateRevocationListDer::pem_file_iter(path)
        .map_err(|e| TlsError::file(path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::file(path, e))?;
    if out.is_empty() {
        return Err(TlsError::file(path, "no CRL found"));
    }
    Ok(out)
}

/// Compiles the TLS settings of `proxy`'s bind and server lines as the start would, pushing each
/// error at its line (for `gatehouse -c`).
pub fn check_proxy(
    global: &crate::config::model::Global,
    proxy: &crate::config::model::Proxy,
    diags: &mut Vec<crate::config::diag::Diag>,
) {
    let bases = Bases::of(global);
    for b in proxy.binds.iter().filter(|b| b.tls.ssl) {
        match server::bind_config(&b.tls, &global.ssl_bind, &bases) {
            Ok(rt) => {
                for w in &rt.warnings {
                    diags.push(crate::config::diag::Diag::warning(&b.span, w.clone()));
                }
            }
            Err(e) => diags.push(crate::config::diag::Diag::alert(
                &b.span,
                format!("bind : {e}"),
            )),
        }
    }
    for s in proxy.servers.iter().filter(|s| s.opts.tls.ssl) {
        if let Err(e) = client::server_config(&s.opts.tls, &global.ssl_server, &bases) {
            diags.push(crate::config::diag::Diag::alert(
                &s.span,
                format!("'server {}/{}' : {e}", proxy.name, s.name),
            ));
        }
    }
}
