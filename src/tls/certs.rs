//! Certificates for `crt` and `crt-list`: a PEM bundle (the chain, then or before the
//! private key, RSA or ECDSA; the key may also be in `FILE.key`, an OCSP response in
//! `FILE.ocsp` is stapled), a directory of bundles, and the names each answers for
//! (its subject alternative DNS names and common name, or the crt-list's SNI filters).

use super::TlsError;
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
    let mut ck = CertifiedKey::from_der(chain, key, provider)
        .map_err(|e| TlsError::file(path, format!("unusable certificate or key ({e})")))?;
    let mut ocsp = path.as_os_str().to_owned();
    ocsp.push(".ocsp");
    let ocsp = PathBuf::from(ocsp);
    if let Ok(resp) = std::fs::read(&ocsp)
        && !resp.is_empty()
    {
        ocsp_successful(&resp).map_err(|e| TlsError::file(&ocsp, e))?;
        ck.ocsp = Some(resp);
    }
    Ok(CertEntry {
        key: Arc::new(ck),
        names,
        excluded: Vec::new(),
        path: path.to_path_buf(),
    })
}

/// Checks that `der` is an OCSP response (RFC 6960 `OCSPResponse`) whose status is
/// `successful`, as HAProxy does when it loads one; the response is stapled as it is.
fn ocsp_successful(der: &[u8]) -> Result<(), String> {
    use x509_parser::der_parser::ber::BerObjectContent;
    let (_, obj) = x509_parser::der_parser::parse_der(der)
        .map_err(|e| format!("cannot parse the OCSP response ({e})"))?;
    let status = obj
        .as_sequence()
        .ok()
        .and_then(|s| s.first())
        .and_then(|o| match o.content {
            BerObjectContent::Enum(v) => Some(v),
            _ => None,
        })
        .ok_or("not an OCSP response")?;
    match status {
        0 => Ok(()),
        s => Err(format!("OCSP response status not successful ({s})")),
    }
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
    files.iter().map(|f| load_bundle(f, provider)).collect()
}

/// Loads `crt-list FILE`: `<crtfile> [<filters>…]` per line (`#` comments); filters
/// replace the certificate's own names, `!name` excludes one. Per-line SSL options
/// (`[alpn …]`) are refused.
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
        let at = |msg: String| TlsError(format!("'{}' line {} : {msg}", path.display(), n + 1));
        let mut words = line.split_whitespace();
        let file = words.next().unwrap_or_default();
        let rest: Vec<&str> = words.collect();
        if rest.first().is_some_and(|w| w.starts_with('[')) {
            let opts = rest
                .iter()
                .take_while(|w| !w.ends_with(']'))
                .chain(rest.iter().find(|w| w.ends_with(']')))
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            let inner = opts.trim_start_matches('[').trim_end_matches(']').trim();
            if !inner.is_empty() {
                return Err(at(format!(
                    "per-certificate SSL options '[{inner}]' are not supported yet"
                )));
            }
        }
        let filters: Vec<&str> = rest
            .iter()
            .filter(|w| !w.starts_with('[') && !w.ends_with(']'))
            .copied()
            .collect();
        for mut e in load_crt(&bases.crt(Path::new(file)), provider)? {
            let (neg, pos): (Vec<&str>, Vec<&str>) =
                filters.iter().partition(|f| f.starts_with('!'));
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
            out.push(e);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::is_bundle;

    #[test]
    fn an_ocsp_response_must_be_successful() {
        // OCSPResponse { responseStatus successful } (no body), then tryLater (3).
        assert!(super::ocsp_successful(&[0x30, 0x03, 0x0a, 0x01, 0x00]).is_ok());
        let e = super::ocsp_successful(&[0x30, 0x03, 0x0a, 0x01, 0x03]).unwrap_err();
        assert!(e.contains("not successful (3)"), "{e}");
        assert!(super::ocsp_successful(b"garbage").is_err());
    }

    #[test]
    fn a_directory_skips_reserved_extensions_and_dot_files() {
        assert!(is_bundle("site.pem"));
        assert!(!is_bundle("site.pem.key"));
        assert!(!is_bundle("site.pem.ocsp"));
        assert!(!is_bundle(".hidden.pem"));
    }
}
