//! What a finished handshake leaves for the `ssl_fc_*` and `ssl_c_*` fetches: the
//! server name, ALPN protocol, version and cipher, and the client certificate's subject
//! and issuer, serial, SHA-1 fingerprint and end date. Computed once per connection.

use super::suites;
use rustls_pki_types::CertificateDer;

/// The TLS facts of one client connection.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// The server name the client sent (`ssl_fc_sni`).
    pub sni: Option<Box<str>>,
    /// The ALPN protocol agreed (`ssl_fc_alpn`).
    pub alpn: Option<Box<[u8]>>,
    /// `TLSv1.3`, `TLSv1.2` (`ssl_fc_protocol`).
    pub protocol: &'static str,
    /// The cipher's OpenSSL name (`ssl_fc_cipher`).
    pub cipher: &'static str,
    /// The cipher's secret key size in bits (`ssl_fc_use_keysize`).
    pub keysize: u32,
    /// The certificate the client presented (`ssl_c_*`), verified.
    pub client: Option<ClientCert>,
    /// The connection's first TLS error after the handshake (`ssl_fc_err`), set by the
    /// stream that reads it.
    pub error: super::errors::ErrorCell,
}

/// A verified client certificate, as the `ssl_c_*` fetches read it.
#[derive(Clone, Debug, Default)]
pub struct ClientCert {
    /// The subject's entries in order: OpenSSL short name (`CN`, `O`…), value.
    pub subject: Vec<(String, String)>,
    /// The issuer's entries.
    pub issuer: Vec<(String, String)>,
    /// The serial number, big-endian bytes (`ssl_c_serial`).
    pub serial: Vec<u8>,
    /// The SHA-1 of the DER certificate (`ssl_c_sha1`).
    pub sha1: [u8; 20],
    /// `YYMMDDhhmmssZ` (`ssl_c_notafter`).
    pub not_after: String,
    /// `YYMMDDhhmmssZ` (`ssl_c_notbefore`).
    pub not_before: String,
    /// The X.509 version, 1 to 3 (`ssl_c_version`).
    pub version: i64,
}

impl Facts {
    /// The facts of an established server-side connection.
    pub fn of(conn: &rustls::ServerConnection) -> Facts {
        let cipher = conn.negotiated_cipher_suite();
        Facts {
            sni: conn.server_name().map(Into::into),
            alpn: conn.alpn_protocol().map(Into::into),
            protocol: conn.protocol_version().map_or("", suites::version_name),
            cipher: cipher.map_or("", |c| suites::openssl_name(c.suite())),
            keysize: cipher.map_or(0, |c| suites::key_bits(c.suite())),
            client: conn
                .peer_certificates()
                .and_then(|c| c.first())
                .and_then(ClientCert::parse),
            error: super::errors::ErrorCell::default(),
        }
    }
}

/// OpenSSL's short name of a distinguished-name attribute.
fn short_name(oid: &str) -> String {
    match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.5" => "serialNumber",
        "2.5.4.4" => "SN",
        "2.5.4.42" => "GN",
        "2.5.4.12" => "title",
        "2.5.4.46" => "dnQualifier",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        other => return other.to_owned(),
    }
    .to_owned()
}

pub(crate) fn entries(name: &x509_parser::x509::X509Name<'_>) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for rdn in name.iter() {
        for attr in rdn.iter() {
            let key = short_name(&attr.attr_type().to_id_string());
            let val = attr
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|_| String::from_utf8_lossy(attr.attr_value().data).into_owned());
            out.push((key, val));
        }
    }
    out
}

/// ASN.1 time as OpenSSL prints it: `YYMMDDhhmmssZ` (UTCTime, before 2050) or
/// `YYYYMMDDhhmmssZ`.
fn asn1_time(t: &x509_parser::time::ASN1Time) -> String {
    let d = t.to_datetime();
    let y = d.year();
    let rest = format!(
        "{:02}{:02}{:02}{:02}{:02}Z",
        u8::from(d.month()),
        d.day(),
        d.hour(),
        d.minute(),
        d.second()
    );
    if (1950..2050).contains(&y) {
        format!("{:02}{rest}", y % 100)
    } else {
        format!("{y:04}{rest}")
    }
}

impl ClientCert {
    /// Reads a DER certificate (`None` if it does not parse, which a verified one does).
    pub fn parse(der: &CertificateDer<'_>) -> Option<ClientCert> {
        use sha1::Digest;
        use x509_parser::prelude::*;
        let (_, x) = X509Certificate::from_der(der.as_ref()).ok()?;
        let v = x.validity();
        Some(ClientCert {
            subject: entries(x.subject()),
            issuer: entries(x.issuer()),
            serial: x.raw_serial().to_vec(),
            sha1: sha1::Sha1::digest(der.as_ref()).into(),
            not_after: asn1_time(&v.not_after),
            not_before: asn1_time(&v.not_before),
            version: i64::from(x.version().0) + 1,
        })
    }
}

/// A distinguished name in OpenSSL's one-line form, `/C=FR/O=Org/CN=name`, or RFC 2253's
/// (`CN=name,O=Org,C=FR`).
pub fn dn_string(entries: &[(String, String)], rfc2253: bool) -> String {
    let mut s = String::new();
    if rfc2253 {
        for (i, (k, v)) in entries.iter().rev().enumerate() {
            if i > 0 {
                s.push(',');
            }
            s.push_str(k);
            s.push('=');
            for c in v.chars() {
                if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';') {
                    s.push('\\');
                }
                s.push(c);
            }
        }
    } else {
        for (k, v) in entries {
            s.push('/');
            s.push_str(k);
            s.push('=');
            s.push_str(v);
        }
    }
    s
}

/// The value of the `occ`-th `entry` of a DN (1: the first; negative: from the end).
pub fn dn_entry<'a>(entries: &'a [(String, String)], entry: &str, occ: i64) -> Option<&'a str> {
    let mut found = entries
        .iter()
        .filter(|(k, _)| k == entry)
        .map(|(_, v)| v.as_str());
    match occ {
        0 | 1 => found.next(),
        n if n > 1 => found.nth((n - 1) as usize),
        n => {
            let all: Vec<&str> = found.collect();
            let back = n.unsigned_abs() as usize;
            all.len().checked_sub(back).map(|i| all[i])
        }
    }
}
