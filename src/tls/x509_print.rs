//! A certificate in OpenSSL 3's `X509_print` text form and `PEM_write_bio_X509`'s PEM,
//! and the OpenSSL text helpers it shares with the OCSP printer (`super::ocsp_print`):
//! object names (`i2a_ASN1_OBJECT`), `ASN1_TIME_print`, the colon hex dumps and the
//! two one-line name forms. Covers the certificates the tests and usual CAs make (RSA and
//! EC keys; the key identifier, basic-constraints, key-usage, extended-key-usage and
//! alternative-name extensions); another extension's value is printed raw as OpenSSL
//! prints an extension it has no printer for.

use super::cert_info::{asn1_print, tlv};
use super::facts::entries;
use x509_parser::prelude::*;

/// OpenSSL's long name of an OID (`OBJ_obj2txt` with names), else its dotted form.
pub(crate) fn obj_name(oid: &str) -> String {
    match oid {
        "1.3.6.1.5.5.7.48.1.1" => "Basic OCSP Response",
        "1.3.6.1.5.5.7.48.1.2" => "OCSP Nonce",
        "1.3.6.1.5.5.7.48.1.3" => "OCSP CRL ID",
        "1.3.6.1.5.5.7.48.1.5" => "OCSP No Check",
        "1.3.14.3.2.26" => "sha1",
        "2.16.840.1.101.3.4.2.1" => "sha256",
        "2.16.840.1.101.3.4.2.2" => "sha384",
        "2.16.840.1.101.3.4.2.3" => "sha512",
        "2.16.840.1.101.3.4.2.4" => "sha224",
        "1.2.840.113549.2.5" => "md5",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.2.840.113549.1.1.1" => "rsaEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.2.840.10045.2.1" => "id-ecPublicKey",
        "1.3.101.112" => "ED25519",
        "1.3.101.113" => "ED448",
        "2.5.29.14" => "X509v3 Subject Key Identifier",
        "2.5.29.15" => "X509v3 Key Usage",
        "2.5.29.17" => "X509v3 Subject Alternative Name",
        "2.5.29.18" => "X509v3 Issuer Alternative Name",
        "2.5.29.19" => "X509v3 Basic Constraints",
        "2.5.29.31" => "X509v3 CRL Distribution Points",
        "2.5.29.32" => "X509v3 Certificate Policies",
        "2.5.29.35" => "X509v3 Authority Key Identifier",
        "2.5.29.37" => "X509v3 Extended Key Usage",
        "1.3.6.1.5.5.7.1.1" => "Authority Information Access",
        "1.3.6.1.5.5.7.3.1" => "TLS Web Server Authentication",
        "1.3.6.1.5.5.7.3.2" => "TLS Web Client Authentication",
        "1.3.6.1.5.5.7.3.3" => "Code Signing",
        "1.3.6.1.5.5.7.3.4" => "E-mail Protection",
        "1.3.6.1.5.5.7.3.8" => "Time Stamping",
        "1.3.6.1.5.5.7.3.9" => "OCSP Signing",
        "2.5.29.37.0" => "Any Extended Key Usage",
        other => return other.to_owned(),
    }
    .to_owned()
}

/// The dotted form of a DER OID's contents.
pub(crate) fn oid_string(content: &[u8]) -> String {
    x509_parser::der_parser::oid::Oid::new(content.into()).to_id_string()
}

/// `X509_signature_dump`: lower-case hex with colons, 18 bytes a line at `indent`.
pub(crate) fn signature_dump(out: &mut String, sig: &[u8], indent: usize) {
    colon_lines(out, sig, indent, 18);
}

/// Lower-case colon hex, `per` bytes a line at `indent`, each line ended.
fn colon_lines(out: &mut String, data: &[u8], indent: usize, per: usize) {
    for (i, b) in data.iter().enumerate() {
        if i % per == 0 {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&format!("{b:02x}"));
        if i + 1 != data.len() {
            out.push(':');
        }
    }
    out.push('\n');
}

/// `i2a_ASN1_STRING`: upper-case hex, a `\` line break every 35 bytes, `0` when empty.
pub(crate) fn i2a_string(b: &[u8]) -> String {
    if b.is_empty() {
        return "0".into();
    }
    let mut s = String::new();
    for (i, x) in b.iter().enumerate() {
        if i > 0 && i % 35 == 0 {
            s.push_str("\\\n");
        }
        s.push_str(&format!("{x:02X}"));
    }
    s
}

/// `i2a_ASN1_INTEGER` of a DER INTEGER's contents: its magnitude in upper-case hex.
pub(crate) fn i2a_integer(content: &[u8]) -> String {
    let neg = content.first().is_some_and(|b| b & 0x80 != 0);
    let mag = if neg {
        twos_complement(content)
    } else {
        let i = content
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(content.len());
        content[i..].to_vec()
    };
    if mag.is_empty() {
        return "00".into();
    }
    let s = i2a_string(&mag);
    if neg { format!("-{s}") } else { s }
}

fn twos_complement(content: &[u8]) -> Vec<u8> {
    let mut v: Vec<u8> = content.iter().map(|b| !b).collect();
    for b in v.iter_mut().rev() {
        let (n, carry) = b.overflowing_add(1);
        *b = n;
        if !carry {
            break;
        }
    }
    let i = v.iter().position(|&b| b != 0).unwrap_or(v.len());
    v[i..].to_vec()
}

/// `ASN1_TIME_print` of a DER UTCTime (tag 0x17) or GeneralizedTime (0x18) element's
/// contents, fractions of a second kept: `Dec  7 08:00:00 2026 GMT`.
pub(crate) fn time_print(tag: u8, content: &[u8]) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let s = std::str::from_utf8(content).ok()?;
    let (year, rest) = if tag == 0x17 {
        let y: u32 = s.get(..2)?.parse().ok()?;
        (if y < 50 { 2000 + y } else { 1900 + y }, &s[2..])
    } else {
        (s.get(..4)?.parse().ok()?, &s[4..])
    };
    let num = |r: std::ops::Range<usize>| -> Option<u32> { rest.get(r)?.parse().ok() };
    let (mo, d, h, mi, sec) = (num(0..2)?, num(2..4)?, num(4..6)?, num(6..8)?, num(8..10)?);
    let tail = &rest[10..];
    let (frac, zone) = match tail.strip_prefix('.') {
        Some(t) => {
            let n = t.bytes().take_while(u8::is_ascii_digit).count();
            (&tail[..n + 1], &t[n..])
        }
        None => ("", tail),
    };
    let month = MONTHS.get(usize::try_from(mo).ok()?.checked_sub(1)?)?;
    let gmt = if zone == "Z" { " GMT" } else { "" };
    Some(format!(
        "{month} {d:>2} {h:02}:{mi:02}:{sec:02}{frac} {year}{gmt}"
    ))
}

/// `X509_NAME_print` (`XN_FLAG_COMPAT`): `X509_NAME_oneline`'s `/O=Org/CN=name` with the
/// slashes before an attribute turned into `, `.
pub(crate) fn name_compat(n: &X509Name<'_>) -> String {
    let oneline: String = entries(n)
        .iter()
        .map(|(k, v)| format!("/{k}={}", oneline_escape(v)))
        .collect();
    let Some(b) = oneline.strip_prefix('/') else {
        return String::new();
    };
    let bytes = b.as_bytes();
    let mut out = String::new();
    let mut start = 0;
    for i in 0..=bytes.len() {
        let at_attr = i < bytes.len()
            && bytes[i] == b'/'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_uppercase)
            && (bytes.get(i + 2) == Some(&b'=')
                || (bytes.get(i + 2).is_some_and(u8::is_ascii_uppercase)
                    && bytes.get(i + 3) == Some(&b'=')));
        if at_attr || i == bytes.len() {
            out.push_str(&b[start..i]);
            start = i + 1;
            if i < bytes.len() {
                out.push_str(", ");
            }
        }
    }
    out
}

fn oneline_escape(v: &str) -> String {
    let mut s = String::new();
    for c in v.chars() {
        if (' '..='~').contains(&c) {
            s.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                s.push_str(&format!("\\x{b:02X}"));
            }
        }
    }
    s
}

/// `X509_NAME_print_ex` with `XN_FLAG_ONELINE`: `O = Org, CN = name`.
pub(crate) fn name_oneline(n: &X509Name<'_>) -> String {
    entries(n)
        .iter()
        .map(|(k, v)| {
            let special = v
                .chars()
                .any(|c| matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';'))
                || v.starts_with(['#', ' '])
                || v.ends_with(' ');
            let v = if special {
                let inner: String = v
                    .chars()
                    .flat_map(|c| {
                        let esc = matches!(c, '"' | '\\').then_some('\\');
                        esc.into_iter().chain(std::iter::once(c))
                    })
                    .collect();
                format!("\"{inner}\"")
            } else {
                oneline_escape(v)
            };
            format!("{k} = {v}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `X509_print` followed by `PEM_write_bio_X509` of one DER certificate; `None` if it
/// does not parse.
pub fn print_with_pem(der: &[u8]) -> Option<String> {
    let (_, x) = X509Certificate::from_der(der).ok()?;
    let mut o = String::from("Certificate:\n    Data:\n");
    let v = x.version().0;
    o.push_str(&format!("        Version: {} (0x{v:x})\n", v + 1));
    o.push_str("        Serial Number:");
    let serial = x.raw_serial();
    let mag = {
        let i = serial.iter().position(|&b| b != 0).unwrap_or(serial.len());
        &serial[i..]
    };
    if mag.len() < 8 || (mag.len() == 8 && mag[0] & 0x80 == 0) {
        let n = mag.iter().fold(0u64, |a, &b| (a << 8) | u64::from(b));
        o.push_str(&format!(" {n} (0x{n:x})\n"));
    } else {
        o.push_str(&format!("\n{:12}", ""));
        for (i, b) in mag.iter().enumerate() {
            let sep = if i + 1 == mag.len() { '\n' } else { ':' };
            o.push_str(&format!("{b:02x}{sep}"));
        }
    }
    let tbs_alg = obj_name(&x.tbs_certificate.signature.algorithm.to_id_string());
    o.push_str(&format!("        Signature Algorithm: {tbs_alg}\n"));
    o.push_str(&format!("        Issuer: {}\n", name_compat(x.issuer())));
    let val = x.validity();
    o.push_str("        Validity\n");
    o.push_str(&format!(
        "            Not Before: {}\n",
        asn1_print(&val.not_before)
    ));
    o.push_str(&format!(
        "            Not After : {}\n",
        asn1_print(&val.not_after)
    ));
    o.push_str(&format!("        Subject: {}\n", name_compat(x.subject())));
    o.push_str("        Subject Public Key Info:\n");
    let spki = x.public_key();
    o.push_str(&format!(
        "            Public Key Algorithm: {}\n",
        obj_name(&spki.algorithm.algorithm.to_id_string())
    ));
    public_key(&mut o, spki);
    let exts = x.extensions();
    if !exts.is_empty() {
        o.push_str("        X509v3 extensions:\n");
        for e in exts {
            extension(&mut o, e, 12);
        }
    }
    o.push_str(&format!(
        "    Signature Algorithm: {}\n    Signature Value:\n",
        obj_name(&x.signature_algorithm.algorithm.to_id_string())
    ));
    signature_dump(&mut o, &x.signature_value.data, 8);
    o.push_str(&pem(der));
    Some(o)
}

/// `PEM_write_bio_X509`: base64 in lines of 64.
fn pem(der: &[u8]) -> String {
    use base64::Engine;
    let b = base64::engine::general_purpose::STANDARD.encode(der);
    let mut s = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in b.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        s.push('\n');
    }
    s.push_str("-----END CERTIFICATE-----\n");
    s
}

/// `EVP_PKEY_print_public` at indent 16 (OpenSSL 3's text encoders).
fn public_key(o: &mut String, spki: &SubjectPublicKeyInfo<'_>) {
    use x509_parser::public_key::PublicKey;
    let pad = " ".repeat(16);
    match spki.parsed() {
        Ok(PublicKey::EC(point)) => {
            let curve = super::cert_info::curve_oid(spki);
            let (bits, sn, nist) = match curve.as_str() {
                "1.2.840.10045.3.1.7" => (256, "prime256v1", Some("P-256")),
                "1.3.132.0.34" => (384, "secp384r1", Some("P-384")),
                "1.3.132.0.35" => (521, "secp521r1", Some("P-521")),
                "1.3.132.0.10" => (256, "secp256k1", None),
                _ => (0, curve.as_str(), None),
            };
            o.push_str(&format!("{pad}Public-Key: ({bits} bit)\n{pad}pub:\n"));
            colon_lines(o, point.data(), 20, 15);
            o.push_str(&format!("{pad}ASN1 OID: {sn}\n"));
            if let Some(n) = nist {
                o.push_str(&format!("{pad}NIST CURVE: {n}\n"));
            }
        }
        Ok(PublicKey::RSA(rsa)) => {
            o.push_str(&format!(
                "{pad}Public-Key: ({} bit)\n{pad}Modulus:\n",
                rsa.key_size()
            ));
            let m = rsa
                .modulus
                .iter()
                .position(|&b| b != 0)
                .map_or(&[][..], |i| &rsa.modulus[i..]);
            let mut m = m.to_vec();
            if m.first().is_some_and(|b| b & 0x80 != 0) {
                m.insert(0, 0);
            }
            colon_lines(o, &m, 20, 15);
            let e = rsa
                .exponent
                .iter()
                .fold(0u64, |a, &b| (a << 8) | u64::from(b));
            o.push_str(&format!("{pad}Exponent: {e} (0x{e:x})\n"));
        }
        _ => {}
    }
}

/// One entry of `X509V3_extensions_print`: its name, `critical`, its value a level in.
pub(crate) fn extension(o: &mut String, e: &X509Extension<'_>, indent: usize) {
    let pad = " ".repeat(indent);
    let vpad = " ".repeat(indent + 4);
    let crit = if e.critical { "critical" } else { "" };
    o.push_str(&format!(
        "{pad}{}: {crit}\n",
        obj_name(&e.oid.to_id_string())
    ));
    let hex_colon = |b: &[u8]| {
        b.iter()
            .map(|x| format!("{x:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    let line = match e.parsed_extension() {
        ParsedExtension::SubjectKeyIdentifier(k) => Some(hex_colon(k.0)),
        ParsedExtension::AuthorityKeyIdentifier(a)
            if a.authority_cert_issuer.is_none() && a.authority_cert_serial.is_none() =>
        {
            a.key_identifier.as_ref().map(|k| hex_colon(k.0))
        }
        ParsedExtension::BasicConstraints(b) => Some(match (b.ca, b.path_len_constraint) {
            (true, Some(n)) => format!("CA:TRUE, pathlen:{n}"),
            (true, None) => "CA:TRUE".into(),
            (false, _) => "CA:FALSE".into(),
        }),
        ParsedExtension::KeyUsage(k) => {
            const NAMES: [&str; 9] = [
                "Digital Signature",
                "Non Repudiation",
                "Key Encipherment",
                "Data Encipherment",
                "Key Agreement",
                "Certificate Sign",
                "CRL Sign",
                "Encipher Only",
                "Decipher Only",
            ];
            let set: Vec<&str> = (0..9)
                .filter(|i| k.flags & (1 << i) != 0)
                .map(|i| NAMES[i])
                .collect();
            Some(set.join(", "))
        }
        ParsedExtension::ExtendedKeyUsage(_) => eku_names(e.value),
        ParsedExtension::AuthorityInfoAccess(aia) => {
            // Multi-line: one access description a line.
            let mut lines = Vec::new();
            for d in &aia.accessdescs {
                let method = match d.access_method.to_id_string().as_str() {
                    "1.3.6.1.5.5.7.48.1" => "OCSP".to_owned(),
                    "1.3.6.1.5.5.7.48.2" => "CA Issuers".to_owned(),
                    other => obj_name(other),
                };
                let Some(loc) = general_name(&d.access_location) else {
                    return raw_value(o, e, &vpad);
                };
                lines.push(format!("{vpad}{method} - {loc}"));
            }
            o.push_str(&lines.join("\n"));
            o.push('\n');
            return;
        }
        ParsedExtension::CRLDistributionPoints(dps) => {
            // i2r_crldp: each point's full names, one a line.
            for (i, p) in dps.points.iter().enumerate() {
                if i > 0 {
                    o.push('\n');
                }
                let Some(DistributionPointName::FullName(names)) = &p.distribution_point else {
                    return raw_value(o, e, &vpad);
                };
                o.push_str(&format!("{vpad}Full Name:\n"));
                for (j, n) in names.iter().enumerate() {
                    if j > 0 {
                        o.push('\n');
                    }
                    let Some(g) = general_name(n) else {
                        return raw_value(o, e, &vpad);
                    };
                    o.push_str(&format!("{vpad}  {g}"));
                }
            }
            o.push('\n');
            return;
        }
        ParsedExtension::SubjectAlternativeName(san) => {
            let mut parts = Vec::new();
            for n in &san.general_names {
                let Some(g) = general_name(n) else {
                    return raw_value(o, e, &vpad);
                };
                parts.push(g);
            }
            Some(parts.join(", "))
        }
        _ => None,
    };
    match line {
        Some(l) => o.push_str(&format!("{vpad}{l}\n")),
        None => raw_value(o, e, &vpad),
    }
}

/// `GENERAL_NAME_print` of the usual kinds of name.
fn general_name(n: &GeneralName<'_>) -> Option<String> {
    Some(match n {
        GeneralName::DNSName(d) => format!("DNS:{d}"),
        GeneralName::RFC822Name(m) => format!("email:{m}"),
        GeneralName::URI(u) => format!("URI:{u}"),
        GeneralName::IPAddress(ip) => match ip.len() {
            4 => format!("IP Address:{}.{}.{}.{}", ip[0], ip[1], ip[2], ip[3]),
            16 => {
                let a: [u8; 16] = (*ip).try_into().ok()?;
                let groups: Vec<String> = a
                    .chunks(2)
                    .map(|c| format!("{:X}", u16::from_be_bytes([c[0], c[1]])))
                    .collect();
                format!("IP Address:{}", groups.join(":"))
            }
            _ => "IP Address:<invalid>".into(),
        },
        _ => return None,
    })
}

/// The purposes of an extended-key-usage value, by OpenSSL's names, comma-separated.
fn eku_names(value: &[u8]) -> Option<String> {
    let (_, mut rest, _, _) = tlv(value)?;
    let mut names = Vec::new();
    while !rest.is_empty() {
        let (_, oid, _, r) = tlv(rest)?;
        names.push(obj_name(&oid_string(oid)));
        rest = r;
    }
    Some(names.join(", "))
}

/// What OpenSSL prints for an extension it has no printer for: `ASN1_STRING_print` of the
/// raw value (unprintable bytes as `.`).
fn raw_value(o: &mut String, e: &X509Extension<'_>, vpad: &str) {
    o.push_str(vpad);
    o.push_str(&asn1_string_print(e.value));
    o.push('\n');
}

/// `ASN1_STRING_print`: printable bytes as they are, others as `.`, a line break every
/// 80.
pub(crate) fn asn1_string_print(b: &[u8]) -> String {
    let mut s = String::new();
    for (i, &c) in b.iter().enumerate() {
        if i > 0 && i % 80 == 0 {
            s.push('\n');
        }
        s.push(
            if (c == b'\n' || c == b'\r' || (b' '..=b'~').contains(&c)) && c != 0 {
                c as char
            } else {
                '.'
            },
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_text_helpers() {
        assert_eq!(
            time_print(0x18, b"20261207080000Z").unwrap(),
            "Dec  7 08:00:00 2026 GMT"
        );
        assert_eq!(
            time_print(0x18, b"20261217080000.25Z").unwrap(),
            "Dec 17 08:00:00.25 2026 GMT"
        );
        assert_eq!(
            time_print(0x17, b"491231235959Z").unwrap(),
            "Dec 31 23:59:59 2049 GMT"
        );
        assert_eq!(i2a_integer(&[0x00, 0x80]), "80");
        assert_eq!(i2a_integer(&[0x10, 0x02]), "1002");
        assert_eq!(i2a_integer(&[0xff]), "-01");
        assert_eq!(i2a_integer(&[]), "00");
        assert_eq!(i2a_string(&[]), "0");
        assert_eq!(i2a_string(&[0xab; 36]).matches("\\\n").count(), 1);
        let mut s = String::new();
        signature_dump(&mut s, &[1; 19], 8);
        assert_eq!(
            s,
            format!("{}{}01:\n        01\n", " ".repeat(8), "01:".repeat(17))
        );
        assert_eq!(obj_name("1.2.3.4"), "1.2.3.4");
        assert_eq!(asn1_string_print(b"a\x00b"), "a.b");
    }
}
