//! A certificate described as HAProxy's `show ssl cert <file>` describes it (its
//! `show_cert_detail`): serial, validity in OpenSSL's `ASN1_TIME_print` form, DNS
//! names, key algorithm and size, SHA-1 fingerprint, subject and issuer in OpenSSL's
//! one-line form, those of the rest of the chain, and the key of its OCSP response.

use super::facts::{ClientCert, dn_string};
use rustls_pki_types::CertificateDer;

/// The lines after `Filename:` and `Status:` for a chain (leaf first) and its stapled
/// OCSP response.
pub fn describe(chain: &[CertificateDer<'_>], ocsp: Option<&[u8]>) -> String {
    let mut out = String::new();
    if let Some(leaf) = chain.first() {
        leaf_lines(&mut out, leaf, &chain[1..]);
    }
    out.push_str("OCSP Response Key: ");
    if let Some(id) = ocsp.and_then(ocsp_cert_id) {
        for b in id {
            out.push_str(&format!("{b:02x}"));
        }
    }
    out.push('\n');
    out
}

/// The lines `show ssl ca-file` writes for one CA certificate (HAProxy's
/// `show_cert_detail` without a chain or OCSP response).
pub fn cert_lines(cert: &CertificateDer<'_>) -> String {
    let mut out = String::new();
    leaf_lines(&mut out, cert, &[]);
    out
}

fn leaf_lines(out: &mut String, leaf: &CertificateDer<'_>, rest: &[CertificateDer<'_>]) {
    use x509_parser::prelude::*;
    let (Ok((_, x)), Some(facts)) = (
        X509Certificate::from_der(leaf.as_ref()),
        ClientCert::parse(leaf),
    ) else {
        return;
    };
    // OpenSSL's ASN1_INTEGER data: the magnitude, without the sign's leading zero.
    let serial = x.serial.to_bytes_be();
    out.push_str(&format!("Serial: {}\n", hex_upper(&serial)));
    let v = x.validity();
    out.push_str(&format!("notBefore: {}\n", asn1_print(&v.not_before)));
    out.push_str(&format!("notAfter: {}\n", asn1_print(&v.not_after)));
    out.push_str("Subject Alternative Name: ");
    if let Ok(Some(san)) = x.subject_alternative_name() {
        for (i, n) in san.value.general_names.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            if let GeneralName::DNSName(d) = n {
                out.push_str("DNS:");
                out.push_str(d);
            }
        }
    }
    out.push('\n');
    out.push_str("Algorithm: ");
    let Some(algo) = key_algorithm(&x) else {
        // HAProxy stops the description at a key type it does not name.
        return;
    };
    out.push_str(&algo);
    out.push('\n');
    out.push_str(&format!("SHA1 FingerPrint: {}\n", hex_upper(&facts.sha1)));
    out.push_str(&format!("Subject: {}\n", dn_string(&facts.subject, false)));
    out.push_str(&format!("Issuer: {}\n", dn_string(&facts.issuer, false)));
    for c in rest {
        if let Some(f) = ClientCert::parse(c) {
            out.push_str(&format!(
                "Chain Subject: {}\n",
                dn_string(&f.subject, false)
            ));
            out.push_str(&format!("Chain Issuer: {}\n", dn_string(&f.issuer, false)));
        }
    }
}

pub(crate) fn hex_upper(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// OpenSSL's `ASN1_TIME_print`: `Dec  6 23:08:26 2026 GMT`.
pub(crate) fn asn1_print(t: &x509_parser::time::ASN1Time) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let d = t.to_datetime();
    format!(
        "{} {:>2} {:02}:{:02}:{:02} {} GMT",
        MONTHS[usize::from(u8::from(d.month())) - 1],
        d.day(),
        d.hour(),
        d.minute(),
        d.second(),
        d.year()
    )
}

/// HAProxy's `cert_get_pkey_algo`: `RSA2048`, `EC256`, `DSA2048`; `None` for other key
/// types (Ed25519…).
fn key_algorithm(x: &x509_parser::certificate::X509Certificate<'_>) -> Option<String> {
    use x509_parser::public_key::PublicKey;
    let spki = x.public_key();
    match spki.parsed().ok()? {
        PublicKey::RSA(rsa) => Some(format!("RSA{}", rsa.key_size())),
        PublicKey::EC(_) => {
            let curve = curve_oid(spki);
            let bits = match curve.as_str() {
                "1.2.840.10045.3.1.7" => 256,
                "1.3.132.0.34" => 384,
                "1.3.132.0.35" => 521,
                "1.3.132.0.10" => 256,
                "1.2.840.10045.3.1.1" => 192,
                "1.3.132.0.33" => 224,
                _ => 0,
            };
            Some(format!("EC{bits}"))
        }
        PublicKey::DSA(p) => Some(format!("DSA{}", significant_bits(p))),
        _ => None,
    }
}

fn significant_bits(be: &[u8]) -> usize {
    let mut i = 0;
    while i < be.len() && be[i] == 0 {
        i += 1;
    }
    match be.get(i) {
        Some(b) => (be.len() - i) * 8 - b.leading_zeros() as usize,
        None => 0,
    }
}

/// One DER element: its tag, its contents, the whole element, and what follows it.
pub(crate) type Tlv<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

/// The first DER element of `der`.
pub(crate) fn tlv(der: &[u8]) -> Option<Tlv<'_>> {
    let tag = *der.first()?;
    let first = *der.get(1)?;
    let (len, head) = if first < 0x80 {
        (first as usize, 2)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *der.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = head.checked_add(len)?;
    let whole = der.get(..end)?;
    Some((tag, &whole[head..], whole, &der[end..]))
}

/// The DER `CertID` of an OCSP response's first single response (what HAProxy keys its
/// OCSP tree with and prints as `OCSP Response Key`).
pub fn ocsp_cert_id(resp: &[u8]) -> Option<Vec<u8>> {
    // OCSPResponse ::= SEQUENCE { responseStatus, responseBytes [0] EXPLICIT SEQUENCE {
    //   responseType OID, response OCTET STRING (BasicOCSPResponse) } }
    let (_, body, _, _) = tlv(resp)?;
    let (_, _, _, rest) = tlv(body)?; // responseStatus
    let (_, explicit, _, _) = tlv(rest)?; // [0]
    let (_, rb, _, _) = tlv(explicit)?; // responseBytes
    let (_, _, _, rest) = tlv(rb)?; // responseType
    let (_, basic_der, _, _) = tlv(rest)?; // OCTET STRING
    let (_, basic, _, _) = tlv(basic_der)?; // BasicOCSPResponse
    let (_, tbs, _, _) = tlv(basic)?; // tbsResponseData
    let mut cur = tbs;
    // [0] version (optional), responderID ([1] or [2]), producedAt, responses.
    let (tag, _, _, rest) = tlv(cur)?;
    if tag == 0xa0 {
        cur = rest;
        let (_, _, _, rest) = tlv(cur)?;
        cur = rest;
    } else {
        cur = rest;
    }
    let (_, _, _, rest) = tlv(cur)?; // producedAt
    let (_, responses, _, _) = tlv(rest)?;
    let (_, single, _, _) = tlv(responses)?;
    let (_, _, cert_id, _) = tlv(single)?;
    Some(cert_id.to_vec())
}

/// The dotted OID of an EC key's named curve (empty when the parameters name none).
pub(super) fn curve_oid(spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) -> String {
    spki.algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn der_elements_and_bits() {
        let (tag, body, whole, rest) = super::tlv(&[0x30, 0x03, 0x0a, 0x01, 0x00, 0xff]).unwrap();
        assert_eq!(
            (tag, body, whole.len(), rest),
            (0x30, &[0x0a, 1, 0][..], 5, &[0xff][..])
        );
        assert!(super::tlv(&[0x30, 0x05, 0x00]).is_none());
        assert_eq!(super::significant_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(super::significant_bits(&[0x01]), 1);
        // A response without responseBytes has no key.
        assert!(super::ocsp_cert_id(&[0x30, 0x03, 0x0a, 0x01, 0x00]).is_none());
    }
}
