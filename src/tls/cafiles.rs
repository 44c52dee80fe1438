//! The contents of `ca-file` and `crl-file` files as the binds use them (HAProxy's
//! cafile tree, which holds both kinds): read from disk when a bind is loaded, or
//! replaced over the runtime API (`set|commit ssl ca-file`, `set|commit ssl crl-file`).
//!
//! A bind keeps the contents it was compiled from in a [`CaFiles`]; a commit compiles it
//! again with the new contents in place of the file's (see `store.rs`). A reload reads
//! the files again, so a change made over the socket and not written to the file is lost,
//! as with HAProxy.

use super::TlsError;
use rustls_pki_types::pem::{PemObject, SectionKind};
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// What a CA or CRL file holds: CA certificates, revocation lists (a CRL file may hold
/// certificates too, which HAProxy accepts and counts).
#[derive(Clone, Debug, Default)]
pub struct CaContent {
    /// The certificates, in file order.
    pub certs: Vec<CertificateDer<'static>>,
    /// The revocation lists, in file order.
    pub crls: Vec<CertificateRevocationListDer<'static>>,
}

impl CaContent {
    /// The certificates and CRLs of PEM text (other blocks are skipped).
    pub fn from_pem(pem: &[u8]) -> CaContent {
        let mut out = CaContent::default();
        for (kind, der) in <(SectionKind, Vec<u8>)>::pem_slice_iter(pem).filter_map(Result::ok) {
            match kind {
                SectionKind::Certificate => out.certs.push(CertificateDer::from(der)),
                SectionKind::Crl => out.crls.push(CertificateRevocationListDer::from(der)),
                _ => {}
            }
        }
        out
    }

    /// A `ca-file` read from disk (at least one certificate).
    pub fn load_ca(path: &Path) -> Result<CaContent, TlsError> {
        let bytes = std::fs::read(path).map_err(|e| TlsError::file(path, e))?;
        let c = CaContent::from_pem(&bytes);
        if c.certs.is_empty() {
            return Err(TlsError::file(path, "no CA certificate found"));
        }
        Ok(c)
    }

    /// A `crl-file` read from disk (at least one CRL).
    pub fn load_crl(path: &Path) -> Result<CaContent, TlsError> {
        let bytes = std::fs::read(path).map_err(|e| TlsError::file(path, e))?;
        let c = CaContent::from_pem(&bytes);
        if c.crls.is_empty() {
            return Err(TlsError::file(path, "no CRL found"));
        }
        Ok(c)
    }

    /// The certificates as a root store, for client-certificate verification.
    pub fn roots(&self, path: &str) -> Result<Arc<rustls::RootCertStore>, TlsError> {
        let mut roots = rustls::RootCertStore::empty();
        for c in &self.certs {
            roots
                .add(c.clone())
                .map_err(|e| TlsError(format!("'{path}' : invalid CA certificate ({e})")))?;
        }
        if roots.is_empty() {
            return Err(TlsError(format!("'{path}' : no CA certificate found")));
        }
        Ok(Arc::new(roots))
    }
}

/// The CA and CRL files a bind was compiled with, by the name HAProxy shows them
/// (the path after `ca-base`).
#[derive(Clone, Debug, Default)]
pub struct CaFiles {
    cas: HashMap<String, Arc<CaContent>>,
    crls: HashMap<String, Arc<CaContent>>,
}

/// Which of the two kinds of file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A `ca-file`.
    Ca,
    /// A `crl-file`.
    Crl,
}

impl CaFiles {
    fn map(&self, kind: Kind) -> &HashMap<String, Arc<CaContent>> {
        match kind {
            Kind::Ca => &self.cas,
            Kind::Crl => &self.crls,
        }
    }

    /// The contents of file `path`, read from disk the first time.
    pub fn get(&mut self, kind: Kind, path: &Path) -> Result<Arc<CaContent>, TlsError> {
        let name = path.display().to_string();
        if let Some(c) = self.map(kind).get(&name) {
            return Ok(c.clone());
        }
        let c = Arc::new(match kind {
            Kind::Ca => CaContent::load_ca(path)?,
            Kind::Crl => CaContent::load_crl(path)?,
        });
        match kind {
            Kind::Ca => self.cas.insert(name, c.clone()),
            Kind::Crl => self.crls.insert(name, c.clone()),
        };
        Ok(c)
    }

    /// The contents of file `name` if this bind uses it.
    pub fn used(&self, kind: Kind, name: &str) -> Option<Arc<CaContent>> {
        self.map(kind).get(name).cloned()
    }

    /// The names of the files of `kind` this bind uses.
    pub fn names(&self, kind: Kind) -> impl Iterator<Item = &String> {
        self.map(kind).keys()
    }

    /// The same files with `content` in place of file `name`.
    pub fn with(&self, kind: Kind, name: &str, content: Arc<CaContent>) -> CaFiles {
        let mut out = self.clone();
        match kind {
            Kind::Ca => out.cas.insert(name.to_owned(), content),
            Kind::Crl => out.crls.insert(name.to_owned(), content),
        };
        out
    }
}
