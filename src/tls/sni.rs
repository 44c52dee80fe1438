//! The certificate a handshake gets (HAProxy's SNI tree): the certificate whose names
//! match the client's server name exactly, else one whose wildcard (`*.example.com`, one
//! label) matches, else the first certificate of the bind line — unless `strict-sni`,
//! which then refuses the handshake (also when the client sent no name). Among
//! certificates for the same name (RSA and ECDSA), the first whose key can sign with a
//! scheme the client offers.

use super::certs::CertEntry;
use rustls::SignatureScheme;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::collections::HashMap;
use std::sync::Arc;

/// The certificates of one bind line, by name.
#[derive(Debug)]
pub struct SniResolver {
    /// Every certificate, in load order (an entry's index is its position here).
    keys: Vec<Arc<CertifiedKey>>,
    exact: HashMap<String, Vec<usize>>,
    /// By the part after `*.`.
    wildcard: HashMap<String, Vec<usize>>,
    /// The first certificate (and those sharing its names, for the key type choice).
    default: Vec<usize>,
    /// By index: the names a crt-list line's `!name` filters exclude (they also keep
    /// that line's wildcards from answering for the name, as HAProxy).
    excluded: Vec<Vec<String>>,
    strict: bool,
}

impl SniResolver {
    /// Indexes `entries` (in load order; the first is the default).
    pub fn new(entries: &[CertEntry], strict: bool) -> SniResolver {
        let mut exact: HashMap<String, Vec<usize>> = HashMap::new();
        let mut wildcard: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            for n in &e.names {
                if e.excluded.contains(n) {
                    continue;
                }
                let slot = match n.strip_prefix("*.") {
                    Some(rest) => wildcard.entry(rest.to_owned()).or_default(),
                    None => exact.entry(n.clone()).or_default(),
                };
                if !slot.contains(&i) {
                    slot.push(i);
                }
            }
        }
        let mut default: Vec<usize> = if entries.is_empty() { vec![] } else { vec![0] };
        // Another key type for the default certificate's first name.
        if let Some(first) = entries.first().and_then(|e| e.names.first())
            && let Some(same) = exact.get(first)
        {
            default.extend(same.iter().filter(|&&i| i != 0));
        }
        SniResolver {
            keys: entries.iter().map(|e| e.key.clone()).collect(),
            excluded: entries.iter().map(|e| e.excluded.clone()).collect(),
            exact,
            wildcard,
            default,
            strict,
        }
    }

    /// The candidates for `name`, if any certificate answers for it.
    fn lookup(&self, name: &str) -> Option<Vec<usize>> {
        let name = name.to_ascii_lowercase();
        if let Some(v) = self.exact.get(&name) {
            return Some(v.clone());
        }
        let (_, parent) = name.split_once('.')?;
        let v: Vec<usize> = self
            .wildcard
            .get(parent)?
            .iter()
            .copied()
            .filter(|&i| !self.excluded[i].contains(&name))
            .collect();
        (!v.is_empty()).then_some(v)
    }

    /// The index of the certificate for a client that sent `name` and accepts
    /// `schemes`; `None` when `strict-sni` refuses it.
    pub fn pick(&self, name: Option<&str>, schemes: &[SignatureScheme]) -> Option<usize> {
        match self.find(name, schemes) {
            Some(i) => Some(i),
            None if self.strict => None,
            None => self.choose(&self.default, schemes),
        }
    }

    /// The index of the certificate whose names match `name`, if one does.
    pub fn find(&self, name: Option<&str>, schemes: &[SignatureScheme]) -> Option<usize> {
        let cands = name.and_then(|n| self.lookup(n))?;
        self.choose(&cands, schemes)
    }

    fn choose(&self, cands: &[usize], schemes: &[SignatureScheme]) -> Option<usize> {
        cands
            .iter()
            .find(|&&i| self.keys[i].key.choose_scheme(schemes).is_some())
            .or(cands.first())
            .copied()
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let i = self.pick(hello.server_name(), hello.signature_schemes())?;
        Some(self.keys[i].clone())
    }
}

/// One certificate, whatever the name: the handshakes of a crt-list line with its own
/// options, once [`SniResolver::pick`] chose it.
#[derive(Debug)]
pub struct OneCert(pub Arc<CertifiedKey>);

impl ResolvesServerCert for OneCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}
