//! `show ssl ocsp-response [<id>]` and `set ssl ocsp-response <base64|payload>`
//! (management.txt 9.3), with HAProxy 2.6's replies: the OCSP responses stapled, keyed by
//! the DER certificate ID HAProxy keys its OCSP tree with, and their replacement — checked
//! as at load (`crate::tls::ocsp::check`) — stapled by new handshakes at once. One
//! response's contents print as OpenSSL's `OCSP_RESPONSE_print` (`crate::tls::ocsp_print`).

use super::session::Outcome;
use super::{Level, table::need};
use crate::tls::cert_info::{ocsp_cert_id, tlv};
use crate::tls::store;
use rustls::sign::CertifiedKey;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use std::sync::Arc;

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn hex_upper(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// HAProxy's `ocsp_certid_print` of a DER `CertID` (hash algorithm, issuer name hash,
/// issuer key hash, serial number), at indent 1.
fn cert_id_lines(id: &[u8]) -> String {
    let parts = (|| {
        let (_, body, _, _) = tlv(id)?;
        let (_, _, _, rest) = tlv(body)?; // hashAlgorithm
        let (_, name, _, rest) = tlv(rest)?;
        let (_, key, _, rest) = tlv(rest)?;
        let (_, serial, _, _) = tlv(rest)?;
        Some((name, key, serial))
    })();
    let Some((name, key, serial)) = parts else {
        return String::new();
    };
    let serial = match serial.iter().position(|&b| b != 0) {
        Some(i) => &serial[i..],
        None => &[0][..],
    };
    format!(
        " Certificate ID:\n   Issuer Name Hash: {}\n   Issuer Key Hash: {}\n   Serial Number: {}\n",
        hex_upper(name),
        hex_upper(key),
        hex_upper(serial)
    )
}

/// The stapled responses by certificate ID, in HAProxy's tree order (bytes).
fn by_id() -> Vec<(Vec<u8>, String, Arc<CertifiedKey>)> {
    let mut out: Vec<(Vec<u8>, String, Arc<CertifiedKey>)> = store::stapled()
        .into_iter()
        .filter_map(|(p, k)| Some((ocsp_cert_id(k.ocsp.as_deref()?)?, p, k)))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// `show ssl ocsp-response [<id>]`.
pub fn show(arg: &str) -> Outcome {
    let all = by_id();
    if arg.is_empty() {
        let mut out = String::from("# Certificate IDs\n");
        for (id, _, _) in &all {
            out.push_str(&format!("Certificate ID key : {}\n", hex_lower(id)));
            out.push_str(&cert_id_lines(id));
        }
        return Outcome::text(out);
    }
    // HAProxy 2.6 reads the ID as hex into a 128-byte key padded with zeros.
    const KEY_MAX: usize = 128;
    if arg.len() > KEY_MAX * 2 {
        return Outcome::text("'show ssl ocsp-response' received a too big key.\n");
    }
    let key = (arg.len().is_multiple_of(2) && arg.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| {
            (0..arg.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(arg.get(i..i + 2)?, 16).ok())
                .collect::<Option<Vec<u8>>>()
        })
        .flatten();
    let padded = |b: &[u8]| {
        let mut v = b.to_vec();
        v.resize(KEY_MAX.max(b.len()), 0);
        v
    };
    let found = key.and_then(|k| {
        let k = padded(&k);
        all.iter().find(|(id, _, _)| padded(id) == k)
    });
    let Some((_, _, ck)) = found else {
        return Outcome::text("Certificate ID does not match any certificate.\n");
    };
    match ck
        .ocsp
        .as_deref()
        .and_then(crate::tls::ocsp_print::haproxy_text)
    {
        Some(text) => Outcome::text(text),
        None => Outcome::text("Unable to parse OCSP response"),
    }
}

/// `set ssl ocsp-response <base64>`, or the base64 as a payload.
pub fn set(level: Level, arg: &str, payload: Option<&str>) -> Outcome {
    if let Some(denied) = need(level, Level::Admin) {
        return denied;
    }
    use base64::Engine;
    let text: String = payload
        .unwrap_or(arg)
        .split_whitespace()
        .collect::<Vec<_>>()
        .concat();
    if text.is_empty() {
        return Outcome::text("'set ssl ocsp-response' expects response in base64 encoding.\n");
    }
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(&text) else {
        return Outcome::text(
            "'set ssl ocsp-response' received invalid base64 encoded response.\n",
        );
    };
    // HAProxy ends each reason with a full stop (even one that has its own).
    let fail = |m: String| Outcome::text(format!("{m}.\n"));
    let all = by_id();
    let target = ocsp_cert_id(&der).and_then(|id| all.iter().find(|(i, _, _)| *i == id));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let issuer_of = |path: &str, key: &CertifiedKey| -> Option<CertificateDer<'static>> {
        let file = CertificateDer::from_pem_file(format!("{path}.issuer")).ok();
        crate::tls::ocsp::find_issuer(&key.cert, file.as_ref()).cloned()
    };
    let Some((_, path, key)) = target else {
        // The response's own faults first, checked against any stapled certificate.
        if let Some((_, p, k)) = all.first()
            && let Some(issuer) = issuer_of(p, k)
            && let Err(m) = crate::tls::ocsp::check(&der, &k.cert[0], &issuer, now)
            && !m.contains("Certificate ID does not match")
        {
            return fail(m);
        }
        if ocsp_cert_id(&der).is_none() {
            return fail("Unable to parse OCSP response".into());
        }
        return fail(
            "OCSP single response: Certificate ID does not match any certificate or issuer".into(),
        );
    };
    let Some(issuer) = issuer_of(path, key) else {
        return fail("Unable to find the issuer of the certificate".into());
    };
    if let Err(m) = crate::tls::ocsp::check(&der, &key.cert[0], &issuer, now) {
        return fail(m);
    }
    let mut next = CertifiedKey::clone(key);
    next.ocsp = Some(der);
    match store::install(path, Arc::new(next)) {
        Ok(_) => Outcome::text("OCSP Response updated!\n"),
        Err(e) => fail(e.to_string()),
    }
}
