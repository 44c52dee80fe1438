//! A revocation list described as HAProxy's `show ssl crl-file <file>` describes it (its
//! `show_crl_detail`, after `openssl crl -text`): version, signature algorithm in
//! OpenSSL's long name, issuer in OpenSSL's one-line form, last and next update, and the
//! revoked serial numbers with their dates.

use super::cert_info::{asn1_print, hex_upper};
use super::facts::{dn_string, entries};
use rustls_pki_types::CertificateRevocationListDer;

/// OpenSSL's long name of a signature algorithm (`OBJ_nid2ln`), by dotted OID.
fn signature_name(oid: &str) -> String {
    match oid {
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.3.101.112" => "ED25519",
        "1.3.101.113" => "ED448",
        other => return other.to_owned(),
    }
    .to_owned()
}

/// OpenSSL's `i2a_ASN1_INTEGER`: upper-case hex, two digits a byte, `00` for zero.
fn integer(be: &[u8]) -> String {
    let trimmed: &[u8] = match be.iter().position(|&b| b != 0) {
        Some(i) => &be[i..],
        None => &[0],
    };
    hex_upper(trimmed)
}

/// The lines after `Certificate Revocation List #N:` (nothing if it does not parse).
pub fn describe(crl: &CertificateRevocationListDer<'_>) -> String {
    use x509_parser::prelude::*;
    let Ok((_, c)) = CertificateRevocationList::from_der(crl.as_ref()) else {
        return String::new();
    };
    let mut out = String::new();
    // `openssl crl` prints the version field plus one (v1 when absent).
    let version = c.version().map(|v| v.0).unwrap_or(0) + 1;
    out.push_str(&format!("Version {version}\n"));
    out.push_str(&format!(
        "Signature Algorithm: {}\n",
        signature_name(&c.signature_algorithm.algorithm.to_id_string())
    ));
    out.push_str(&format!(
        "Issuer: {}\n",
        dn_string(&entries(c.issuer()), false)
    ));
    out.push_str(&format!("Last Update: {}\n", asn1_print(&c.last_update())));
    out.push_str("Next Update: ");
    if let Some(n) = c.next_update() {
        out.push_str(&asn1_print(&n));
    }
    out.push('\n');
    let revoked: Vec<_> = c.iter_revoked_certificates().collect();
    if revoked.is_empty() {
        out.push_str("No Revoked Certificates.\n");
    } else {
        out.push_str("Revoked Certificates:\n");
    }
    for r in revoked {
        out.push_str(&format!(
            "    Serial Number: {}\n        Revocation Date: {}\n",
            integer(r.raw_serial()),
            asn1_print(&r.revocation_date)
        ));
    }
    out
}
