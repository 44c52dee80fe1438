//! The `ssl_fc_err` and `ssl_fc_err_str` values: the first TLS error of a client
//! connection as OpenSSL 3 reports it (HAProxy 2.6 keeps `ERR_peek_error()`), mapped
//! from rustls' error. The code packs OpenSSL's SSL library (20) and its reason
//! (`ERR_PACK`: `0x0A000000 | reason`); the string is `ERR_error_string`'s. rustls
//! errors without an OpenSSL counterpart map to the nearest reason.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// OpenSSL's `ERR_LIB_SSL` packed into an error code.
const LIB_SSL: u32 = 20 << 23;

/// OpenSSL 3.0 reasons (`sslerr.h`) and their texts.
const REASONS: &[(u32, &str)] = &[
    (191, "no protocols available"),
    (193, "no shared cipher"),
    (198, "packet length too long"),
    (244, "unexpected message"),
    (258, "unsupported protocol"),
    (267, "wrong version number"),
    (281, "decryption failed or bad record mac"),
    (294, "unexpected eof while reading"),
];

/// The first TLS error of a connection (`0`: none), shared by the stream that sees it
/// and the fetches that read it.
#[derive(Clone, Debug, Default)]
pub struct ErrorCell(Arc<AtomicU32>);

impl ErrorCell {
    /// Records `e` unless an error was recorded before.
    pub fn record(&self, e: &rustls::Error) {
        let _ = self
            .0
            .compare_exchange(0, code_of(e), Ordering::AcqRel, Ordering::Acquire);
    }

    /// The code recorded (`ssl_fc_err`), 0 when none.
    pub fn code(&self) -> u32 {
        self.0.load(Ordering::Acquire)
    }
}

/// OpenSSL's code for a rustls error.
pub fn code_of(e: &rustls::Error) -> u32 {
    use rustls::Error as E;
    let reason = match e {
        E::DecryptError => 281,
        E::AlertReceived(a) => 1000 + u32::from(u8::from(*a)),
        E::InappropriateMessage { .. } | E::InappropriateHandshakeMessage { .. } => 244,
        E::PeerIncompatible(p) => match p {
            rustls::PeerIncompatible::NoCipherSuitesInCommon => 193,
            _ => 258,
        },
        E::InvalidMessage(m) => match m {
            rustls::InvalidMessage::MessageTooLarge => 198,
            _ => 267,
        },
        _ => 244,
    };
    LIB_SSL | reason
}

/// `ERR_error_string` of `code` (`ssl_fc_err_str`): `error:0A000119:SSL
/// routines::decryption failed or bad record mac`.
pub fn string_of(code: u32) -> String {
    let reason = code & 0x7f_ffff;
    let text = match REASONS.iter().find(|(r, _)| *r == reason) {
        Some((_, t)) => (*t).to_owned(),
        None if reason >= 1000 => alert_text(reason - 1000),
        None => format!("reason({reason})"),
    };
    format!("error:{code:08X}:SSL routines::{text}")
}

/// OpenSSL's text for an alert received (`SSL_AD_REASON_OFFSET` + the alert).
fn alert_text(alert: u32) -> String {
    let name = match alert {
        10 => "sslv3 alert unexpected message",
        20 => "sslv3 alert bad record mac",
        40 => "sslv3 alert handshake failure",
        42 => "sslv3 alert bad certificate",
        46 => "sslv3 alert certificate unknown",
        47 => "sslv3 alert illegal parameter",
        48 => "tlsv1 alert unknown ca",
        50 => "tlsv1 alert decode error",
        51 => "tlsv1 alert decrypt error",
        70 => "tlsv1 alert protocol version",
        80 => "tlsv1 alert internal error",
        112 => "tlsv1 unrecognized name",
        120 => "tlsv1 alert no application protocol",
        _ => return format!("reason({})", 1000 + alert),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_strings_are_openssl_3s() {
        let c = code_of(&rustls::Error::DecryptError);
        assert_eq!(c, 0x0A00_0119);
        assert_eq!(
            string_of(c),
            "error:0A000119:SSL routines::decryption failed or bad record mac"
        );
        let cell = ErrorCell::default();
        assert_eq!(cell.code(), 0);
        cell.record(&rustls::Error::DecryptError);
        cell.record(&rustls::Error::AlertReceived(
            rustls::AlertDescription::BadRecordMac,
        ));
        assert_eq!(cell.code(), 0x0A00_0119);
        assert_eq!(
            string_of(code_of(&rustls::Error::AlertReceived(
                rustls::AlertDescription::BadRecordMac
            ))),
            "error:0A0003FC:SSL routines::sslv3 alert bad record mac"
        );
    }
}
