//! The TLS settings of `bind` lines (client side) and `server` lines (server side), and
//! their `global` defaults (`ssl-default-bind-options`, `ssl-server-verify`, …).

use std::path::PathBuf;

/// A protocol version as `ssl-min-ver`/`ssl-max-ver` name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsVersion {
    /// `SSLv3`.
    Ssl3,
    /// `TLSv1.0`.
    Tls10,
    /// `TLSv1.1`.
    Tls11,
    /// `TLSv1.2`.
    Tls12,
    /// `TLSv1.3`.
    Tls13,
}

impl TlsVersion {
    /// Every version, oldest first.
    pub const ALL: [TlsVersion; 5] = [
        TlsVersion::Ssl3,
        TlsVersion::Tls10,
        TlsVersion::Tls11,
        TlsVersion::Tls12,
        TlsVersion::Tls13,
    ];

    /// Parses HAProxy's name (`TLSv1.2`).
    pub fn parse(s: &str) -> Option<TlsVersion> {
        TlsVersion::ALL.into_iter().find(|v| v.name() == s)
    }

    /// HAProxy's name, as `ssl_fc_protocol` prints it.
    pub fn name(self) -> &'static str {
        match self {
            TlsVersion::Ssl3 => "SSLv3",
            TlsVersion::Tls10 => "TLSv1.0",
            TlsVersion::Tls11 => "TLSv1.1",
            TlsVersion::Tls12 => "TLSv1.2",
            TlsVersion::Tls13 => "TLSv1.3",
        }
    }

    /// The suffix of the `force-`/`no-` options (`tlsv12`).
    pub fn option_suffix(self) -> &'static str {
        match self {
            TlsVersion::Ssl3 => "sslv3",
            TlsVersion::Tls10 => "tlsv10",
            TlsVersion::Tls11 => "tlsv11",
            TlsVersion::Tls12 => "tlsv12",
            TlsVersion::Tls13 => "tlsv13",
        }
    }
}

/// `verify none|optional|required`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verify {
    /// The peer's certificate is not asked for (bind) or not checked (server).
    None,
    /// Asked for; the handshake goes on without one (bind only).
    Optional,
    /// Required and verified.
    Required,
}

impl Verify {
    /// Parses the keyword's argument; `optional` only where `allow_optional`.
    pub fn parse(s: &str, allow_optional: bool) -> Option<Verify> {
        match s {
            "none" => Some(Verify::None),
            "optional" if allow_optional => Some(Verify::Optional),
            "required" => Some(Verify::Required),
            _ => None,
        }
    }
}

/// The protocol-version options of a bind or server line, or of their `global` defaults
/// (`ssl-min-ver`, `ssl-max-ver`, `force-*`, `no-*`, `no-tls-tickets`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsVersions {
    /// `ssl-min-ver`.
    pub min: Option<TlsVersion>,
    /// `ssl-max-ver`.
    pub max: Option<TlsVersion>,
    /// `no-sslv3`, `no-tlsv10`, … (the versions refused).
    pub disabled: Vec<TlsVersion>,
    /// `force-tlsv12` …: this version only.
    pub force: Option<TlsVersion>,
    /// `no-tls-tickets`.
    pub no_tickets: bool,
}

/// The TLS settings of a `bind` line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BindTls {
    /// `ssl`: the listener speaks TLS.
    pub ssl: bool,
    /// `crt FILE|DIR`, in order (the first certificate is the default one).
    pub crt: Vec<PathBuf>,
    /// `crt-list FILE`, in order after the `crt` ones.
    pub crt_list: Vec<PathBuf>,
    /// `alpn`: protocols offered, in preference order.
    pub alpn: Option<Vec<String>>,
    /// The version options.
    pub versions: TlsVersions,
    /// `ciphers` (TLSv1.2 cipher list, OpenSSL names).
    pub ciphers: Option<String>,
    /// `ciphersuites` (TLSv1.3 suites).
    pub ciphersuites: Option<String>,
    /// `curves`: key-exchange groups, colon-separated OpenSSL names.
    pub curves: Option<String>,
    /// `ecdhe`: one named curve, used when `curves` is not set.
    pub ecdhe: Option<String>,
    /// `strict-sni`.
    pub strict_sni: bool,
    /// `prefer-client-ciphers`.
    pub prefer_client_ciphers: bool,
    /// `ca-file`: the CAs client certificates are verified against.
    pub ca_file: Option<PathBuf>,
    /// `crl-file`: revoked client certificates.
    pub crl_file: Option<PathBuf>,
    /// `verify`.
    pub verify: Option<Verify>,
}

/// `ssl-default-bind-*` of the `global` section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BindTlsDefaults {
    /// `ssl-default-bind-options`.
    pub versions: TlsVersions,
    /// `prefer-client-ciphers` in `ssl-default-bind-options`.
    pub prefer_client_ciphers: bool,
    /// `strict-sni` in `ssl-default-bind-options`.
    pub strict_sni: bool,
    /// `ssl-default-bind-ciphers`.
    pub ciphers: Option<String>,
    /// `ssl-default-bind-ciphersuites`.
    pub ciphersuites: Option<String>,
    /// `ssl-default-bind-curves`.
    pub curves: Option<String>,
    /// `tune.ssl.cachesize`: sessions each ssl bind keeps for resumption (`None`:
    /// HAProxy's default, [`DEFAULT_SSL_CACHESIZE`]).
    pub cachesize: Option<u32>,
}

/// HAProxy's default `tune.ssl.cachesize`.
pub const DEFAULT_SSL_CACHESIZE: u32 = 20_000;

/// The TLS settings of a `server` line (re-encryption).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerTls {
    /// `ssl`.
    pub ssl: bool,
    /// `verify none|required` (default: `ssl-server-verify`).
    pub verify: Option<Verify>,
    /// `ca-file`.
    pub ca_file: Option<PathBuf>,
    /// `crl-file`.
    pub crl_file: Option<PathBuf>,
    /// `sni EXPR`: a sample expression giving the name sent.
    pub sni: Option<String>,
    /// `alpn`.
    pub alpn: Option<Vec<String>>,
    /// `crt`: the client certificate presented to the server.
    pub crt: Option<PathBuf>,
    /// `no-ssl-reuse`: no TLS session resumption.
    pub no_reuse: bool,
    /// `no-verifyhost` / `verifyhost NAME`.
    pub verifyhost: Option<String>,
    /// The version options.
    pub versions: TlsVersions,
    /// `ciphers`.
    pub ciphers: Option<String>,
    /// `ciphersuites`.
    pub ciphersuites: Option<String>,
    /// `curves`: key-exchange groups offered, colon-separated OpenSSL names.
    pub curves: Option<String>,
}

/// `ssl-default-server-*` and `ssl-server-verify` of the `global` section.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerTlsDefaults {
    /// `ssl-server-verify none|required` (default `required`).
    pub verify: Option<Verify>,
    /// `ssl-default-server-options`.
    pub versions: TlsVersions,
    /// `ssl-default-server-ciphers`.
    pub ciphers: Option<String>,
    /// `ssl-default-server-ciphersuites`.
    pub ciphersuites: Option<String>,
}

/// Applies one version option (`ssl-min-ver V`, `force-tlsv12`, `no-tlsv10`,
/// `no-tls-tickets`) to `v`; `value` is its argument. Returns `Ok(false)` when `opt` is
/// not a version option.
pub fn apply_version_option(v: &mut TlsVersions, opt: &str, value: &str) -> Result<bool, String> {
    match opt {
        "ssl-min-ver" | "ssl-max-ver" => {
            let ver = TlsVersion::parse(value).ok_or_else(|| {
                format!(
                    "'{opt}' : unknown value '{value}' (expects one of SSLv3, TLSv1.0, TLSv1.1, TLSv1.2, TLSv1.3)."
                )
            })?;
            if opt == "ssl-min-ver" {
                v.min = Some(ver);
            } else {
                v.max = Some(ver);
            }
        }
        "no-tls-tickets" => v.no_tickets = true,
        _ => {
            let (force, suffix) = match (opt.strip_prefix("force-"), opt.strip_prefix("no-")) {
                (Some(s), _) => (true, s),
                (None, Some(s)) => (false, s),
                (None, None) => return Ok(false),
            };
            let Some(ver) = TlsVersion::ALL
                .into_iter()
                .find(|x| x.option_suffix() == suffix)
            else {
                return Ok(false);
            };
            if force {
                v.force = Some(ver);
            } else if !v.disabled.contains(&ver) {
                v.disabled.push(ver);
            }
        }
    }
    Ok(true)
}

/// The version options that take an argument.
pub fn version_option_args(opt: &str) -> usize {
    usize::from(opt == "ssl-min-ver" || opt == "ssl-max-ver")
}
