//! TLS fetches (configuration.txt 7.3.4 and 7.3.5): what the handshake of a `bind … ssl`
//! line settled (`ssl_fc*`) and the client certificate it verified (`ssl_c_*`) — each
//! finds nothing on a connection that is not TLS, but `ssl_fc` (false) and `ssl_c_used`
//! (false) —; and what a ClientHello waiting in the request buffer says, undecrypted
//! (`req.ssl_hello_type`, `req.ssl_ver`, `req.ssl_sni`: TLS passthrough in `mode tcp`).

use super::row::*;
use super::{Each, FetchCall, FetchDef, Sample, with_scratch};
use crate::acl::SampleSource;
use crate::tls::facts::{dn_entry, dn_string};
use crate::tls::hello::{self, Seen};
use crate::tls::{ClientCert, Facts};

/// The fetches of this family.
pub(super) static FETCHES: &[FetchDef] = &[
    FetchDef::new("ssl_fc", SmpType::Bool, C, fc),
    FetchDef::new("ssl_fc_sni", SmpType::Str, C, fc_sni),
    FetchDef::new("ssl_fc_has_sni", SmpType::Bool, C, fc_has_sni),
    FetchDef::new("ssl_fc_alpn", SmpType::Str, C, fc_alpn),
    FetchDef::new("ssl_fc_protocol", SmpType::Str, C, fc_protocol),
    FetchDef::new("ssl_fc_cipher", SmpType::Str, C, fc_cipher),
    FetchDef::new("ssl_fc_use_keysize", SmpType::Int, C, fc_keysize),
    FetchDef::new("ssl_fc_err", SmpType::Int, C, fc_err),
    FetchDef::new("ssl_fc_err_str", SmpType::Str, C, fc_err_str),
    FetchDef::new("ssl_fc_has_crt", SmpType::Bool, C, c_used),
    FetchDef::new("ssl_c_used", SmpType::Bool, C, c_used),
    FetchDef::new("ssl_c_verify", SmpType::Int, C, c_verify),
    FetchDef::new("ssl_c_s_dn", SmpType::Str, C, c_s_dn).args(DN, 0),
    FetchDef::new("ssl_c_i_dn", SmpType::Str, C, c_i_dn).args(DN, 0),
    FetchDef::new("ssl_c_serial", SmpType::Str, C, c_serial),
    FetchDef::new("ssl_c_sha1", SmpType::Str, C, c_sha1),
    FetchDef::new("ssl_c_notafter", SmpType::Str, C, c_notafter),
    FetchDef::new("ssl_c_notbefore", SmpType::Str, C, c_notbefore),
    FetchDef::new("ssl_c_version", SmpType::Int, C, c_version),
    FetchDef::new("req.ssl_hello_type", SmpType::Int, R, req_hello_type),
    FetchDef::new("req_ssl_hello_type", SmpType::Int, R, req_hello_type),
    FetchDef::new("req.ssl_ver", SmpType::Int, R, req_ver),
    FetchDef::new("req_ssl_ver", SmpType::Int, R, req_ver),
    FetchDef::new("req.ssl_sni", SmpType::Str, R, req_sni),
    FetchDef::new("req_ssl_sni", SmpType::Str, R, req_sni),
];

/// `([<entry>[,<occ>[,<format>]]])`.
const DN: &[super::ArgType] = &[S, I, S];

fn facts(s: &dyn SampleSource) -> Option<&Facts> {
    s.tls()
}

fn cert(s: &dyn SampleSource) -> Option<&ClientCert> {
    s.tls().and_then(|f| f.client.as_ref())
}

fn fc(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    each(Sample::Bool(facts(s).is_some()))
}

fn fc_sni(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    match facts(s).and_then(|f| f.sni.as_deref()) {
        Some(n) => each(Sample::Str(n.as_bytes())),
        None => false,
    }
}

fn fc_has_sni(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    match facts(s) {
        Some(f) => each(Sample::Bool(f.sni.is_some())),
        None => false,
    }
}

fn fc_alpn(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    match facts(s).and_then(|f| f.alpn.as_deref()) {
        Some(a) => each(Sample::Str(a)),
        None => false,
    }
}

fn fc_protocol(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    match facts(s) {
        Some(f) => each(Sample::Str(f.protocol.as_bytes())),
        None => false,
    }
}

fn fc_cipher(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    match facts(s) {
        Some(f) => each(Sample::Str(f.cipher.as_bytes())),
        None => false,
    }
}

fn fc_keysize(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    match facts(s) {
        Some(f) => each(Sample::Int(f.keysize.into())),
        None => false,
    }
}

fn c_used(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    each(Sample::Bool(cert(s).is_some()))
}

/// 0: rustls refuses the handshake of a certificate that does not verify, so a
/// connection that got here has none to report.
fn c_verify(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    match facts(s) {
        Some(_) => each(Sample::Int(0)),
        None => false,
    }
}

fn dn(call: &FetchCall, entries: &[(String, String)], each: &mut Each<'_>) -> bool {
    if !call.name.is_empty() {
        return match dn_entry(entries, &call.name, call.occ) {
            Some(v) => each(Sample::Str(v.as_bytes())),
            None => false,
        };
    }
    let rfc = call.arg2.as_deref() == Some("rfc2253");
    with_scratch(|buf| {
        buf.extend_from_slice(dn_string(entries, rfc).as_bytes());
        each(Sample::Str(buf))
    })
}

fn c_s_dn(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    cert(s).is_some_and(|c| dn(call, &c.subject, each))
}

fn c_i_dn(call: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    cert(s).is_some_and(|c| dn(call, &c.issuer, each))
}

fn c_serial(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    cert(s).is_some_and(|c| each(Sample::Str(&c.serial)))
}

fn c_sha1(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    cert(s).is_some_and(|c| each(Sample::Str(&c.sha1)))
}

fn c_notafter(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    cert(s).is_some_and(|c| each(Sample::Str(c.not_after.as_bytes())))
}

fn c_notbefore(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    cert(s).is_some_and(|c| each(Sample::Str(c.not_before.as_bytes())))
}

/// The connection's first TLS error as OpenSSL's code (0: none); nothing without TLS.
fn fc_err(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    match facts(s) {
        Some(f) => each(Sample::Int(i64::from(f.error.code()))),
        None => false,
    }
}

/// The connection's first TLS error as OpenSSL's string; nothing when there is none.
fn fc_err_str(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    match facts(s).map(|f| f.error.code()).filter(|c| *c != 0) {
        Some(c) => with_scratch(|b| {
            b.extend_from_slice(crate::tls::errors::string_of(c).as_bytes());
            each(Sample::Str(b))
        }),
        None => false,
    }
}

fn c_version(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    cert(s).is_some_and(|c| each(Sample::Int(c.version)))
}

fn req_hello_type(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    match s.req_payload().map(hello::hello_type) {
        Some(Seen::Found(t)) => each(Sample::Int(t.into())),
        _ => false,
    }
}

fn req_ver(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    match s.req_payload().map(hello::version) {
        Some(Seen::Found(v)) => each(Sample::Int(v.into())),
        _ => false,
    }
}

fn req_sni(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    match s.req_payload().map(hello::sni) {
        Some(Seen::Found(n)) => each(Sample::Str(n)),
        _ => false,
    }
}
