//! The OCSP response stapled from `FILE.ocsp`, checked at load as HAProxy 2.6 checks it
//! (`ssl_sock_load_ocsp` and `ssl_sock_load_ocsp_response`): the certificate's issuer
//! must be found (in the bundle's chain, else in `FILE.issuer`) to compute its OCSP
//! certificate ID, else the configuration is refused; a response that cannot be parsed,
//! is not `successful`, holds several single responses, says `unknown`, has no
//! `nextUpdate`, is out of its validity window (5 minutes of skew) or is about another
//! certificate is ignored with a warning, and nothing is stapled. It must decode as
//! OpenSSL decodes it first (`super::ocsp_der`).

use rustls_pki_types::CertificateDer;
use x509_parser::asn1_rs::{Any, Class, FromDer};
use x509_parser::prelude::{ASN1Time, X509Certificate};

/// HAProxy's `OCSP_MAX_RESPONSE_TIME_SKEW`: seconds of clock skew allowed.
const SKEW: i64 = 300;

/// The DER of SHA-1's OID (1.3.14.3.2.26), the hash of the certificate IDs HAProxy
/// computes (`OCSP_cert_to_id` with no digest).
const SHA1_OID: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];

/// The DER of id-pkix-ocsp-basic (1.3.6.1.5.5.7.48.1.1).
const BASIC_OID: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01];

/// The certificate of `chain` (or else `issuer_file`) that issued `chain[0]`.
pub fn find_issuer<'a>(
    chain: &'a [CertificateDer<'static>],
    issuer_file: Option<&'a CertificateDer<'static>>,
) -> Option<&'a CertificateDer<'static>> {
    let (_, leaf) = X509Certificate::from_der(chain.first()?.as_ref()).ok()?;
    let issued = |c: &&CertificateDer<'static>| {
        X509Certificate::from_der(c.as_ref())
            .is_ok_and(|(_, x)| x.subject().as_raw() == leaf.issuer().as_raw())
    };
    chain[1..]
        .iter()
        .find(issued)
        .or(issuer_file.filter(issued))
}

/// Checks `der`, the response stapled for `cert` issued by `issuer`, at `now` (seconds
/// since the epoch); `Err`: why it is ignored, in HAProxy's words.
pub fn check(
    der: &[u8],
    cert: &CertificateDer<'_>,
    issuer: &CertificateDer<'_>,
    now: i64,
) -> Result<(), String> {
    let ignored = |m: &str| m.to_owned();
    let parse = || ignored("Unable to parse OCSP response");
    if !super::ocsp_der::envelope_ok(der) {
        return Err(parse());
    }
    let top = one(der).ok_or_else(parse)?;
    let top = children(top.data).ok_or_else(parse)?;
    let status = top.first().ok_or_else(parse)?;
    if status.0.header.tag().0 != 10 {
        return Err(parse());
    }
    if status.0.data != [0] {
        return Err(ignored("OCSP response status not successful"));
    }
    let basic = || ignored("Failed to get basic response from OCSP Response");
    // responseBytes [0] EXPLICIT SEQUENCE { responseType OID, response OCTET STRING }
    let bytes = top
        .get(1)
        .filter(|a| a.0.header.class() == Class::ContextSpecific)
        .and_then(|a| one(a.0.data))
        .and_then(|s| children(s.data))
        .ok_or_else(basic)?;
    if bytes.first().map(|a| a.0.data) != Some(BASIC_OID)
        || !bytes
            .get(1)
            .is_some_and(|o| super::ocsp_der::basic_ok(o.0.data))
    {
        return Err(basic());
    }
    let basic_resp = bytes
        .get(1)
        .and_then(|o| one(o.0.data))
        .and_then(|s| children(s.data))
        .ok_or_else(basic)?;
    // tbsResponseData: [0] version?, responderID, producedAt, responses, [1] extensions?
    let tbs = basic_resp
        .first()
        .and_then(|t| children(t.0.data))
        .ok_or_else(basic)?;
    let responses = tbs
        .iter()
        .rfind(|a| a.0.header.class() == Class::Universal && a.0.header.tag().0 == 16)
        .ok_or_else(basic)?;
    let singles = children(responses.0.data).ok_or_else(basic)?;
    if singles.len() > 1 {
        return Err(format!(
            "OCSP response ignored because contains multiple single responses ({})",
            singles.len()
        ));
    }
    let single = singles
        .first()
        .and_then(|s| children(s.0.data))
        .ok_or_else(|| ignored("Failed to get OCSP single response"))?;
    // SingleResponse: certID, certStatus, thisUpdate, [0] nextUpdate?, [1] extensions?
    let (Some(cert_id), Some(cert_status), Some(this_update)) =
        (single.first(), single.get(1), single.get(2))
    else {
        return Err(ignored("Failed to get OCSP single response"));
    };
    // good [0] or revoked [1]; unknown [2].
    if cert_status.0.header.class() != Class::ContextSpecific || cert_status.0.header.tag().0 > 1 {
        return Err(ignored(
            "OCSP single response: certificate status is unknown",
        ));
    }
    let next_update = single[3..]
        .iter()
        .find(|a| a.0.header.class() == Class::ContextSpecific && a.0.header.tag().0 == 0)
        .ok_or_else(|| ignored("OCSP single response: missing nextupdate"))?;
    let time = |raw: &[u8]| ASN1Time::from_der(raw).ok().map(|(_, t)| t.timestamp());
    let this = time(this_update.1);
    // [0] EXPLICIT: its content is the GeneralizedTime.
    let next = time(next_update.0.data);
    match (this, next) {
        (Some(t), Some(n)) if t <= now + SKEW && n >= now - SKEW => {}
        _ => return Err(ignored("OCSP single response: no longer valid.")),
    }
    if !same_id(cert_id, cert, issuer) {
        return Err(ignored(
            "OCSP single response: Certificate ID does not match certificate and issuer",
        ));
    }
    Ok(())
}

/// Whether the response's `CertID` is that of `cert` issued by `issuer`, computed as
/// HAProxy computes it (SHA-1 of the issuer's name and key, the serial number).
fn same_id(id: &(Any<'_>, &[u8]), cert: &CertificateDer<'_>, issuer: &CertificateDer<'_>) -> bool {
    use sha1::{Digest, Sha1};
    let (Ok((_, c)), Ok((_, i))) = (
        X509Certificate::from_der(cert.as_ref()),
        X509Certificate::from_der(issuer.as_ref()),
    ) else {
        return false;
    };
    let Some(parts) = children(id.0.data) else {
        return false;
    };
    let [alg, name_hash, key_hash, serial] = &parts[..] else {
        return false;
    };
    let alg_oid = children(alg.0.data).and_then(|a| a.first().map(|o| o.0.data));
    alg_oid == Some(SHA1_OID)
        && name_hash.0.data == Sha1::digest(i.subject().as_raw()).as_slice()
        && key_hash.0.data == Sha1::digest(&i.public_key().subject_public_key.data).as_slice()
        && serial.0.data == c.raw_serial()
}

/// The one DER element `der` holds.
fn one(der: &[u8]) -> Option<Any<'_>> {
    Any::from_der(der).ok().map(|(_, a)| a)
}

/// The elements in `content`, each with its raw DER.
fn children(content: &[u8]) -> Option<Vec<(Any<'_>, &[u8])>> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (r, a) = Any::from_der(rest).ok()?;
        out.push((a, &rest[..rest.len() - r.len()]));
        rest = r;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_that_are_no_response_are_ignored_with_haproxys_words() {
        let c = CertificateDer::from(vec![]);
        assert_eq!(
            check(b"not der", &c, &c, 0).unwrap_err(),
            "Unable to parse OCSP response"
        );
        assert_eq!(
            check(&[0x30, 0x03, 0x0a, 0x01, 0x03], &c, &c, 0).unwrap_err(),
            "OCSP response status not successful"
        );
    }
}
