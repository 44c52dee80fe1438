//! `ciphers`, `ciphersuites`, `ssl-min-ver`/`ssl-max-ver` mapped onto what rustls
//! offers: the TLSv1.2 ECDHE AEAD ciphers and the three TLSv1.3 suites, TLSv1.2 and
//! TLSv1.3. Names are OpenSSL's, as HAProxy takes and prints them (`ssl_fc_cipher`).

use crate::config::model::{TlsVersion, TlsVersions};
use rustls::crypto::aws_lc_rs::cipher_suite as cs;
use rustls::crypto::aws_lc_rs::kx_group as kx;
use rustls::{CipherSuite, SupportedCipherSuite, SupportedProtocolVersion};

/// TLSv1.2 ciphers: OpenSSL name, rustls suite; in OpenSSL's default order (the order
/// offered when `ciphers` is not set).
static TLS12: &[(&str, SupportedCipherSuite)] = &[
    (
        "ECDHE-ECDSA-AES256-GCM-SHA384",
        cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-RSA-AES256-GCM-SHA384",
        cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ),
    (
        "ECDHE-ECDSA-CHACHA20-POLY1305",
        cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "ECDHE-RSA-CHACHA20-POLY1305",
        cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ),
    (
        "ECDHE-ECDSA-AES128-GCM-SHA256",
        cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    ),
    (
        "ECDHE-RSA-AES128-GCM-SHA256",
        cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    ),
];

/// TLSv1.3 suites, in OpenSSL's default order.
static TLS13: &[(&str, SupportedCipherSuite)] = &[
    ("TLS_AES_256_GCM_SHA384", cs::TLS13_AES_256_GCM_SHA384),
    (
        "TLS_CHACHA20_POLY1305_SHA256",
        cs::TLS13_CHACHA20_POLY1305_SHA256,
    ),
    ("TLS_AES_128_GCM_SHA256", cs::TLS13_AES_128_GCM_SHA256),
];

/// OpenSSL cipher-string words that only remove ciphers rustls never offers: an
/// exclusion of them (`!aNULL`) changes nothing.
const HARMLESS_EXCLUSIONS: &[&str] = &[
    "aNULL",
    "eNULL",
    "NULL",
    "MD5",
    "RC4",
    "DES",
    "3DES",
    "EXPORT",
    "EXP",
    "PSK",
    "SRP",
    "DSS",
    "aDSS",
    "CAMELLIA",
    "SEED",
    "IDEA",
    "kRSA",
    "RSA",
    "DH",
    "DHE",
    "kDHE",
    "EDH",
    "ADH",
    "AECDH",
    "LOW",
    "MEDIUM",
    "SHA1",
    "SHA",
    "CBC",
    "AES128-SHA",
    "AES256-SHA",
    "kECDH",
    "aECDH",
];

/// The OpenSSL name of a negotiated suite (`ssl_fc_cipher`).
pub fn openssl_name(suite: CipherSuite) -> &'static str {
    TLS12
        .iter()
        .chain(TLS13)
        .find(|(_, s)| s.suite() == suite)
        .map_or("(NONE)", |(n, _)| n)
}

/// The rustls suites a TLSv1.2 `ciphers` string names, in its order. Every name must be
/// one rustls offers (an error names the first that is not); `DEFAULT`, `ALL` and
/// `HIGH` stand for all of them; exclusions (`!x`, `-x`) remove a named cipher or are
/// of classes rustls never offers.
pub fn tls12(list: &str) -> Result<Vec<SupportedCipherSuite>, String> {
    select(list, TLS12, "cipher", true)
}

/// The rustls suites a TLSv1.3 `ciphersuites` string names, in its order.
pub fn tls13(list: &str) -> Result<Vec<SupportedCipherSuite>, String> {
    select(list, TLS13, "ciphersuite", false)
}

fn select(
    list: &str,
    table: &[(&str, SupportedCipherSuite)],
    what: &str,
    classes: bool,
) -> Result<Vec<SupportedCipherSuite>, String> {
    let mut out: Vec<SupportedCipherSuite> = Vec::new();
    for word in list.split([':', ',', ' ']).filter(|w| !w.is_empty()) {
        if let Some(x) = word.strip_prefix(['!', '-']) {
            if let Some((_, s)) = table.iter().find(|(n, _)| *n == x) {
                out.retain(|o| o.suite() != s.suite());
            } else if !(classes && HARMLESS_EXCLUSIONS.contains(&x)) {
                return Err(format!(
                    "{what} exclusion '{word}' is not supported by gatehouse (name the {what}s to offer instead)"
                ));
            }
            continue;
        }
        if classes
            && matches!(
                word,
                "DEFAULT" | "ALL" | "HIGH" | "ECDHE" | "EECDH" | "AESGCM"
            )
        {
            for (_, s) in table {
                if !out.iter().any(|o| o.suite() == s.suite()) {
                    out.push(*s);
                }
            }
            continue;
        }
        if word.starts_with('@') {
            // `@STRENGTH`, `@SECLEVEL=n`: ordering and levels, nothing to select.
            continue;
        }
        let Some((_, s)) = table.iter().find(|(n, _)| *n == word) else {
            let offered: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
            return Err(format!(
                "{what} '{word}' is not supported by gatehouse (rustls offers {})",
                offered.join(", ")
            ));
        };
        if !out.iter().any(|o| o.suite() == s.suite()) {
            out.push(*s);
        }
    }
    if out.is_empty() {
        return Err(format!("no {what} left in '{list}'"));
    }
    Ok(out)
}

/// The protocol versions a line's options leave, among those rustls offers (TLSv1.2 and
/// TLSv1.3; the default minimum is TLSv1.2, as in HAProxy 2.6). Versions older than
/// TLSv1.2 are never offered: a range that keeps none of rustls's is an error.
pub fn versions(
    own: &TlsVersions,
    defaults: &TlsVersions,
) -> Result<Vec<&'static SupportedProtocolVersion>, String> {
    let min = own.min.or(defaults.min).unwrap_or(TlsVersion::Tls12);
    let max = own.max.or(defaults.max).unwrap_or(TlsVersion::Tls13);
    let force = own.force.or(defaults.force);
    let (lo, hi) = match force {
        Some(f) => (f, f),
        None => (min, max),
    };
    let mut out = Vec::new();
    for (v, p) in [
        (TlsVersion::Tls12, &rustls::version::TLS12),
        (TlsVersion::Tls13, &rustls::version::TLS13),
    ] {
        if v >= lo && v <= hi && !own.disabled.contains(&v) && !defaults.disabled.contains(&v) {
            out.push(p);
        }
    }
    if out.is_empty() {
        return Err(format!(
            "no TLS version left between {} and {}: gatehouse (rustls) offers TLSv1.2 and TLSv1.3 only",
            lo.name(),
            hi.name()
        ));
    }
    Ok(out)
}

/// HAProxy's name of a negotiated version (`ssl_fc_protocol`).
pub fn version_name(v: rustls::ProtocolVersion) -> &'static str {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3",
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2",
        rustls::ProtocolVersion::TLSv1_1 => "TLSv1.1",
        rustls::ProtocolVersion::TLSv1_0 => "TLSv1.0",
        rustls::ProtocolVersion::SSLv3 => "SSLv3",
        _ => "unknown",
    }
}

/// The key-exchange groups, by the OpenSSL names `curves`/`ecdhe` take.
static GROUPS: &[(&[&str], &dyn rustls::crypto::SupportedKxGroup)] = &[
    (&["X25519", "x25519"], kx::X25519),
    (&["P-256", "prime256v1", "secp256r1"], kx::SECP256R1),
    (&["P-384", "secp384r1"], kx::SECP384R1),
];

/// The groups of a `curves` list (`X25519:P-256`) or an `ecdhe` name, in its order.
pub fn kx_groups(list: &str) -> Result<Vec<&'static dyn rustls::crypto::SupportedKxGroup>, String> {
    let mut out: Vec<&'static dyn rustls::crypto::SupportedKxGroup> = Vec::new();
    for name in list.split(':') {
        let Some((_, g)) = GROUPS.iter().find(|(names, _)| names.contains(&name)) else {
            return Err(format!(
                "unknown curve name '{name}': gatehouse's TLS (rustls) offers X25519, P-256 (prime256v1) and P-384 (secp384r1)"
            ));
        };
        if !out.iter().any(|o| o.name() == g.name()) {
            out.push(*g);
        }
    }
    Ok(out)
}

/// A crypto provider with the suites of `ciphers`/`ciphersuites` (or all), TLSv1.2 ones
/// first as rustls wants each version's in preference order, and the key-exchange
/// groups of `curves` (a `curves` list or an `ecdhe` name; else rustls' defaults).
pub fn provider(
    ciphers: Option<&str>,
    ciphersuites: Option<&str>,
    curves: Option<(&str, &str)>,
) -> Result<rustls::crypto::CryptoProvider, String> {
    let mut p = super::provider();
    if let Some((keyword, list)) = curves {
        p.kx_groups = kx_groups(list).map_err(|e| format!("'{keyword}' : {e}"))?;
    }
    let t13 = match ciphersuites {
        Some(l) => tls13(l).map_err(|e| format!("'ciphersuites' : {e}"))?,
        None => TLS13.iter().map(|(_, s)| *s).collect(),
    };
    let t12 = match ciphers {
        Some(l) => tls12(l).map_err(|e| format!("'ciphers' : {e}"))?,
        None => TLS12.iter().map(|(_, s)| *s).collect(),
    };
    p.cipher_suites = t13.into_iter().chain(t12).collect();
    Ok(p)
}

/// The symmetric key size of a suite in bits (`ssl_fc_use_keysize`).
pub fn key_bits(suite: CipherSuite) -> u32 {
    let name = openssl_name(suite);
    if name.contains("AES128") || name.contains("AES_128") {
        128
    } else {
        256
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mozilla_intermediate_list_maps_and_an_unknown_name_is_named() {
        let l = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:!aNULL:@STRENGTH";
        assert_eq!(tls12(l).unwrap().len(), 2);
        let e = tls12("ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES128-GCM-SHA256").unwrap_err();
        assert!(e.contains("'DHE-RSA-AES128-GCM-SHA256'"), "{e}");
        assert!(
            tls13("TLS_AES_128_CCM_SHA256")
                .unwrap_err()
                .contains("TLS_AES_128_CCM_SHA256")
        );
    }

    #[test]
    fn versions_follow_min_max_force_and_no_options() {
        let d = TlsVersions::default();
        assert_eq!(versions(&d, &d).unwrap().len(), 2);
        let only13 = TlsVersions {
            min: Some(TlsVersion::Tls13),
            ..Default::default()
        };
        assert_eq!(
            versions(&only13, &d).unwrap(),
            vec![&rustls::version::TLS13]
        );
        let old = TlsVersions {
            max: Some(TlsVersion::Tls11),
            ..Default::default()
        };
        assert!(
            versions(&old, &d)
                .unwrap_err()
                .contains("TLSv1.2 and TLSv1.3 only")
        );
        let no12 = TlsVersions {
            disabled: vec![TlsVersion::Tls12],
            ..Default::default()
        };
        assert_eq!(versions(&d, &no12).unwrap(), vec![&rustls::version::TLS13]);
    }
}
