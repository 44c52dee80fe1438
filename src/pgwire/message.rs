//! Backend messages read from a server, framed ([`super::frame`]) and decoded with the
//! `postgres-protocol` crate into owned values ([`Backend`]), each bounded in size; and
//! the few messages gatehouse writes: frontend ones (startup, password, SASL, query,
//! terminate, SSL and cancel requests, from `postgres-protocol`) and backend ones
//! (what a server sends a client: authentication requests, `ParameterStatus`,
//! `BackendKeyData`, `ReadyForQuery`, `ErrorResponse`).

use super::error::{PgError, ServerError};
use super::frame::{HEADER_LEN, body_len};
use bytes::{BufMut, BytesMut};
use fallible_iterator::FallibleIterator;
use postgres_protocol::message::backend::{ErrorFields, Message};
use tokio::io::{AsyncRead, AsyncReadExt};

/// The largest backend message accepted (1 GiB is PostgreSQL's own field limit; a check
/// or a login never needs more than a few kilobytes, a row of `simple_query` little
/// more): a larger length is a protocol error, never an allocation.
pub const MAX_MESSAGE: usize = 16 << 20;

/// The tag of `NegotiateProtocolVersion`, which `postgres-protocol` does not decode.
const NEGOTIATE_PROTOCOL_VERSION: u8 = b'v';

/// One backend message, decoded into owned values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    /// `AuthenticationOk`.
    AuthOk,
    /// `AuthenticationCleartextPassword`.
    AuthCleartext,
    /// `AuthenticationMD5Password` with its salt.
    AuthMd5 {
        /// The 4-byte salt.
        salt: [u8; 4],
    },
    /// `AuthenticationSASL` with the mechanisms offered.
    AuthSasl {
        /// E.g. `SCRAM-SHA-256`, `SCRAM-SHA-256-PLUS`.
        mechanisms: Vec<String>,
    },
    /// `AuthenticationSASLContinue` with its data.
    AuthSaslContinue(Vec<u8>),
    /// `AuthenticationSASLFinal` with its data.
    AuthSaslFinal(Vec<u8>),
    /// Another authentication request (Kerberos, GSSAPI, SSPI, SCM credentials), named.
    AuthOther(&'static str),
    /// `ParameterStatus`.
    ParameterStatus {
        /// E.g. `server_version`.
        name: String,
        /// Its value.
        value: String,
    },
    /// `BackendKeyData`: what a `CancelRequest` quotes.
    BackendKeyData {
        /// The server process id.
        pid: i32,
        /// Its secret key.
        secret: i32,
    },
    /// `ReadyForQuery` with the transaction status (`I`, `T` or `E`).
    ReadyForQuery(u8),
    /// `ErrorResponse`.
    Error(ServerError),
    /// `NoticeResponse`.
    Notice(ServerError),
    /// `RowDescription`: the column names.
    RowDescription(Vec<String>),
    /// `DataRow`: each column's text (`None` for NULL).
    DataRow(Vec<Option<Vec<u8>>>),
    /// `CommandComplete` with its tag (e.g. `SELECT 1`).
    CommandComplete(String),
    /// `EmptyQueryResponse`.
    EmptyQuery,
    /// `NegotiateProtocolVersion`: the newest minor version the server speaks and the
    /// startup options it did not recognize.
    NegotiateProtocolVersion {
        /// The newest minor protocol version supported.
        minor: i32,
        /// The `_pq_.` options not recognized.
        unrecognized: Vec<String>,
    },
    /// Any other message, by tag (extended-protocol and COPY messages, notifications).
    Other(u8),
}

fn bad(what: impl Into<String>) -> PgError {
    PgError::Protocol(what.into())
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The fields of an `ErrorResponse`/`NoticeResponse` body.
fn server_error(mut fields: ErrorFields<'_>) -> Result<ServerError, PgError> {
    let mut e = ServerError::default();
    let mut localized = None;
    while let Some(f) = fields.next().map_err(|e| bad(e.to_string()))? {
        let v = text(f.value_bytes());
        match f.type_() {
            b'V' => e.severity = v,
            b'S' => localized = Some(v),
            b'C' => e.code = v,
            b'M' => e.message = v,
            b'D' => e.detail = Some(v),
            b'H' => e.hint = Some(v),
            _ => {}
        }
    }
    if e.severity.is_empty() {
        e.severity = localized.unwrap_or_default();
    }
    Ok(e)
}

/// Decodes `NegotiateProtocolVersion`'s body.
fn negotiate(body: &[u8]) -> Result<Backend, PgError> {
    let short = || bad("short NegotiateProtocolVersion");
    let minor = i32::from_be_bytes(
        body.get(..4)
            .ok_or_else(short)?
            .try_into()
            .map_err(|_| short())?,
    );
    let n = i32::from_be_bytes(
        body.get(4..8)
            .ok_or_else(short)?
            .try_into()
            .map_err(|_| short())?,
    );
    let mut rest = &body[8..];
    let mut unrecognized = Vec::new();
    for _ in 0..n.max(0) {
        let end = memchr::memchr(0, rest).ok_or_else(short)?;
        unrecognized.push(text(&rest[..end]));
        rest = &rest[end + 1..];
    }
    if !rest.is_empty() {
        return Err(bad("trailing bytes in NegotiateProtocolVersion"));
    }
    Ok(Backend::NegotiateProtocolVersion {
        minor,
        unrecognized,
    })
}

/// Takes one complete backend message off the front of `buf`: `Ok(None)` while it is
/// incomplete. A length below 4 or above [`MAX_MESSAGE`], an unknown tag or a malformed
/// body is a protocol error.
pub fn parse_backend(buf: &mut BytesMut) -> Result<Option<Backend>, PgError> {
    let Some(header) = buf.first_chunk::<HEADER_LEN>() else {
        return Ok(None);
    };
    let tag = header[0];
    let Some(body) = body_len(header, MAX_MESSAGE - 4) else {
        let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]);
        return Err(bad(format!("invalid message length {len}")));
    };
    let len = body + 4;
    if buf.len() < len + 1 {
        return Ok(None);
    }
    if tag == NEGOTIATE_PROTOCOL_VERSION {
        let msg = buf.split_to(len + 1);
        return negotiate(&msg[5..]).map(Some);
    }
    let msg = match Message::parse(buf) {
        Ok(Some(m)) => m,
        Ok(None) => return Err(bad("incomplete message")),
        Err(e) => return Err(bad(e.to_string())),
    };
    let cstr = |r: std::io::Result<&str>| r.map(str::to_owned).map_err(|e| bad(e.to_string()));
    Ok(Some(match msg {
        Message::AuthenticationOk => Backend::AuthOk,
        Message::AuthenticationCleartextPassword => Backend::AuthCleartext,
        Message::AuthenticationMd5Password(b) => Backend::AuthMd5 { salt: b.salt() },
        Message::AuthenticationSasl(b) => {
            let mut mechanisms = Vec::new();
            let mut it = b.mechanisms();
            while let Some(m) = it.next().map_err(|e| bad(e.to_string()))? {
                mechanisms.push(m.to_owned());
            }
            Backend::AuthSasl { mechanisms }
        }
        Message::AuthenticationSaslContinue(b) => Backend::AuthSaslContinue(b.data().to_vec()),
        Message::AuthenticationSaslFinal(b) => Backend::AuthSaslFinal(b.data().to_vec()),
        Message::AuthenticationKerberosV5 => Backend::AuthOther("Kerberos V5"),
        Message::AuthenticationGss | Message::AuthenticationGssContinue(_) => {
            Backend::AuthOther("GSSAPI")
        }
        Message::AuthenticationSspi => Backend::AuthOther("SSPI"),
        Message::AuthenticationScmCredential => Backend::AuthOther("SCM credentials"),
        Message::ParameterStatus(b) => Backend::ParameterStatus {
            name: cstr(b.name())?,
            value: cstr(b.value())?,
        },
        Message::BackendKeyData(b) => Backend::BackendKeyData {
            pid: b.process_id(),
            secret: b.secret_key(),
        },
        Message::ReadyForQuery(b) => Backend::ReadyForQuery(b.status()),
        Message::ErrorResponse(b) => Backend::Error(server_error(b.fields())?),
        Message::NoticeResponse(b) => Backend::Notice(server_error(b.fields())?),
        Message::RowDescription(b) => {
            let mut names = Vec::new();
            let mut it = b.fields();
            while let Some(f) = it.next().map_err(|e| bad(e.to_string()))? {
                names.push(f.name().to_owned());
            }
            Backend::RowDescription(names)
        }
        Message::DataRow(b) => {
            let mut cols = Vec::new();
            let mut it = b.ranges();
            let data = b.buffer();
            while let Some(r) = it.next().map_err(|e| bad(e.to_string()))? {
                cols.push(match r {
                    Some(r) => Some(data.get(r).ok_or_else(|| bad("bad DataRow"))?.to_vec()),
                    None => None,
                });
            }
            Backend::DataRow(cols)
        }
        Message::CommandComplete(b) => Backend::CommandComplete(cstr(b.tag())?),
        Message::EmptyQueryResponse => Backend::EmptyQuery,
        Message::ParseComplete => Backend::Other(b'1'),
        Message::BindComplete => Backend::Other(b'2'),
        Message::CloseComplete => Backend::Other(b'3'),
        Message::NotificationResponse(_) => Backend::Other(b'A'),
        Message::CopyData(_) => Backend::Other(b'd'),
        Message::CopyDone => Backend::Other(b'c'),
        Message::CopyInResponse(_) => Backend::Other(b'G'),
        Message::CopyOutResponse(_) => Backend::Other(b'H'),
        Message::NoData => Backend::Other(b'n'),
        Message::ParameterDescription(_) => Backend::Other(b't'),
        Message::PortalSuspended => Backend::Other(b's'),
        _ => Backend::Other(tag),
    }))
}

/// Reads backend messages off a stream, keeping what arrived past the last one.
#[derive(Debug, Default)]
pub struct BackendReader {
    buf: BytesMut,
}

impl BackendReader {
    /// A reader with nothing buffered.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next message: reads from `s` until one is complete. The end of the stream
    /// is [`PgError::Closed`].
    pub async fn next<S: AsyncRead + Unpin>(&mut self, s: &mut S) -> Result<Backend, PgError> {
        loop {
            if let Some(m) = parse_backend(&mut self.buf)? {
                return Ok(m);
            }
            self.buf.reserve(8192);
            if s.read_buf(&mut self.buf).await? == 0 {
                return Err(PgError::Closed);
            }
        }
    }

    /// The bytes read but not yet taken as messages (the start of what the server sent
    /// after the last message): a byte pump sends them on first.
    pub fn into_rest(self) -> Vec<u8> {
        self.buf.to_vec()
    }
}

/// Frontend messages (client to server), from `postgres-protocol`.
pub mod frontend {
    use bytes::BytesMut;
    pub use postgres_protocol::message::frontend::{
        cancel_request, password_message, query, sasl_initial_response, sasl_response, ssl_request,
        startup_message, terminate,
    };

    /// A `StartupMessage` (protocol 3.0) with `user`, `database` when given, then
    /// `params` (any `user` or `database` among them is left out).
    pub fn startup(
        user: &str,
        database: Option<&str>,
        params: &[(String, String)],
    ) -> std::io::Result<BytesMut> {
        let mut all: Vec<(&str, &str)> = vec![("user", user)];
        if let Some(db) = database {
            all.push(("database", db));
        }
        all.extend(
            params
                .iter()
                .filter(|(k, _)| k != "user" && k != "database")
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let mut buf = BytesMut::new();
        startup_message(all, &mut buf)?;
        Ok(buf)
    }
}

/// Backend messages (server to client), as gatehouse writes them to a PostgreSQL
/// client.
pub mod backend {
    use super::*;

    use crate::pgwire::frame::encode as message;

    fn auth(code: u32, extra: &[u8]) -> Vec<u8> {
        let mut body = code.to_be_bytes().to_vec();
        body.extend_from_slice(extra);
        message(b'R', &body)
    }

    /// `AuthenticationOk`.
    pub fn auth_ok() -> Vec<u8> {
        auth(0, &[])
    }

    /// `AuthenticationCleartextPassword`.
    pub fn auth_cleartext() -> Vec<u8> {
        auth(3, &[])
    }

    /// `AuthenticationMD5Password` with `salt`.
    pub fn auth_md5(salt: [u8; 4]) -> Vec<u8> {
        auth(5, &salt)
    }

    /// `AuthenticationSASL` offering `mechanisms`.
    pub fn auth_sasl(mechanisms: &[&str]) -> Vec<u8> {
        let mut body = Vec::new();
        for m in mechanisms {
            body.extend_from_slice(m.as_bytes());
            body.push(0);
        }
        body.push(0);
        auth(10, &body)
    }

    /// `AuthenticationSASLContinue` with `data`.
    pub fn auth_sasl_continue(data: &[u8]) -> Vec<u8> {
        auth(11, data)
    }

    /// `AuthenticationSASLFinal` with `data`.
    pub fn auth_sasl_final(data: &[u8]) -> Vec<u8> {
        auth(12, data)
    }

    /// `ParameterStatus`.
    pub fn parameter_status(name: &str, value: &str) -> Vec<u8> {
        let mut body = BytesMut::new();
        body.put_slice(name.as_bytes());
        body.put_u8(0);
        body.put_slice(value.as_bytes());
        body.put_u8(0);
        message(b'S', &body)
    }

    /// `BackendKeyData`.
    pub fn backend_key_data(pid: i32, secret: i32) -> Vec<u8> {
        let mut body = pid.to_be_bytes().to_vec();
        body.extend_from_slice(&secret.to_be_bytes());
        message(b'K', &body)
    }

    /// `ReadyForQuery` with transaction status `status` (`b'I'` when idle).
    pub fn ready_for_query(status: u8) -> Vec<u8> {
        message(b'Z', &[status])
    }

    /// `ErrorResponse` with severity (both `S` and `V`), SQLSTATE and message.
    pub fn error_response(severity: &str, code: &str, msg: &str) -> Vec<u8> {
        let mut body = Vec::new();
        for (t, v) in [
            (b'S', severity),
            (b'V', severity),
            (b'C', code),
            (b'M', msg),
        ] {
            body.push(t);
            body.extend_from_slice(v.as_bytes());
            body.push(0);
        }
        body.push(0);
        message(b'E', &body)
    }

    /// `RowDescription` of text columns named `names`.
    pub fn row_description(names: &[&str]) -> Vec<u8> {
        let mut body = (names.len() as u16).to_be_bytes().to_vec();
        for n in names {
            body.extend_from_slice(n.as_bytes());
            body.push(0);
            body.extend_from_slice(&0u32.to_be_bytes()); // table oid
            body.extend_from_slice(&0u16.to_be_bytes()); // column
            body.extend_from_slice(&25u32.to_be_bytes()); // text
            body.extend_from_slice(&(-1i16).to_be_bytes());
            body.extend_from_slice(&(-1i32).to_be_bytes());
            body.extend_from_slice(&0u16.to_be_bytes()); // text format
        }
        message(b'T', &body)
    }

    /// `DataRow` with `cols` (`None` for NULL).
    pub fn data_row(cols: &[Option<&[u8]>]) -> Vec<u8> {
        let mut body = (cols.len() as u16).to_be_bytes().to_vec();
        for c in cols {
            match c {
                Some(v) => {
                    body.extend_from_slice(&(v.len() as i32).to_be_bytes());
                    body.extend_from_slice(v);
                }
                None => body.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        message(b'D', &body)
    }

    /// `CommandComplete` with `tag`.
    pub fn command_complete(tag: &str) -> Vec<u8> {
        let mut body = tag.as_bytes().to_vec();
        body.push(0);
        message(b'C', &body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(bytes: &[u8]) -> Result<Option<Backend>, PgError> {
        let mut b = BytesMut::from(bytes);
        parse_backend(&mut b)
    }

    #[test]
    fn encoded_messages_decode_back() {
        let cases: Vec<(Vec<u8>, Backend)> = vec![
            (backend::auth_ok(), Backend::AuthOk),
            (backend::auth_cleartext(), Backend::AuthCleartext),
            (
                backend::auth_md5([1, 2, 3, 4]),
                Backend::AuthMd5 { salt: [1, 2, 3, 4] },
            ),
            (
                backend::auth_sasl(&["SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"]),
                Backend::AuthSasl {
                    mechanisms: vec!["SCRAM-SHA-256-PLUS".into(), "SCRAM-SHA-256".into()],
                },
            ),
            (
                backend::parameter_status("server_version", "15.8"),
                Backend::ParameterStatus {
                    name: "server_version".into(),
                    value: "15.8".into(),
                },
            ),
            (
                backend::backend_key_data(42, -7),
                Backend::BackendKeyData {
                    pid: 42,
                    secret: -7,
                },
            ),
            (backend::ready_for_query(b'I'), Backend::ReadyForQuery(b'I')),
            (
                backend::row_description(&["pg_is_in_recovery"]),
                Backend::RowDescription(vec!["pg_is_in_recovery".into()]),
            ),
            (
                backend::data_row(&[Some(b"t"), None]),
                Backend::DataRow(vec![Some(b"t".to_vec()), None]),
            ),
            (
                backend::command_complete("SELECT 1"),
                Backend::CommandComplete("SELECT 1".into()),
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(one(&bytes).unwrap(), Some(want));
        }
    }

    #[test]
    fn error_response_keeps_sqlstate_and_message() {
        let b = backend::error_response("FATAL", "28P01", "password authentication failed");
        let Some(Backend::Error(e)) = one(&b).unwrap() else {
            panic!("not an error");
        };
        assert_eq!(e.severity, "FATAL");
        assert_eq!(e.code, "28P01");
        assert_eq!(e.message, "password authentication failed");
        assert_eq!(e.to_string(), "FATAL 28P01: password authentication failed");
    }

    #[test]
    fn incomplete_messages_wait_and_two_in_a_row_both_come() {
        let mut all = backend::parameter_status("a", "b");
        all.extend(backend::ready_for_query(b'I'));
        for cut in 0..all.len() {
            let mut b = BytesMut::from(&all[..cut]);
            let first = parse_backend(&mut b).unwrap();
            assert!(first.is_none() || cut >= all.len() - 6, "cut {cut}");
        }
        let mut b = BytesMut::from(&all[..]);
        assert!(matches!(
            parse_backend(&mut b).unwrap(),
            Some(Backend::ParameterStatus { .. })
        ));
        assert_eq!(
            parse_backend(&mut b).unwrap(),
            Some(Backend::ReadyForQuery(b'I'))
        );
        assert!(b.is_empty());
    }

    #[test]
    fn bad_lengths_and_tags_are_protocol_errors() {
        assert!(matches!(one(b"Z\0\0\0\x03"), Err(PgError::Protocol(_))));
        assert!(matches!(
            one(b"Z\x7f\xff\xff\xff"),
            Err(PgError::Protocol(_))
        ));
        assert!(matches!(one(b"@\0\0\0\x04"), Err(PgError::Protocol(_))));
        // ReadyForQuery with a second byte.
        assert!(matches!(one(b"Z\0\0\0\x06IX"), Err(PgError::Protocol(_))));
        // A parameter status without its terminating NUL.
        assert!(matches!(one(b"S\0\0\0\x06ab"), Err(PgError::Protocol(_))));
    }

    #[test]
    fn negotiate_protocol_version_is_decoded() {
        let mut body = 0i32.to_be_bytes().to_vec();
        body.extend_from_slice(&1i32.to_be_bytes());
        body.extend_from_slice(b"_pq_.x\0");
        let mut m = vec![b'v'];
        m.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
        m.extend_from_slice(&body);
        assert_eq!(
            one(&m).unwrap(),
            Some(Backend::NegotiateProtocolVersion {
                minor: 0,
                unrecognized: vec!["_pq_.x".into()]
            })
        );
    }

    #[test]
    fn startup_leaves_out_user_and_database_params() {
        let params = vec![
            ("user".to_string(), "mallory".to_string()),
            ("application_name".to_string(), "psql".to_string()),
        ];
        let b = frontend::startup("app_rw", Some("shop"), &params).unwrap();
        let body = &b[8..];
        assert_eq!(
            body,
            b"user\0app_rw\0database\0shop\0application_name\0psql\0\0"
        );
        assert_eq!(&b[4..8], &[0, 3, 0, 0]);
    }
}
