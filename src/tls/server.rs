//! The server side of a `bind … ssl` line: its certificates (`crt`, `crt-list`) behind
//! the SNI resolver, versions and suites (`ssl-min-ver`, `ciphers`, … and the
//! `ssl-default-bind-*` defaults), ALPN, and client-certificate verification (`verify`,
//! `ca-file`, `crl-file`).

use super::certs::{self, CertEntry};
use super::sni::SniResolver;
use super::{Bases, TlsError, suites};
use crate::config::model::{BindTls, BindTlsDefaults, Verify};
use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;
use std::sync::Arc;

/// Compiles a bind line's TLS settings (`b.ssl` set) into a rustls configuration.
pub fn bind_config(
    b: &BindTls,
    d: &BindTlsDefaults,
    bases: &Bases,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider = Arc::new(
        suites::provider(
            b.ciphers.as_deref().or(d.ciphers.as_deref()),
            b.ciphersuites.as_deref().or(d.ciphersuites.as_deref()),
        )
        .map_err(TlsError)?,
    );
    let versions = suites::versions(&b.versions, &d.versions).map_err(TlsError)?;
    let mut entries: Vec<CertEntry> = Vec::new();
    for c in &b.crt {
        entries.extend(certs::load_crt(&bases.crt(c), &provider)?);
    }
    for l in &b.crt_list {
        entries.extend(certs::load_crt_list(&bases.crt(l), bases, &provider)?);
    }
    if entries.is_empty() {
        return Err(TlsError(
            "'ssl' requires a certificate ('crt' or 'crt-list')".into(),
        ));
    }
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| TlsError(format!("inconsistent versions and ciphers ({e})")))?;
    let verify = b.verify.unwrap_or(Verify::None);
    let builder = match (verify, &b.ca_file) {
        (Verify::None, _) => builder.with_no_client_auth(),
        (_, None) => {
            return Err(TlsError(
                "verify is enabled but no CA file specified ('ca-file')".into(),
            ));
        }
        (_, Some(ca)) => {
            let roots = super::root_store(&bases.ca(ca))?;
            let mut v = WebPkiClientVerifier::builder_with_provider(roots, provider.clone());
            if let Some(crl) = &b.crl_file {
                v = v
                    .with_crls(super::crls(&bases.ca(crl))?)
                    .only_check_end_entity_revocation();
            }
            if verify == Verify::Optional {
                v = v.allow_unauthenticated();
            }
            let v = v
                .build()
                .map_err(|e| TlsError(format!("client certificate verification: {e}")))?;
            builder.with_client_cert_verifier(v)
        }
    };
    let strict = b.strict_sni || d.strict_sni;
    let mut cfg = builder.with_cert_resolver(Arc::new(SniResolver::new(&entries, strict)));
    if let Some(alpn) = &b.alpn {
        cfg.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    }
    cfg.ignore_client_order = !(b.prefer_client_ciphers || d.prefer_client_ciphers);
    if b.versions.no_tickets || d.versions.no_tickets {
        cfg.send_tls13_tickets = 0;
    }
    Ok(Arc::new(cfg))
}
