//! An OCSP response as HAProxy 2.6's `show ssl ocsp-response <id>` prints it
//! (`ssl_ocsp_response_print`): OpenSSL 3's `OCSP_RESPONSE_print` text — status, type,
//! version, responder, production time, each single response (certificate ID, status,
//! revocation, this/next update, extensions), the signature and the certificates the
//! response carries (`X509_print` and PEM, `super::x509_print`) — read through HAProxy's
//! 16383-byte buffer, with a space put on every empty line.

use super::cert_info::tlv;
use super::x509_print::{
    asn1_string_print, i2a_integer, i2a_string, name_oneline, obj_name, oid_string, print_with_pem,
    signature_dump, time_print,
};
use x509_parser::prelude::{FromDer, X509Name};

/// HAProxy reads at most `tune.bufsize - 1` bytes of OpenSSL's text (16384 by default).
const HAPROXY_READ: usize = 16383;

/// The text `show ssl ocsp-response <id>` replies for the DER response `der`; `None`
/// where OpenSSL cannot parse it (`d2i_OCSP_RESPONSE` fails).
pub fn haproxy_text(der: &[u8]) -> Option<String> {
    let mut text = print(der)?;
    if text.len() > HAPROXY_READ {
        text.truncate(HAPROXY_READ);
    }
    Some(text.replace("\n\n", "\n \n").replace("\n\n", "\n \n"))
}

/// One DER element: its tag, its contents, the whole element.
type Element<'a> = (u8, &'a [u8], &'a [u8]);

/// The DER elements of `content`.
fn elements(mut content: &[u8]) -> Option<Vec<Element<'_>>> {
    let mut out = Vec::new();
    while !content.is_empty() {
        let (tag, body, whole, rest) = tlv(content)?;
        out.push((tag, body, whole));
        content = rest;
    }
    Some(out)
}

/// The value of a DER INTEGER or ENUMERATED as OpenSSL's `long` (0 past its range).
fn small_int(content: &[u8]) -> i64 {
    if content.is_empty() || content.len() > 8 {
        return 0;
    }
    let neg = content[0] & 0x80 != 0;
    let mut v: i64 = if neg { -1 } else { 0 };
    for &b in content {
        v = (v << 8) | i64::from(b);
    }
    v
}

/// `OCSP_RESPONSE_print(bio, resp, 0)`.
pub fn print(der: &[u8]) -> Option<String> {
    let (0x30, body, whole, _) = tlv(der)? else {
        return None;
    };
    // d2i reads the first element; what follows it is not looked at.
    let _ = whole;
    let top = elements(body)?;
    let &(0x0a, status, _) = top.first()? else {
        return None;
    };
    let status = small_int(status);
    let mut o = String::from("OCSP Response Data:\n");
    let status_str = match status {
        0 => "successful",
        1 => "malformedrequest",
        2 => "internalerror",
        3 => "trylater",
        5 => "sigrequired",
        6 => "unauthorized",
        _ => "(UNKNOWN)",
    };
    o.push_str(&format!(
        "    OCSP Response Status: {status_str} (0x{status:x})\n"
    ));
    let Some(&(0xa0, rb, _)) = top.get(1) else {
        return Some(o);
    };
    let (0x30, rb, _, _) = tlv(rb)? else {
        return None;
    };
    let rb = elements(rb)?;
    let (&(0x06, rtype, _), Some(&(0x04, resp, _))) = (rb.first()?, rb.get(1)) else {
        return None;
    };
    o.push_str("    Response Type: ");
    let rtype = oid_string(rtype);
    o.push_str(&obj_name(&rtype));
    if rtype != "1.3.6.1.5.5.7.48.1.1" {
        o.push_str(" (unknown response type)\n");
        return Some(o);
    }
    basic(&mut o, resp)?;
    Some(o)
}

/// The `BasicOCSPResponse` part of the text, from its DER.
fn basic(o: &mut String, der: &[u8]) -> Option<()> {
    let (0x30, body, _, _) = tlv(der)? else {
        return None;
    };
    let parts = elements(body)?;
    let (&(0x30, tbs, _), &(0x30, sig_alg, _), &(0x03, sig, _)) =
        (parts.first()?, parts.get(1)?, parts.get(2)?)
    else {
        return None;
    };
    let mut tbs = elements(tbs)?.into_iter().peekable();
    let version = match tbs.peek() {
        Some(&(0xa0, v, _)) => {
            tbs.next();
            let (0x02, v, _, _) = tlv(v)? else {
                return None;
            };
            small_int(v)
        }
        _ => 0,
    };
    o.push_str(&format!(
        "\n    Version: {} (0x{version:x})\n    Responder Id: ",
        version + 1
    ));
    match tbs.next()? {
        (0xa1, name, _) => {
            let (_, n) = <X509Name<'_> as FromDer<'_, _>>::from_der(name).ok()?;
            o.push_str(&name_oneline(&n));
        }
        (0xa2, key, _) => {
            let (0x04, key, _, _) = tlv(key)? else {
                return None;
            };
            o.push_str(&i2a_string(key));
        }
        _ => return None,
    }
    let (0x18, produced, _) = tbs.next()? else {
        return None;
    };
    o.push_str(&format!(
        "\n    Produced At: {}\n    Responses:\n",
        time_print(0x18, produced)?
    ));
    let (0x30, responses, _) = tbs.next()? else {
        return None;
    };
    for (tag, single, _) in elements(responses)? {
        if tag != 0x30 {
            return None;
        }
        single_response(o, single)?;
    }
    if let Some((0xa1, exts, _)) = tbs.next() {
        extensions(o, "Response Extensions", exts, 4)?;
    }
    let alg = elements(sig_alg)?;
    let &(0x06, alg_oid, _) = alg.first()? else {
        return None;
    };
    o.push_str(&format!(
        "    Signature Algorithm: {}\n    Signature Value:\n",
        obj_name(&oid_string(alg_oid))
    ));
    // A BIT STRING's first byte counts its unused bits.
    signature_dump(o, sig.get(1..)?, 8);
    if let Some(&(0xa0, certs, _)) = parts.get(3) {
        let (0x30, certs, _, _) = tlv(certs)? else {
            return None;
        };
        for (_, _, cert) in elements(certs)? {
            o.push_str(&print_with_pem(cert)?);
        }
    }
    Some(())
}

/// One `SingleResponse`.
fn single_response(o: &mut String, der: &[u8]) -> Option<()> {
    let mut it = elements(der)?.into_iter();
    let (0x30, cert_id, _) = it.next()? else {
        return None;
    };
    let id = elements(cert_id)?;
    let (&(0x30, alg, _), &(0x04, name, _), &(0x04, key, _), &(0x02, serial, _)) =
        (id.first()?, id.get(1)?, id.get(2)?, id.get(3)?)
    else {
        return None;
    };
    let (0x06, alg, _, _) = tlv(alg)? else {
        return None;
    };
    o.push_str(&format!(
        "    Certificate ID:\n      Hash Algorithm: {}\n      Issuer Name Hash: {}\n      Issuer Key Hash: {}\n      Serial Number: {}\n",
        obj_name(&oid_string(alg)),
        i2a_string(name),
        i2a_string(key),
        i2a_integer(serial)
    ));
    let (status_tag, status, _) = it.next()?;
    let status_str = match status_tag {
        0x80 => "good",
        0xa1 => "revoked",
        0x82 => "unknown",
        _ => return None,
    };
    o.push_str(&format!("    Cert Status: {status_str}"));
    if status_tag == 0xa1 {
        let rev = elements(status)?;
        let &(0x18, when, _) = rev.first()? else {
            return None;
        };
        o.push_str(&format!(
            "\n    Revocation Time: {}",
            time_print(0x18, when)?
        ));
        if let Some(&(0xa0, reason, _)) = rev.get(1) {
            let (0x0a, reason, _, _) = tlv(reason)? else {
                return None;
            };
            let r = small_int(reason);
            let name = match r {
                0 => "unspecified",
                1 => "keyCompromise",
                2 => "cACompromise",
                3 => "affiliationChanged",
                4 => "superseded",
                5 => "cessationOfOperation",
                6 => "certificateHold",
                8 => "removeFromCRL",
                9 => "privilegeWithdrawn",
                10 => "aACompromise",
                _ => "(UNKNOWN)",
            };
            o.push_str(&format!("\n    Revocation Reason: {name} (0x{r:x})"));
        }
    }
    let (0x18, this, _) = it.next()? else {
        return None;
    };
    o.push_str(&format!("\n    This Update: {}", time_print(0x18, this)?));
    let mut single_exts = None;
    for (tag, body, _) in it {
        match tag {
            0xa0 => {
                let (0x18, next, _, _) = tlv(body)? else {
                    return None;
                };
                o.push_str(&format!("\n    Next Update: {}", time_print(0x18, next)?));
            }
            0xa1 => single_exts = Some(body),
            _ => return None,
        }
    }
    o.push('\n');
    if let Some(exts) = single_exts {
        extensions(o, "Response Single Extensions", exts, 8)?;
    }
    o.push('\n');
    Some(())
}

/// `X509V3_extensions_print` of an `[n] EXPLICIT Extensions`' contents.
fn extensions(o: &mut String, title: &str, explicit: &[u8], indent: usize) -> Option<()> {
    let (0x30, list, _, _) = tlv(explicit)? else {
        return None;
    };
    let list = elements(list)?;
    if list.is_empty() {
        return Some(());
    }
    o.push_str(&format!("{:indent$}{title}:\n", ""));
    let indent = indent + 4;
    for (_, ext, _) in list {
        let parts = elements(ext)?;
        let &(0x06, oid, _) = parts.first()? else {
            return None;
        };
        let critical = parts
            .get(1)
            .is_some_and(|&(t, v, _)| t == 0x01 && v.first().is_some_and(|&b| b != 0));
        let &(0x04, value, _) = parts.last()? else {
            return None;
        };
        let oid = oid_string(oid);
        o.push_str(&format!(
            "{:indent$}{}: {}\n",
            "",
            obj_name(&oid),
            if critical { "critical" } else { "" }
        ));
        let vpad = indent + 4;
        if oid == "1.3.6.1.5.5.7.48.1.2" {
            // i2r_ocsp_nonce: the raw value (its inner OCTET STRING header included).
            o.push_str(&format!("{:vpad$}{}", "", i2a_string(value)));
        } else {
            o.push_str(&format!("{:vpad$}{}", "", asn1_string_print(value)));
        }
        o.push('\n');
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_without_bytes_prints_its_status_only() {
        assert_eq!(
            haproxy_text(&[0x30, 0x03, 0x0a, 0x01, 0x03]).unwrap(),
            "OCSP Response Data:\n    OCSP Response Status: trylater (0x3)\n"
        );
        assert!(haproxy_text(b"junk").is_none());
    }
}
