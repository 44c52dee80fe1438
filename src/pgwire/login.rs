//! Logging in to a PostgreSQL server: `StartupMessage`, then the authentication the
//! server asks for (none, cleartext, MD5 or SCRAM-SHA-256 with the `postgres-protocol`
//! crate's SCRAM client), then the server's `ParameterStatus` and `BackendKeyData`
//! messages up to `ReadyForQuery`.

use super::error::PgError;
use super::message::{Backend, BackendReader, frontend};
use bytes::BytesMut;
use postgres_protocol::authentication::md5_hash;
use postgres_protocol::authentication::sasl::{ChannelBinding, SCRAM_SHA_256, ScramSha256};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

/// A session the server has accepted, at its first `ReadyForQuery`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoggedIn {
    /// The `ParameterStatus` messages, in the order sent (`server_version`,
    /// `client_encoding`, `DateStyle`…): a proxy relays them to its client.
    pub parameters: Vec<(String, String)>,
    /// `BackendKeyData` (process id, secret key): what a `CancelRequest` for this
    /// session must quote to the server. `None` if the server sent none.
    pub key: Option<(i32, i32)>,
    /// The transaction status of `ReadyForQuery` (`b'I'`).
    pub status: u8,
    /// Bytes the server sent after `ReadyForQuery` that were already read (normally
    /// none): a byte pump sends them on first.
    pub rest: Vec<u8>,
}

impl LoggedIn {
    /// The value of parameter `name` (e.g. `server_version`).
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

async fn send<S: AsyncWrite + Unpin>(s: &mut S, buf: &BytesMut) -> Result<(), PgError> {
    s.write_all(buf).await?;
    s.flush().await?;
    Ok(())
}

fn unexpected(m: &Backend, during: &str) -> PgError {
    PgError::Protocol(format!("unexpected message {m:?} during {during}"))
}

/// Logs in on `stream` (a fresh connection, or one [`super::start_tls`] secured) as
/// `user` with `password`, asking for `database` (the server's default, the user's
/// name, when `None`) and passing the startup parameters `params` on (e.g.
/// `application_name`, `options`; `user` and `database` among them are ignored).
///
/// The server chooses the authentication: none (`trust`), cleartext, MD5 or
/// SCRAM-SHA-256 (without channel binding). An `ErrorResponse` at any point is
/// [`PgError::Server`] with the server's SQLSTATE and message, e.g. `28P01` for a wrong
/// password; Kerberos, GSSAPI, SSPI and SCRAM-SHA-256-PLUS alone are
/// [`PgError::AuthUnsupported`]. The caller bounds the time it may take.
pub async fn login<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    user: &str,
    password: &str,
    database: Option<&str>,
    params: &[(String, String)],
) -> Result<LoggedIn, PgError> {
    send(stream, &frontend::startup(user, database, params)?).await?;
    let mut r = BackendReader::new();
    authenticate(stream, &mut r, user, password).await?;
    let mut done = LoggedIn::default();
    loop {
        match r.next(stream).await? {
            Backend::ParameterStatus { name, value } => done.parameters.push((name, value)),
            Backend::BackendKeyData { pid, secret } => done.key = Some((pid, secret)),
            Backend::ReadyForQuery(st) => {
                done.status = st;
                done.rest = r.into_rest();
                return Ok(done);
            }
            Backend::Notice(_) | Backend::NegotiateProtocolVersion { .. } => {}
            Backend::Error(e) => return Err(PgError::Server(e)),
            m => return Err(unexpected(&m, "session start")),
        }
    }
}

/// Answers the server's authentication requests up to `AuthenticationOk`.
async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    r: &mut BackendReader,
    user: &str,
    password: &str,
) -> Result<(), PgError> {
    loop {
        let mut buf = BytesMut::new();
        match r.next(s).await? {
            Backend::AuthOk => return Ok(()),
            Backend::AuthCleartext => {
                frontend::password_message(password.as_bytes(), &mut buf)?;
                send(s, &buf).await?;
            }
            Backend::AuthMd5 { salt } => {
                let hash = md5_hash(user.as_bytes(), password.as_bytes(), salt);
                frontend::password_message(hash.as_bytes(), &mut buf)?;
                send(s, &buf).await?;
            }
            Backend::AuthSasl { mechanisms } => {
                if !mechanisms.iter().any(|m| m == SCRAM_SHA_256) {
                    return Err(PgError::AuthUnsupported(format!(
                        "SASL ({})",
                        mechanisms.join(", ")
                    )));
                }
                return scram(s, r, password).await;
            }
            Backend::AuthOther(what) => return Err(PgError::AuthUnsupported(what.into())),
            Backend::Error(e) => return Err(PgError::Server(e)),
            Backend::Notice(_) | Backend::NegotiateProtocolVersion { .. } => {}
            m => return Err(unexpected(&m, "authentication")),
        }
    }
}

/// SCRAM-SHA-256 (RFC 7677, without channel binding: the `n` flag) up to
/// `AuthenticationOk`; the server's signature is verified.
async fn scram<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    r: &mut BackendReader,
    password: &str,
) -> Result<(), PgError> {
    let mut sc = ScramSha256::new(password.as_bytes(), ChannelBinding::unsupported());
    let mut buf = BytesMut::new();
    frontend::sasl_initial_response(SCRAM_SHA_256, sc.message(), &mut buf)?;
    send(s, &buf).await?;
    let first = match r.next(s).await? {
        Backend::AuthSaslContinue(d) => d,
        Backend::Error(e) => return Err(PgError::Server(e)),
        m => return Err(unexpected(&m, "SCRAM")),
    };
    sc.update(&first)
        .map_err(|e| PgError::Protocol(format!("SCRAM server-first-message: {e}")))?;
    buf.clear();
    frontend::sasl_response(sc.message(), &mut buf)?;
    send(s, &buf).await?;
    let last = match r.next(s).await? {
        Backend::AuthSaslFinal(d) => d,
        Backend::Error(e) => return Err(PgError::Server(e)),
        m => return Err(unexpected(&m, "SCRAM")),
    };
    sc.finish(&last)
        .map_err(|e| PgError::Protocol(format!("SCRAM server signature: {e}")))?;
    match r.next(s).await? {
        Backend::AuthOk => Ok(()),
        Backend::Error(e) => Err(PgError::Server(e)),
        m => Err(unexpected(&m, "SCRAM")),
    }
}

/// Ends a session politely (`Terminate`); errors are of no interest then.
pub async fn terminate<S: AsyncWrite + Unpin>(s: &mut S) {
    let mut buf = BytesMut::new();
    frontend::terminate(&mut buf);
    let _ = s.write_all(&buf).await;
    let _ = s.flush().await;
}

#[cfg(test)]
mod tests {
    use super::super::message::backend as be;
    use super::*;
    use tokio::io::{AsyncReadExt, DuplexStream, duplex};

    /// Reads one frontend message (tag, body) from the fake server's side.
    async fn read_msg(s: &mut DuplexStream) -> (u8, Vec<u8>) {
        let tag = s.read_u8().await.unwrap();
        let len = s.read_u32().await.unwrap() as usize;
        let mut body = vec![0; len - 4];
        s.read_exact(&mut body).await.unwrap();
        (tag, body)
    }

    /// Reads the startup message; returns its parameters.
    async fn read_startup(s: &mut DuplexStream) -> Vec<(String, String)> {
        let len = s.read_u32().await.unwrap() as usize;
        let mut body = vec![0; len - 4];
        s.read_exact(&mut body).await.unwrap();
        assert_eq!(&body[..4], &[0, 3, 0, 0]);
        let words: Vec<String> = body[4..]
            .split(|b| *b == 0)
            .filter(|w| !w.is_empty())
            .map(|w| String::from_utf8(w.to_vec()).unwrap())
            .collect();
        words
            .chunks(2)
            .map(|c| (c[0].clone(), c[1].clone()))
            .collect()
    }

    async fn after_auth(s: &mut DuplexStream) {
        let mut out = be::auth_ok();
        out.extend(be::parameter_status("server_version", "15.8"));
        out.extend(be::backend_key_data(1234, 5678));
        out.extend(be::ready_for_query(b'I'));
        s.write_all(&out).await.unwrap();
    }

    #[tokio::test]
    async fn cleartext_login_sends_the_password_and_returns_the_key() {
        let (mut client, mut server) = duplex(4096);
        let srv = tokio::spawn(async move {
            let params = read_startup(&mut server).await;
            assert_eq!(
                params,
                vec![
                    ("user".into(), "app_rw".into()),
                    ("database".into(), "shop".into()),
                    ("application_name".into(), "psql".into())
                ]
            );
            server.write_all(&be::auth_cleartext()).await.unwrap();
            let (tag, body) = read_msg(&mut server).await;
            assert_eq!((tag, body.as_slice()), (b'p', &b"s3cret\0"[..]));
            after_auth(&mut server).await;
        });
        let params = vec![("application_name".to_string(), "psql".to_string())];
        let done = login(&mut client, "app_rw", "s3cret", Some("shop"), &params)
            .await
            .unwrap();
        srv.await.unwrap();
        assert_eq!(done.key, Some((1234, 5678)));
        assert_eq!(done.parameter("server_version"), Some("15.8"));
        assert_eq!(done.status, b'I');
    }

    #[tokio::test]
    async fn md5_login_sends_postgres_md5_hash() {
        let (mut client, mut server) = duplex(4096);
        let srv = tokio::spawn(async move {
            read_startup(&mut server).await;
            server.write_all(&be::auth_md5([1, 2, 3, 4])).await.unwrap();
            let (tag, body) = read_msg(&mut server).await;
            assert_eq!(tag, b'p');
            // md5(md5(password + user) + salt), as PostgreSQL computes it.
            let want = md5_hash(b"u", b"pw", [1, 2, 3, 4]);
            assert!(want.starts_with("md5") && want.len() == 35);
            assert_eq!(&body[..body.len() - 1], want.as_bytes());
            after_auth(&mut server).await;
        });
        login(&mut client, "u", "pw", None, &[]).await.unwrap();
        srv.await.unwrap();
    }

    #[tokio::test]
    async fn a_refusal_is_the_servers_sqlstate_and_message() {
        let (mut client, mut server) = duplex(4096);
        tokio::spawn(async move {
            read_startup(&mut server).await;
            server.write_all(&be::auth_cleartext()).await.unwrap();
            read_msg(&mut server).await;
            let e = be::error_response(
                "FATAL",
                "28P01",
                "password authentication failed for user \"u\"",
            );
            server.write_all(&e).await.unwrap();
        });
        let e = login(&mut client, "u", "bad", None, &[]).await.unwrap_err();
        assert_eq!(e.sqlstate(), "28P01");
        assert_eq!(e.message(), "password authentication failed for user \"u\"");
    }

    #[tokio::test]
    async fn gssapi_is_unsupported_and_a_closed_connection_is_08006() {
        let (mut client, mut server) = duplex(4096);
        tokio::spawn(async move {
            read_startup(&mut server).await;
            // AuthenticationGSS.
            server.write_all(b"R\0\0\0\x08\0\0\0\x07").await.unwrap();
        });
        let e = login(&mut client, "u", "pw", None, &[]).await.unwrap_err();
        assert!(matches!(e, PgError::AuthUnsupported(_)), "{e:?}");
        assert_eq!(e.sqlstate(), "28000");

        let (mut client, mut server) = duplex(4096);
        tokio::spawn(async move {
            read_startup(&mut server).await;
            drop(server);
        });
        let e = login(&mut client, "u", "pw", None, &[]).await.unwrap_err();
        assert!(matches!(e, PgError::Closed), "{e:?}");
        assert_eq!(e.sqlstate(), "08006");
    }

    #[tokio::test]
    async fn sasl_without_scram_sha_256_is_unsupported() {
        let (mut client, mut server) = duplex(4096);
        tokio::spawn(async move {
            read_startup(&mut server).await;
            server
                .write_all(&be::auth_sasl(&["SCRAM-SHA-256-PLUS"]))
                .await
                .unwrap();
        });
        let e = login(&mut client, "u", "pw", None, &[]).await.unwrap_err();
        assert!(matches!(e, PgError::AuthUnsupported(_)), "{e:?}");
    }

    #[tokio::test]
    async fn scram_with_a_forged_server_signature_fails() {
        let (mut client, mut server) = duplex(4096);
        tokio::spawn(async move {
            read_startup(&mut server).await;
            server
                .write_all(&be::auth_sasl(&["SCRAM-SHA-256"]))
                .await
                .unwrap();
            let (tag, body) = read_msg(&mut server).await;
            assert_eq!(tag, b'p');
            // "SCRAM-SHA-256\0", length, then "n,,n=,r=NONCE".
            let first = String::from_utf8_lossy(&body[18..]).into_owned();
            assert!(first.starts_with("n,,n=,r="), "{first}");
            let nonce = &first[8..];
            let server_first = format!("r={nonce}srv,s=c2FsdA==,i=4096");
            server
                .write_all(&be::auth_sasl_continue(server_first.as_bytes()))
                .await
                .unwrap();
            read_msg(&mut server).await;
            server
                .write_all(&be::auth_sasl_final(
                    b"v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                ))
                .await
                .unwrap();
        });
        let e = login(&mut client, "u", "pw", None, &[]).await.unwrap_err();
        assert!(matches!(e, PgError::Protocol(_)), "{e:?}");
    }
}
