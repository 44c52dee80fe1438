//! The certificate a handshake gets (HAProxy's SNI tree): the certificate whose names
//! match the client's server name exactly, else one whose wildcard (`*.example.com`, one
//! label) matches, else the first certificate of the bind line — unless `strict-sni`,
//! which then refuses the handshake (also when the client sent no name). Among
//! certificates for the same name (RSA and ECDSA), the first whose key can sign with a
//! scheme the client offers.

use super::certs::CertEntry;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::collections::HashMap;
use std::sync::Arc;

/// The certificates of one bind line, by name.
#[derive(Debug)]
pub struct SniResolver {
    exact: HashMap<String, Vec<Arc<CertifiedKey>>>,
    /// By the part after `*.`.
    wildcard: HashMap<String, Vec<Arc<CertifiedKey>>>,
    /// The first certificate (and those sharing its names, for the key type choice).
    default: Vec<Arc<CertifiedKey>>,
    strict: bool,
}

impl SniResolver {
    /// Indexes `entries` (in load order; the first is the default).
    pub fn new(entries: &[CertEntry], strict: bool) -> SniResolver {
        let mut exact: HashMap<String, Vec<Arc<CertifiedKey>>> = HashMap::new();
        let mut wildcard: HashMap<String, Vec<Arc<CertifiedKey>>> = HashMap::new();
        for e in entries {
            for n in &e.names {
                if e.excluded.contains(n) {
                    continue;
                }
                let slot = match n.strip_prefix("*.") {
                    Some(rest) => wildcard.entry(rest.to_owned()).or_default(),
                    None => exact.entry(n.clone()).or_default(),
                };
                if !slot.iter().any(|k| Arc::ptr_eq(k, &e.key)) {
                    slot.push(e.key.clone());
                }
            }
        }
        let mut default: Vec<Arc<CertifiedKey>> =
            entries.first().map(|e| e.key.clone()).into_iter().collect();
        // Another key type for the default certificate's first name.
        if let Some(first) = entries.first().and_then(|e| e.names.first())
            && let Some(same) = exact.get(first)
        {
            let first_key = default[0].clone();
            default.extend(same.iter().filter(|k| !Arc::ptr_eq(k, &first_key)).cloned());
        }
        SniResolver {
            exact,
            wildcard,
            default,
            strict,
        }
    }

    /// The candidates for `name`, if any certificate answers for it.
    fn lookup(&self, name: &str) -> Option<&[Arc<CertifiedKey>]> {
        let name = name.to_ascii_lowercase();
        if let Some(v) = self.exact.get(&name) {
            return Some(v);
        }
        let (_, parent) = name.split_once('.')?;
        self.wildcard.get(parent).map(Vec::as_slice)
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let found = hello.server_name().and_then(|n| self.lookup(n));
        let cands = match found {
            Some(c) => c,
            None if self.strict => return None,
            None => &self.default,
        };
        let schemes = hello.signature_schemes();
        cands
            .iter()
            .find(|k| k.key.choose_scheme(schemes).is_some())
            .or(cands.first())
            .cloned()
    }
}
