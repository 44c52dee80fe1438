//! The messages of PostgreSQL's protocol (version 3) that gatehouse's front door reads
//! from a client before the session is handed to the server, as pure functions over
//! bytes (fuzzed: `fuzz/fuzz_targets/pgsql_frontdoor.rs`): the startup packets
//! (`SSLRequest`, `GSSENCRequest`, `CancelRequest`, `StartupMessage`, which have no
//! type byte) and the `PasswordMessage`; and the two messages only the front door
//! writes (its `ErrorResponse`, `NegotiateProtocolVersion`). Regular messages are
//! framed, read and written by `crate::pgwire` (`frame`, `message::backend`).

use crate::pgwire::frame::encode as message;
use tokio::io::{AsyncRead, AsyncReadExt};

/// PostgreSQL's own limit on a startup packet (`MAX_STARTUP_PACKET_LENGTH`).
pub const MAX_STARTUP: usize = 10_000;
/// The largest password message (a token) accepted.
pub const MAX_PASSWORD: usize = 16 * 1024 + 64;

const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;
const CANCEL_REQUEST: u32 = 80_877_102;
const PROTOCOL_3: u32 = 0x0003_0000;

/// A startup packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Startup {
    /// `SSLRequest`: the client asks for TLS.
    SslRequest,
    /// `GSSENCRequest`: the client asks for GSSAPI encryption.
    GssEncRequest,
    /// `CancelRequest` with the key the session was given.
    Cancel {
        /// The process id of `BackendKeyData`.
        pid: i32,
        /// Its secret key.
        key: i32,
    },
    /// `StartupMessage` (protocol 3.x): its parameters in order (`user`, `database`,
    /// `application_name`, `options`, …).
    Startup {
        /// The minor protocol version asked for.
        minor: u16,
        /// The parameters.
        params: Vec<(String, String)>,
    },
}

/// Why a client's message was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// A length outside the protocol's bounds.
    #[error("invalid length of startup packet")]
    Length,
    /// A protocol version gatehouse does not speak (2.0 and older, or 4+).
    #[error("unsupported frontend protocol {0}.{1}: server supports 3.0 to 3.0")]
    Version(u16, u16),
    /// A message that does not parse.
    #[error("invalid startup packet layout: {0}")]
    Layout(&'static str),
    /// Not a password message where one was expected.
    #[error("expected password response, got message type {0}")]
    NotPassword(u8),
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// Parses a startup packet's body: everything after its 4-byte length.
pub fn parse_startup(body: &[u8]) -> Result<Startup, WireError> {
    if body.len() < 4 || body.len() + 4 > MAX_STARTUP {
        return Err(WireError::Length);
    }
    let code = be32(body);
    let rest = &body[4..];
    match code {
        SSL_REQUEST if rest.is_empty() => Ok(Startup::SslRequest),
        GSSENC_REQUEST if rest.is_empty() => Ok(Startup::GssEncRequest),
        SSL_REQUEST | GSSENC_REQUEST => Err(WireError::Length),
        CANCEL_REQUEST => {
            if rest.len() != 8 {
                return Err(WireError::Length);
            }
            Ok(Startup::Cancel {
                pid: be32(rest) as i32,
                key: be32(&rest[4..]) as i32,
            })
        }
        _ => {
            let (major, minor) = ((code >> 16) as u16, code as u16);
            if code & 0xffff_0000 != PROTOCOL_3 {
                return Err(WireError::Version(major, minor));
            }
            Ok(Startup::Startup {
                minor,
                params: parse_params(rest)?,
            })
        }
    }
}

/// `name\0value\0…\0`: the parameters of a `StartupMessage`.
fn parse_params(mut b: &[u8]) -> Result<Vec<(String, String)>, WireError> {
    let mut out = Vec::new();
    loop {
        let Some(end) = memchr::memchr(0, b) else {
            return Err(WireError::Layout("missing terminator"));
        };
        if end == 0 {
            if b.len() != 1 {
                return Err(WireError::Layout("bytes after the terminator"));
            }
            return Ok(out);
        }
        let name = std::str::from_utf8(&b[..end]).map_err(|_| WireError::Layout("name"))?;
        b = &b[end + 1..];
        let Some(vend) = memchr::memchr(0, b) else {
            return Err(WireError::Layout("missing value"));
        };
        let value = String::from_utf8_lossy(&b[..vend]).into_owned();
        b = &b[vend + 1..];
        out.push((name.to_owned(), value));
    }
}

/// Parses a `PasswordMessage` (type `p`, its body without type and length): the
/// password, without its terminating NUL.
pub fn parse_password(tag: u8, body: &[u8]) -> Result<&[u8], WireError> {
    if tag != b'p' {
        return Err(WireError::NotPassword(tag));
    }
    match body.split_last() {
        Some((0, pw)) if !pw.contains(&0) => Ok(pw),
        _ => Err(WireError::Layout(
            "password is not one NUL-terminated string",
        )),
    }
}

/// Reads one startup packet (length, then body) from `r`; `Ok(None)` when the client
/// closed before sending anything.
pub async fn read_startup<R: AsyncRead + Unpin>(r: &mut R) -> std::io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let n = be32(&len) as usize;
    if !(8..=MAX_STARTUP).contains(&n) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            WireError::Length,
        ));
    }
    let mut body = vec![0u8; n - 4];
    r.read_exact(&mut body).await?;
    Ok(Some(body))
}

/// `NegotiateProtocolVersion`: the front door speaks 3.0 and none of the `_pq_.`
/// protocol options in `unknown`.
pub fn negotiate_protocol_version(unknown: &[&str]) -> Vec<u8> {
    let mut b = 0u32.to_be_bytes().to_vec();
    b.extend_from_slice(&(unknown.len() as u32).to_be_bytes());
    for u in unknown {
        b.extend_from_slice(u.as_bytes());
        b.push(0);
    }
    message(b'v', &b)
}

/// An `ErrorResponse` (severity `FATAL`) with SQLSTATE `code`, the message, and where
/// it came from (`R`: gatehouse's own front door).
pub fn error_response(code: &str, msg: &str) -> Vec<u8> {
    let mut b = Vec::with_capacity(msg.len() + 40);
    for (t, v) in [
        (b'S', "FATAL"),
        (b'V', "FATAL"),
        (b'C', code),
        (b'M', msg),
        (b'R', "gatehouse"),
    ] {
        b.push(t);
        b.extend_from_slice(v.as_bytes());
        b.push(0);
    }
    b.push(0);
    message(b'E', &b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn startup(params: &[(&str, &str)]) -> Vec<u8> {
        let mut b = PROTOCOL_3.to_be_bytes().to_vec();
        for (k, v) in params {
            b.extend_from_slice(k.as_bytes());
            b.push(0);
            b.extend_from_slice(v.as_bytes());
            b.push(0);
        }
        b.push(0);
        b
    }

    #[test]
    fn startup_packets_parse_and_bad_ones_are_refused() {
        assert_eq!(
            parse_startup(&SSL_REQUEST.to_be_bytes()),
            Ok(Startup::SslRequest)
        );
        assert_eq!(
            parse_startup(&GSSENC_REQUEST.to_be_bytes()),
            Ok(Startup::GssEncRequest)
        );
        let mut c = CANCEL_REQUEST.to_be_bytes().to_vec();
        c.extend_from_slice(&7i32.to_be_bytes());
        c.extend_from_slice(&(-9i32).to_be_bytes());
        assert_eq!(parse_startup(&c), Ok(Startup::Cancel { pid: 7, key: -9 }));
        let s = parse_startup(&startup(&[("user", "alice"), ("database", "app")])).unwrap();
        assert_eq!(
            s,
            Startup::Startup {
                minor: 0,
                params: vec![
                    ("user".into(), "alice".into()),
                    ("database".into(), "app".into())
                ]
            }
        );
        assert_eq!(
            parse_startup(&0x0002_0000u32.to_be_bytes()),
            Err(WireError::Version(2, 0))
        );
        let mut unterminated = startup(&[("user", "a")]);
        unterminated.pop();
        assert!(parse_startup(&unterminated).is_err());
        assert!(parse_startup(&[0, 3]).is_err());
        assert_eq!(parse_password(b'p', b"tok\0"), Ok(&b"tok"[..]));
        assert!(parse_password(b'p', b"tok").is_err());
        assert!(parse_password(b'p', b"t\0k\0").is_err());
        assert_eq!(
            parse_password(b'Q', b"x\0"),
            Err(WireError::NotPassword(b'Q'))
        );
    }
}
