//! Certificates for `crt` and `crt-list`: a PEM bundle (the chain, then or before the
//! private key, RSA or ECDSA; the key may also be in `FILE.key`, an OCSP response in
//! `FILE.ocsp` is stapled when it is about this certificate: `ocsp.rs`), a directory of
//! bundles, and the names each answers for
//! (its subject alternative DNS names and common name, or the crt-list's SNI filters).

use super::TlsError;
use crate::config::model::{BindTls, TlsVersion, Verify};
use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One loaded certificate and the server names it is presented for.
#[derive(Clone, Debug)]
pub struct CertEntry {
    /// The chain and signing key.
    pub key: Arc<CertifiedKey>,
    /// Lower-case names, exact (`www.example.com`) or wildcard (`*.example.com`).
    pub names: Vec<String>,
    /// Names excluded by a crt-list's negative filters (`!secure.example.com`).
    pub excluded: Vec<String>,
    /// The file it came from.
    pub path: PathBuf,
    /// The `[options]` of its crt-list line, if any.
    pub opts: Option<Arc<LineOpts>>,
    /// Warnings of its loading (an OCSP response ignored), HAProxy's words.
    pub warnings: Vec<String>,
    /// The crt-list line it came from, if any.
    pub line: Option<ListLine>,
}

/// Where a certificate stands in a crt-list, for `show|add|del ssl crt-list`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListLine {
    /// The crt-list's name (its path, after `crt-base`).
    pub list: String,
    /// Its line number (a line added over the runtime API gets the list's line count
    /// plus one, as HAProxy numbers it).
    pub number: usize,
    /// The options and filters as HAProxy dumps them: ` [verify none] a.test !b.test`.
    pub conf: String,
}

impl ListLine {
    /// The options and filters of a line as HAProxy's `dump_crtlist_conf` and
    /// `dump_crtlist_filters` write them.
    pub fn conf(opts: Option<&LineOpts>, filters: &[&str]) -> String {
        let mut out = String::new();
        if let Some(o) = opts {
            let mut words: Vec<String> = Vec::new();
            if let Some(a) = &o.alpn {
                words.push(format!("alpn {}", a.join(",")));
            }
            if let Some(v) = o.verify {
                words.push(
                    match v {
                        Verify::None => "verify none",
                        Verify::Optional => "verify optional",
                        Verify::Required => "verify required",
                    }
                    .to_owned(),
                );
            }
            if let Some(c) = &o.ca_file {
                words.push(format!("ca-file {}", c.display()));
            }
            if let Some(c) = &o.crl_file {
                words.push(format!("crl-file {}", c.display()));
            }
            for (k, v) in [
                ("ciphers", &o.ciphers),
                ("ciphersuites", &o.ciphersuites),
                ("curves", &o.curves),
                ("ecdhe", &o.ecdhe),
            ] {
                if let Some(v) = v {
                    words.push(format!("{k} {v}"));
                }
            }
            if let Some(v) = o.min {
                words.push(format!("ssl-min-ver {}", v.name()));
            }
            if let Some(v) = o.max {
                words.push(format!("ssl-max-ver {}", v.name()));
            }
            out.push_str(&format!(" [{}]", words.join(" ")));
        }
        for f in filters {
            out.push(' ');
            out.push_str(f);
        }
        out
    }
}

/// Loads a PEM bundle.
pub fn load_bundle(path: &Path, provider: &CryptoProvider) -> Result<CertEntry, TlsError> {
    let bytes = std::fs::read(path).map_err(|e| TlsError::file(path, e))?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::file(path, e))?;
    if chain.is_empty() {
        return Err(TlsError::file(path, "no certificate found in the PEM file"));
    }
    let key = match PrivateKeyDer::from_pem_slice(&bytes) {
        Ok(k) => k,
        Err(rustls_pki_types::pem::Error::NoItemsFound) => {
            let mut kp = path.as_os_str().to_owned();
            kp.push(".key");
            let kp = PathBuf::from(kp);
            PrivateKeyDer::from_pem_file(&kp).map_err(|_| {
                TlsError::file(
                    path,
                    format!("no private key in the file nor in '{}'", kp.display()),
                )
            })?
        }
        Err(e) => return Err(TlsError::file(path, e)),
    };
    let names = names_of(&chain[0]).map_err(|e| TlsError::file(path, e))?;
    let with = |ext: &str| {
        let mut p = path.as_os_str().to_owned();
        p.push(ext);
        PathBuf::from(p)
    };
    let ocsp_path = with(".ocsp");
    let mut warnings = Vec::new();
    let mut stapled = None;
    if let Ok(resp) = std::fs::read(&ocsp_path)
        && !resp.is_empty()
    {
        let issuer_file = CertificateDer::from_pem_file(with(".issuer")).ok();
        let Some(issuer) = super::ocsp::find_issuer(&chain, issuer_file.as_ref()) else {
            return Err(TlsError(format!(
                "'{}' is present and activates OCSP but it is impossible to compute the OCSP \
                 certificate ID (maybe the issuer could not be found)'.",
                ocsp_path.display()
            )));
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        match super::ocsp::check(&resp, &chain[0], issuer, now) {
            Ok(()) => stapled = Some(resp),
            Err(m) => warnings.push(format!("Loading: {m}. Content will be ignored.")),
        }
    }
    let mut ck = CertifiedKey::from_der(chain, key, provider)
        .map_err(|e| TlsError::file(path, format!("unusable certificate or key ({e})")))?;
    ck.ocsp = stapled;
    Ok(CertEntry {
        key: Arc::new(ck),
        names,
        excluded: Vec::new(),
        path: path.to_path_buf(),
        opts: None,
        warnings,
        line: None,
    })
}

/// The DNS names of a certificate: its subject alternative names, then its common names.
pub fn names_of(cert: &CertificateDer<'_>) -> Result<Vec<String>, String> {
    use x509_parser::prelude::*;
    let (_, x) = X509Certificate::from_der(cert.as_ref())
        .map_err(|e| format!("cannot parse the certificate ({e})"))?;
    let mut names = Vec::new();
    if let Ok(Some(san)) = x.subject_alternative_name() {
        for n in &san.value.general_names {
            if let GeneralName::DNSName(d) = n {
                names.push(d.to_ascii_lowercase());
            }
        }
    }
    for cn in x.subject().iter_common_name() {
        if let Ok(s) = cn.as_str() {
            let s = s.to_ascii_lowercase();
            if !names.contains(&s) {
                names.push(s);
            }
        }
    }
    Ok(names)
}

/// Whether a directory entry is a certificate to load (not a dot file nor one of the
/// reserved extensions `.key`, `.issuer`, `.ocsp`, `.sctl`).
fn is_bundle(name: &str) -> bool {
    !name.starts_with('.')
        && ![".key", ".issuer", ".ocsp", ".sctl"]
            .iter()
            .any(|ext| name.ends_with(ext))
}

/// Loads `crt PATH`: one bundle, or every bundle of a directory in alphabetic order.
pub fn load_crt(path: &Path, provider: &CryptoProvider) -> Result<Vec<CertEntry>, TlsError> {
    let meta = std::fs::metadata(path).map_err(|e| TlsError::file(path, e))?;
    if !meta.is_dir() {
        return Ok(vec![load_bundle(path, provider)?]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| TlsError::file(path, e))?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
        .filter(|e| e.file_name().to_str().is_some_and(is_bundle))
        .map(|e| e.path())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(TlsError::file(path, "no certificate in this directory"));
    }
    // HAProxy loads a directory as a crt-list whose lines have number 0.
    let list = dir_list_name(path);
    files
        .iter()
        .map(|f| {
            let mut e = load_bundle(f, provider)?;
            e.line = Some(ListLine {
                list: list.clone(),
                number: 0,
                conf: String::new(),
            });
            Ok(e)
        })
        .collect()
}

/// The crt-list name of a `crt` directory: its path without trailing slashes.
pub fn dir_list_name(path: &Path) -> String {
    let s = path.display().to_string();
    let t = s.trim_end_matches('/');
    if t.is_empty() { s } else { t.to_owned() }
}

/// The `[options]` of a crt-list line (HAProxy's per-certificate SSL settings): each one
/// set replaces the bind line's for the handshakes that get this line's certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineOpts {
    /// Where the line is (`FILE:LINE`), for errors found when the options are compiled.
    pub at: String,
    /// `alpn`.
    pub alpn: Option<Vec<String>>,
    /// `ssl-min-ver`.
    pub min: Option<TlsVersion>,
    /// `ssl-max-ver`.
    pub max: Option<TlsVersion>,
    /// `verify`.
    pub verify: Option<Verify>,
    /// `ca-file`.
    pub ca_file: Option<PathBuf>,
    /// `crl-file`.
    pub crl_file: Option<PathBuf>,
    /// `ciphers`.
    pub ciphers: Option<String>,
    /// `ciphersuites`.
    pub ciphersuites: Option<String>,
    /// `curves`.
    pub curves: Option<String>,
    /// `ecdhe`.
    pub ecdhe: Option<String>,
}

/// HAProxy's crt-list options gatehouse does not implement yet.
const LINE_NOT_YET: &[&str] = &["allow-0rtt", "ca-verify-file", "no-ca-names", "npn"];

impl LineOpts {
    /// Parses the words between `[` and `]`.
    pub fn parse(words: &[&str]) -> Result<LineOpts, String> {
        let mut o = LineOpts::default();
        let mut i = 0;
        while let Some(&kw) = words.get(i) {
            if LINE_NOT_YET.contains(&kw) {
                return Err(format!(
                    "ssl option '{kw}' is a HAProxy keyword that gatehouse does not support yet in a crt-list"
                ));
            }
            let v = *words
                .get(i + 1)
                .ok_or_else(|| format!("ssl option '{kw}' : missing argument"))?;
            let version = |v: &str| {
                TlsVersion::parse(v).ok_or_else(|| {
                    format!(
                        "'{kw}' : unknown version '{v}' (SSLv3, TLSv1.0, TLSv1.1, TLSv1.2, TLSv1.3)"
                    )
                })
            };
            match kw {
                "alpn" => o.alpn = Some(crate::config::proxy::bind::alpn(v)?),
                "ssl-min-ver" => o.min = Some(version(v)?),
                "ssl-max-ver" => o.max = Some(version(v)?),
                "verify" => {
                    o.verify = Some(Verify::parse(v, true).ok_or_else(|| {
                        format!("'verify' : unknown verify method '{v}', only 'none', 'optional', and 'required' are supported")
                    })?)
                }
                "ca-file" => o.ca_file = Some(PathBuf::from(v)),
                "crl-file" => o.crl_file = Some(PathBuf::from(v)),
                "ciphers" => o.ciphers = Some(v.to_owned()),
                "ciphersuites" => o.ciphersuites = Some(v.to_owned()),
                "curves" => o.curves = Some(v.to_owned()),
                "ecdhe" => o.ecdhe = Some(v.to_owned()),
                _ => return Err(format!("unknown ssl keyword '{kw}'")),
            }
            i += 2;
        }
        Ok(o)
    }

    /// The bind line's settings with this line's options in their place.
    pub fn apply(&self, b: &BindTls) -> BindTls {
        let mut out = b.clone();
        if self.alpn.is_some() {
            out.alpn.clone_from(&self.alpn);
        }
        if self.min.is_some() {
            out.versions.min = self.min;
            out.versions.force = None;
        }
        if self.max.is_some() {
            out.versions.max = self.max;
            out.versions.force = None;
        }
        if self.verify.is_some() {
            out.verify = self.verify;
        }
        if self.ca_file.is_some() {
            out.ca_file.clone_from(&self.ca_file);
        }
        if self.crl_file.is_some() {
            out.crl_file.clone_from(&self.crl_file);
        }
        if self.ciphers.is_some() {
            out.ciphers.clone_from(&self.ciphers);
        }
        if self.ciphersuites.is_some() {
            out.ciphersuites.clone_from(&self.ciphersuites);
        }
        if self.curves.is_some() {
            out.curves.clone_from(&self.curves);
        }
        if self.ecdhe.is_some() {
            out.ecdhe.clone_from(&self.ecdhe);
        }
        out
    }
}

/// Splits the rest of a crt-list line into its `[options]` words and its SNI filters.
pub fn split_line(rest: &str) -> Result<(Vec<&str>, Vec<&str>), String> {
    let rest = rest.trim_start();
    let Some(inner) = rest.strip_prefix('[') else {
        return Ok((Vec::new(), rest.split_whitespace().collect()));
    };
    let close = inner.find(']').ok_or("missing ']' after the ssl options")?;
    Ok((
        inner[..close].split_whitespace().collect(),
        inner[close + 1..].split_whitespace().collect(),
    ))
}

/// Loads `crt-list FILE`: `<crtfile> [\[<ssl options>\]] [[!]<filter>…]` per line (`#`
/// comments); filters replace the certificate's own names, `!name` excludes one, `!*`
/// keeps it out of the name index. An error names `FILE:LINE`.
pub fn load_crt_list(
    path: &Path,
    bases: &super::Bases,
    provider: &CryptoProvider,
) -> Result<Vec<CertEntry>, TlsError> {
    let text = std::fs::read_to_string(path).map_err(|e| TlsError::file(path, e))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |msg: String| TlsError(format!("crt-list '{}:{}' : {msg}", path.display(), n + 1));
        let (file, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let (opts, filters) = split_line(rest).map_err(at)?;
        let opts = if opts.is_empty() {
            None
        } else {
            let mut o = LineOpts::parse(&opts).map_err(at)?;
            o.at = format!("{}:{}", path.display(), n + 1);
            Some(Arc::new(o))
        };
        let loaded =
            load_crt(&bases.crt(Path::new(file)), provider).map_err(|e| at(e.to_string()))?;
        let line = ListLine {
            list: path.display().to_string(),
            number: n + 1,
            conf: ListLine::conf(opts.as_deref(), &filters),
        };
        for mut e in loaded {
            apply_filters(&mut e, &filters);
            e.opts.clone_from(&opts);
            e.line = Some(line.clone());
            out.push(e);
        }
    }
    Ok(out)
}

/// A crt-list line's SNI filters on its certificate: names replace the certificate's
/// own, `!name` excludes one, `!*` keeps it out of the name index.
pub fn apply_filters(e: &mut CertEntry, filters: &[&str]) {
    let (neg, pos): (Vec<&str>, Vec<&str>) = filters.iter().partition(|f| f.starts_with('!'));
    if !pos.is_empty() {
        e.names = pos.iter().map(|f| f.to_ascii_lowercase()).collect();
    }
    for f in neg {
        let f = f[1..].to_ascii_lowercase();
        if f == "*" {
            e.names.clear();
        } else {
            e.excluded.push(f);
        }
    }
}

/// How many lines crt-list `path` has (HAProxy numbers a line added at runtime after
/// them).
pub fn line_count(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

#[cfg(test)]
mod tests {
    use super::is_bundle;

    #[test]
    fn crt_list_options_and_filters_split() {
        let (o, f) = super::split_line(" [alpn h2 ssl-min-ver TLSv1.3] a.test !b.test").unwrap();
        assert_eq!(o, ["alpn", "h2", "ssl-min-ver", "TLSv1.3"]);
        assert_eq!(f, ["a.test", "!b.test"]);
        let (o, f) = super::split_line("[verify required]").unwrap();
        assert_eq!((o.len(), f.len()), (2, 0));
        assert!(super::split_line("[alpn h2 x.test").is_err());
        let opts = super::LineOpts::parse(&["ssl-max-ver", "TLSv1.2", "alpn", "h2,http/1.1"]);
        assert_eq!(opts.unwrap().alpn.unwrap(), ["h2", "http/1.1"]);
        let e = super::LineOpts::parse(&["npn", "h2"]).unwrap_err();
        assert!(e.contains("'npn'") && e.contains("not support yet"), "{e}");
        assert!(
            super::LineOpts::parse(&["bogus", "1"])
                .unwrap_err()
                .contains("unknown ssl keyword")
        );
    }

    #[test]
    fn a_directory_skips_reserved_extensions_and_dot_files() {
        assert!(is_bundle("site.pem"));
        assert!(!is_bundle("site.pem.key"));
        assert!(!is_bundle("site.pem.ocsp"));
        assert!(!is_bundle(".hidden.pem"));
    }
}
