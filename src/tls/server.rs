//! The server side of a `bind … ssl` line: its certificates (`crt`, `crt-list`) behind
//! the SNI resolver, versions and suites (`ssl-min-ver`, `ciphers`, … and the
//! `ssl-default-bind-*` defaults), ALPN, and client-certificate verification (`verify`,
//! `ca-file`, `crl-file`); and, for crt-list lines with `[options]`, one configuration
//! per such certificate, chosen from the ClientHello before the handshake goes on (as
//! HAProxy switches its `SSL_CTX` in the ClientHello callback).

use super::cafiles::{CaFiles, Kind};
use super::certs::{self, CertEntry};
use super::sni::{OneCert, SniResolver};
use super::{Bases, TlsError, suites};
use crate::config::model::{BindTls, BindTlsDefaults, DEFAULT_SSL_CACHESIZE, Verify};
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use std::sync::Arc;

/// The compiled TLS side of one bind line.
#[derive(Debug)]
pub struct BindTlsRt {
    /// The configuration of handshakes whose certificate has no crt-list options (every
    /// handshake when no line has any).
    pub base: Arc<ServerConfig>,
    /// Per-certificate configurations, when some crt-list line has options.
    per_cert: Option<PerCert>,
    /// What loading the certificates warned about (OCSP responses ignored), for the
    /// configuration check to print at the bind line.
    pub warnings: Vec<String>,
}

#[derive(Debug)]
struct PerCert {
    index: SniResolver,
    /// By certificate index: its own configuration, or `None` for the base one.
    configs: Vec<Option<Arc<ServerConfig>>>,
    /// When no name matches: the default certificate's line options but the bind
    /// line's versions (HAProxy keeps its default `SSL_CTX`, built with that line's
    /// options, and applies a line's `ssl-min-ver`/`ssl-max-ver` only on a match).
    fallback: Arc<ServerConfig>,
}

impl BindTlsRt {
    /// Whether the configuration depends on the ClientHello (read it first, then
    /// [`BindTlsRt::choose`]).
    pub fn needs_hello(&self) -> bool {
        self.per_cert.is_some()
    }

    /// The configuration for a client whose ClientHello is `hello`.
    pub fn choose(&self, hello: &ClientHello<'_>) -> Arc<ServerConfig> {
        let Some(pc) = &self.per_cert else {
            return self.base.clone();
        };
        match pc
            .index
            .find(hello.server_name(), hello.signature_schemes())
        {
            Some(i) => pc.configs[i].clone().unwrap_or_else(|| self.base.clone()),
            None => pc.fallback.clone(),
        }
    }
}

/// Compiles a bind line's TLS settings (`b.ssl` set).
pub fn bind_config(
    b: &BindTls,
    d: &BindTlsDefaults,
    bases: &Bases,
) -> Result<Arc<BindTlsRt>, TlsError> {
    compile(
        b,
        d,
        bases,
        &load_entries(b, bases)?,
        &mut CaFiles::default(),
    )
}

/// Loads the certificates of a bind line's `crt` and `crt-list` keywords, in order.
pub fn load_entries(b: &BindTls, bases: &Bases) -> Result<Vec<CertEntry>, TlsError> {
    let key_provider = super::provider();
    let mut entries: Vec<CertEntry> = Vec::new();
    for c in &b.crt {
        entries.extend(certs::load_crt(&bases.crt(c), &key_provider)?);
    }
    for l in &b.crt_list {
        entries.extend(certs::load_crt_list(&bases.crt(l), bases, &key_provider)?);
    }
    Ok(entries)
}

/// Compiles a bind line's TLS settings serving `entries` (its certificates, loaded or
/// replaced at runtime by `commit ssl cert`), verifying client certificates against the
/// CA and CRL files of `files` (read from disk into it when missing; replaced at
/// runtime by `commit ssl ca-file|crl-file`).
pub fn compile(
    b: &BindTls,
    d: &BindTlsDefaults,
    bases: &Bases,
    entries: &[CertEntry],
    files: &mut CaFiles,
) -> Result<Arc<BindTlsRt>, TlsError> {
    if entries.is_empty() {
        return Err(TlsError(
            "'ssl' requires a certificate ('crt' or 'crt-list')".into(),
        ));
    }
    let strict = b.strict_sni || d.strict_sni;
    let base = config(
        b,
        d,
        bases,
        files,
        Arc::new(SniResolver::new(entries, strict)),
    )?;
    let per_cert = if entries.iter().any(|e| e.opts.is_some()) {
        let configs = entries
            .iter()
            .map(|e| {
                e.opts
                    .as_ref()
                    .map(|o| {
                        config(
                            &o.apply(b),
                            d,
                            bases,
                            files,
                            Arc::new(OneCert(e.key.clone())),
                        )
                        .map_err(|err| TlsError(format!("crt-list '{}' : {err}", o.at)))
                    })
                    .transpose()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let fallback = match &entries[0].opts {
            Some(o) => {
                let mut own = o.apply(b);
                own.versions = b.versions.clone();
                config(
                    &own,
                    d,
                    bases,
                    files,
                    Arc::new(SniResolver::new(entries, strict)),
                )?
            }
            None => base.clone(),
        };
        Some(PerCert {
            index: SniResolver::new(entries, strict),
            configs,
            fallback,
        })
    } else {
        None
    };
    let warnings = entries.iter().flat_map(|e| e.warnings.clone()).collect();
    Ok(Arc::new(BindTlsRt {
        base,
        per_cert,
        warnings,
    }))
}

/// One rustls configuration: `b`'s settings (over the `global` defaults `d`) serving
/// the certificates of `certs`.
fn config(
    b: &BindTls,
    d: &BindTlsDefaults,
    bases: &Bases,
    files: &mut CaFiles,
    certs: Arc<dyn ResolvesServerCert>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let provider: Arc<CryptoProvider> = Arc::new(
        suites::provider(
            b.ciphers.as_deref().or(d.ciphers.as_deref()),
            b.ciphersuites.as_deref().or(d.ciphersuites.as_deref()),
            // As HAProxy: `curves` (or the global default), else `ecdhe`.
            match (&b.curves, &d.curves, &b.ecdhe) {
                (Some(c), _, _) | (None, Some(c), _) => Some(("curves", c.as_str())),
                (None, None, Some(e)) => Some(("ecdhe", e.as_str())),
                _ => None,
            },
        )
        .map_err(TlsError)?,
    );
    let versions = suites::versions(&b.versions, &d.versions).map_err(TlsError)?;
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
            let ca = bases.ca(ca);
            let roots = files.get(Kind::Ca, &ca)?.roots(&ca.display().to_string())?;
            let mut v = WebPkiClientVerifier::builder_with_provider(roots, provider.clone());
            if let Some(crl) = &b.crl_file {
                v = v
                    .with_crls(files.get(Kind::Crl, &bases.ca(crl))?.crls.clone())
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
    let mut cfg = builder.with_cert_resolver(certs);
    if let Some(alpn) = &b.alpn {
        cfg.alpn_protocols = alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    }
    cfg.ignore_client_order = !(b.prefer_client_ciphers || d.prefer_client_ciphers);
    if b.versions.no_tickets || d.versions.no_tickets {
        cfg.send_tls13_tickets = 0;
    }
    // `tune.ssl.cachesize` sessions kept (rustls's own default keeps 256); two tickets
    // after a full handshake, one after a resumption, as OpenSSL issues them.
    let sessions: Arc<dyn rustls::server::StoresServerSessions> =
        match d.cachesize.unwrap_or(DEFAULT_SSL_CACHESIZE) {
            0 => Arc::new(rustls::server::NoServerSessionStorage {}),
            n => rustls::server::ServerSessionMemoryCache::new(n as usize),
        };
    cfg.session_storage = super::tickets::TicketStore::new(sessions);
    Ok(Arc::new(cfg))
}
