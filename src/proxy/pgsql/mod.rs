//! `bind … proto pgsql` (gatehouse only, docs/pgsql.md): the PostgreSQL front door.
//! gatehouse speaks PostgreSQL's protocol (version 3) with the client up to
//! authentication, then hands the session to the `mode tcp` byte pump:
//!
//! 1. startup packets ([`wire`]): `SSLRequest` (`S` and a rustls handshake when the bind
//!    has `ssl`, `N` otherwise), `GSSENCRequest` (`N`), `CancelRequest` ([`cancel`]),
//!    then the `StartupMessage`;
//! 2. `AuthenticationCleartextPassword`: the password is a bearer token (in the clear
//!    only from loopback clients unless `option pgsql-insecure-auth`);
//! 3. `tcp-request content` rules ([`rules`]): `authenticate`, `reject`, `accept`,
//!    `set-credentials`, on a [`source::PgSource`] (`pgsql_*` and `identity_*`
//!    fetches), then `use_backend`/`default_backend`;
//! 4. balance, queue and connect as `mode tcp` (`crate::proxy::connect`), log in to the
//!    server with the picked credentials (`crate::pgwire::login`), keeping the client's
//!    database and startup parameters;
//! 5. relay `ParameterStatus`, a `BackendKeyData` of gatehouse's own and
//!    `ReadyForQuery`, then pump bytes (`crate::proxy::tunnel`) with the tcp timeouts,
//!    whole reads forwarded unparsed ([`pumped`]: the client's statements go to the
//!    audit log through [`tap`] only when asked).
//!
//! Refusals are `ErrorResponse`s with their SQLSTATE ([`refuse`]); connect, statement
//! and disconnect lines go to the identity section's audit log ([`audit`]).

pub mod audit;
pub mod cancel;
pub mod pumped;
pub mod refuse;
mod rules;
pub mod source;
pub mod tap;
pub mod wire;

use super::connect::{self, ConnectError, ConnectInfo};
use super::session::{self, ConnInfo};
use super::tunnel::{self, TunnelEnd, TunnelTimeouts};
use crate::log::{FinState, LogRecord, TermCause};
use crate::pgwire::message::backend;
use crate::runtime::backend::Backend;
use crate::runtime::frontend::Frontend;
use crate::runtime::snapshot::Snapshot;
use refuse::Refusal;
use serde_json::Value;
use source::PgSource;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use wire::Startup;

/// How long the server login may take when neither `timeout connect` nor `timeout
/// server` says.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the `57P01` of a session shut down from outside may take to go out (a
/// client that reads nothing does not hold the session).
const GOODBYE_TIMEOUT: Duration = Duration::from_secs(1);

/// What the startup phase ended with.
enum Next {
    /// The client asked for TLS and the bind has it: `S` was sent.
    Tls,
    /// A `StartupMessage`: its minor protocol version and parameters.
    Startup(u16, Vec<(String, String)>),
    /// Nothing more to do (a cancel forwarded, a client gone, an error sent).
    Done,
}

/// Serves one connection of a `proto pgsql` bind (after its PROXY header, if any);
/// `tls` is the bind's configuration when it has `ssl`.
pub async fn serve<S>(
    fe: Arc<Frontend>,
    snap: Arc<Snapshot>,
    mut client: S,
    mut conn: ConnInfo,
    tls: Option<Arc<crate::tls::server::BindTlsRt>>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let timeout = fe.timeouts.client;
    match startup(&mut client, tls.is_some(), timeout).await {
        Next::Done => {}
        Next::Startup(minor, params) => session(fe, snap, client, conn, minor, params).await,
        Next::Tls => {
            let Some(cfg) = tls else { return };
            let Ok((mut t, facts)) = super::tls::accept(cfg, client, timeout).await else {
                return;
            };
            conn.tls = Some(Arc::new(facts));
            if let Next::Startup(minor, params) = startup(&mut t, false, timeout).await {
                session(fe, snap, t, conn, minor, params).await
            }
        }
    }
}

/// Reads startup packets until a `StartupMessage` (answering `SSLRequest` and
/// `GSSENCRequest`, forwarding a `CancelRequest`).
async fn startup<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    tls_offered: bool,
    timeout: Option<Duration>,
) -> Next {
    let mut ssl_asked = false;
    loop {
        let read = wire::read_startup(s);
        let body = match timeout {
            Some(t) => match tokio::time::timeout(t, read).await {
                Ok(r) => r,
                Err(_) => return Next::Done,
            },
            None => read.await,
        };
        let body = match body {
            Ok(Some(b)) => b,
            Ok(None) => return Next::Done,
            Err(_) => {
                let _ = s
                    .write_all(&Refusal::from(wire::WireError::Length).response())
                    .await;
                return Next::Done;
            }
        };
        match wire::parse_startup(&body) {
            Err(e) => {
                let _ = s.write_all(&Refusal::from(e).response()).await;
                return Next::Done;
            }
            Ok(Startup::SslRequest) if tls_offered && !ssl_asked => {
                if s.write_all(b"S").await.is_err() {
                    return Next::Done;
                }
                return Next::Tls;
            }
            Ok(Startup::SslRequest | Startup::GssEncRequest) => {
                ssl_asked = true;
                if s.write_all(b"N").await.is_err() {
                    return Next::Done;
                }
            }
            Ok(Startup::Cancel { pid, key }) => {
                cancel::forward(pid, key, timeout).await;
                return Next::Done;
            }
            Ok(Startup::Startup { minor, params }) => return Next::Startup(minor, params),
        }
    }
}

/// Reads the client's password message (the token) within `timeout`.
async fn read_token<S: AsyncRead + Unpin>(
    s: &mut S,
    timeout: Option<Duration>,
) -> Result<Option<String>, Refusal> {
    let read = crate::pgwire::frame::read_message(s, wire::MAX_PASSWORD);
    let got = match timeout {
        Some(t) => match tokio::time::timeout(t, read).await {
            Ok(r) => r,
            Err(_) => return Ok(None),
        },
        None => read.await,
    };
    let Ok((tag, body)) = got else {
        return Ok(None);
    };
    let pw = wire::parse_password(tag, &body)?;
    Ok(Some(String::from_utf8_lossy(pw).into_owned()))
}

/// Whether a token may travel in the clear from this client: over TLS always, else
/// from loopback (or a unix socket), or from anyone with `option pgsql-insecure-auth`.
fn cleartext_allowed(fe: &Frontend, conn: &ConnInfo) -> bool {
    conn.tls.is_some()
        || fe.pgsql.insecure_auth
        || conn.peer.is_none_or(|p| match p.ip() {
            std::net::IpAddr::V4(a) => a.is_loopback(),
            std::net::IpAddr::V6(a) => {
                a.is_loopback() || a.to_ipv4_mapped().is_some_and(|v| v.is_loopback())
            }
        })
}

/// The session after its `StartupMessage`.
async fn session<S>(
    fe: Arc<Frontend>,
    snap: Arc<Snapshot>,
    mut client: S,
    conn: ConnInfo,
    minor: u16,
    params: Vec<(String, String)>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    // A newer 3.x or protocol options (`_pq_.*`): the front door speaks 3.0 without
    // options, and says so as PostgreSQL does.
    let (options, params): (Vec<_>, Vec<_>) = params
        .into_iter()
        .partition(|(k, _)| k.starts_with("_pq_."));
    if (minor > 0 || !options.is_empty())
        && client
            .write_all(&wire::negotiate_protocol_version(
                &options.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
            ))
            .await
            .is_err()
    {
        return;
    }
    let src = PgSource::new(&conn, &params);
    let providers = rules::providers(&fe);
    let mut rec = LogRecord::new(conn.accept_date, &fe.name);
    rec.client = conn.peer;
    rec.frontend_addr = conn.local;
    rec.frontend_ssl = conn.tls.is_some();
    rec.status = 0;
    let mut line = String::new();
    let decided = decide(&fe, &snap, &mut client, &src, &providers).await;
    let log = audit::log_for(src.identity.get().map(|i| &**i), &providers);
    let user = src.param("user").unwrap_or("").to_owned();
    let database = src.database().unwrap_or("").to_owned();
    let connect_line = |decision: &str, backend: &str, server: &str, error: Option<&Refusal>| {
        if let Some(a) = &log {
            let mut f = vec![
                (
                    "client",
                    Value::from(conn.peer.map_or("unix".to_owned(), |p| p.to_string())),
                ),
                ("frontend", Value::from(fe.name.as_str())),
            ];
            f.extend(audit::identity_fields(src.identity.get().map(|i| &**i)));
            f.extend([
                ("user", Value::from(user.as_str())),
                ("database", Value::from(database.as_str())),
                (
                    "credentials",
                    src.credentials
                        .get()
                        .map_or(Value::Null, |c| Value::from(c.name.as_str())),
                ),
                ("backend", Value::from(backend)),
                ("server", Value::from(server)),
                ("decision", Value::from(decision)),
                ("tls", Value::from(conn.tls.is_some())),
            ]);
            if let Some(e) = error {
                f.push(("sqlstate", Value::from(e.sqlstate())));
                f.push(("error", Value::from(e.to_string())));
            }
            a.line("connect", f);
        }
    };
    let (be, creds) = match decided {
        Ok(x) => x,
        Err(Some(refusal)) => {
            connect_line(refusal.decision(), "", "", Some(&refusal));
            let _ = client.write_all(&refusal.response()).await;
            let _ = client.shutdown().await;
            rec.backend = &fe.name;
            rec.term_cause = TermCause::Proxy;
            rec.fin_state = FinState::Request;
            rec.t_total = session::ms(conn.accepted.elapsed());
            session::counters(&mut rec, &snap, &fe);
            session::account(&fe, None, None, &rec, false);
            session::emit_from(&fe, &rec, false, false, None, Some(&src), &mut line);
            return;
        }
        // The client went away.
        Err(None) => return,
    };
    be.counters.session_start();
    let mut info = ConnectInfo {
        pgsql: true,
        ..ConnectInfo::default()
    };
    let result = connect::connect(&be, &src, conn.local, &mut info, None).await;
    rec.backend = &be.name;
    rec.t_queue = session::ms(info.queue);
    rec.retries = info.retries;
    rec.redispatched = info.redispatched;
    let (mut server, slot) = match result {
        Ok(x) => x,
        Err(e) => {
            let refusal = Refusal::NoServer;
            connect_line(refusal.decision(), &be.name, "", Some(&refusal));
            let _ = client.write_all(&refusal.response()).await;
            rec.t_connect = Some(-1);
            rec.term_cause = if e == ConnectError::Timeout {
                TermCause::ServerTimeout
            } else {
                TermCause::ServerAbort
            };
            rec.fin_state = if e == ConnectError::QueueTimeout {
                FinState::Queue
            } else {
                FinState::Connect
            };
            rec.t_total = session::ms(conn.accepted.elapsed());
            be.counters.session_end();
            session::counters(&mut rec, &snap, &fe);
            session::account(&fe, Some(&be), None, &rec, false);
            session::emit_from(&fe, &rec, false, false, None, Some(&src), &mut line);
            return;
        }
    };
    let srv = slot.server.clone();
    rec.t_connect = session::ms(info.connect);
    rec.server = Some(&srv.name);
    let server_addr = connect::target(&srv, conn.local);
    rec.server_addr = srv.unix.is_none().then_some(server_addr);
    // Toward the server: the role and password of the credentials; the client's
    // database and other startup parameters.
    let forwarded: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "user" && k != "database")
        .cloned()
        .collect();
    let login = crate::pgwire::login(
        &mut server,
        creds.user.as_deref().unwrap_or(""),
        creds.password.as_deref().unwrap_or(""),
        Some(&database),
        &forwarded,
    );
    let limit = be
        .timeouts
        .server
        .or(be.timeouts.connect)
        .unwrap_or(LOGIN_TIMEOUT);
    let logged = match tokio::time::timeout(limit, login).await {
        Ok(Ok(l)) => Ok(l),
        Ok(Err(e)) => Err(match e.server() {
            Some(se) if !se.code.starts_with("28") => Refusal::Server {
                code: se.code.clone(),
                message: se.message.clone(),
            },
            _ => Refusal::ServerLogin {
                server: format!("{}/{}", be.name, srv.name),
                why: e.message(),
            },
        }),
        Err(_) => Err(Refusal::ServerLogin {
            server: format!("{}/{}", be.name, srv.name),
            why: "timeout".into(),
        }),
    };
    let logged = match logged {
        Ok(l) => l,
        Err(refusal) => {
            connect_line("error", &be.name, &srv.name, Some(&refusal));
            let _ = client.write_all(&refusal.response()).await;
            drop(slot);
            rec.term_cause = TermCause::ServerAbort;
            rec.fin_state = FinState::Connect;
            rec.t_total = session::ms(conn.accepted.elapsed());
            be.counters.session_end();
            session::counters(&mut rec, &snap, &fe);
            session::account(&fe, Some(&be), Some(&srv), &rec, false);
            session::emit_from(&fe, &rec, false, false, None, Some(&src), &mut line);
            return;
        }
    };
    // The client's own key for cancellation; the server's stays here.
    let registered = logged
        .key
        .map(|(pid, key)| cancel::Registered::new(server_addr, pid, key));
    let mut hello = backend::auth_ok();
    for (k, v) in &logged.parameters {
        hello.extend(backend::parameter_status(k, v));
    }
    if let Some(r) = &registered {
        hello.extend(backend::backend_key_data(r.key.0, r.key.1));
    }
    hello.extend(backend::ready_for_query(logged.status));
    hello.extend_from_slice(&logged.rest);
    connect_line("allow", &be.name, &srv.name, None);
    if client.write_all(&hello).await.is_err() {
        drop(slot);
        be.counters.session_end();
        return;
    }
    let tunnel_t = be.timeouts.tunnel;
    let t = TunnelTimeouts {
        client: tunnel_t.or(fe.timeouts.client),
        server: tunnel_t.or(be.timeouts.server),
        client_fin: fe.timeouts.client_fin,
        server_fin: be.timeouts.server_fin,
    };
    // The statement audit, when asked for, sees the client's bytes.
    let tap = match (fe.pgsql.audit_statements, &log) {
        (Some(max), Some(a)) => {
            let a = a.clone();
            let on: pumped::OnStatement = Box::new(move |kind: u8, text: &[u8]| {
                let kind = if kind == b'P' { "parse" } else { "query" };
                a.line(
                    "statement",
                    vec![
                        ("kind", Value::from(kind)),
                        (
                            "text",
                            Value::from(String::from_utf8_lossy(text).into_owned()),
                        ),
                    ],
                );
            });
            Some((tap::Framer::new(max), on))
        }
        _ => None,
    };
    let mut cw = pumped::Pumped::new(client, tap);
    // The server's bytes after its `ReadyForQuery` went out with the hello.
    cw.sent_before(&logged.rest);
    // `on-marked-down shutdown-sessions` / `on-marked-up shutdown-backup-sessions` end
    // the session from outside, as in `mode tcp`.
    let mut shutdown = srv.shutdown.watch();
    let mut killed = None;
    let stop = async {
        killed = Some(shutdown.wait().await);
    };
    let bufsize = snap.global.bufsize;
    let (res, _) = tunnel::run_until(&mut cw, &mut server, t, bufsize, stop).await;
    if let Some(cause) = killed {
        // As PostgreSQL ends its own sessions: a FATAL `57P01`, then the close. Only
        // between two messages: inside one (a result being streamed), the close alone.
        if cw.at_boundary() {
            let refusal = Refusal::ServerShutdown {
                server: format!("{}/{}", be.name, srv.name),
                up: cause == TermCause::Up,
            };
            let _ = tokio::time::timeout(GOODBYE_TIMEOUT, cw.write_all(&refusal.response())).await;
        }
        let _ = tokio::time::timeout(GOODBYE_TIMEOUT, cw.shutdown()).await;
        rec.term_cause = cause;
    }
    if res.end != TunnelEnd::Closed {
        let _ = cw.shutdown().await;
    }
    drop(registered);
    rec.bytes_out = res.down;
    rec.bytes_in = res.up;
    let ended;
    (rec.term_cause, rec.fin_state, ended) = match res.end {
        // Logged `D-` or `U-`, as in `mode tcp`.
        _ if killed.is_some() => (rec.term_cause, FinState::None, "shut down"),
        TunnelEnd::Closed => (TermCause::None, FinState::None, "closed"),
        TunnelEnd::ClientTimeout => (TermCause::ClientTimeout, FinState::Data, "client timeout"),
        TunnelEnd::ServerTimeout => (TermCause::ServerTimeout, FinState::Data, "server timeout"),
        TunnelEnd::ClientError => (TermCause::ClientAbort, FinState::Data, "client error"),
        TunnelEnd::ServerError => (TermCause::ServerAbort, FinState::Data, "server error"),
    };
    rec.t_total = session::ms(conn.accepted.elapsed());
    if let Some(a) = &log {
        a.line(
            "disconnect",
            vec![
                (
                    "duration_ms",
                    Value::from(conn.accepted.elapsed().as_millis() as u64),
                ),
                ("bytes_from_client", Value::from(res.up)),
                ("bytes_to_client", Value::from(res.down)),
                ("end", Value::from(ended)),
            ],
        );
    }
    drop(slot);
    be.counters.session_end();
    rec.srv_conn = srv.cur_conns.load(Ordering::Relaxed);
    rec.beconn = be.counters.scur.load(Ordering::Relaxed);
    session::counters(&mut rec, &snap, &fe);
    session::account(&fe, Some(&be), Some(&srv), &rec, false);
    session::emit_from(&fe, &rec, false, false, None, Some(&src), &mut line);
}

/// Asks for the token, runs the rules and picks the backend and credentials.
/// `Err(None)`: the client left.
async fn decide<S: AsyncRead + AsyncWrite + Unpin>(
    fe: &Frontend,
    snap: &Snapshot,
    client: &mut S,
    src: &PgSource<'_>,
    providers: &[Arc<crate::identity::Provider>],
) -> Result<(Arc<Backend>, Arc<crate::config::credentials::Credentials>), Option<Refusal>> {
    if super::running::stopping() {
        return Err(Some(Refusal::ShuttingDown));
    }
    let token = if providers.is_empty() {
        None
    } else {
        if !cleartext_allowed(fe, src.conn) {
            return Err(Some(Refusal::Cleartext));
        }
        if client.write_all(&backend::auth_cleartext()).await.is_err() {
            return Err(None);
        }
        match read_token(client, fe.timeouts.client).await {
            Ok(Some(t)) => Some(t),
            Ok(None) => return Err(None),
            Err(r) => return Err(Some(r)),
        }
    };
    if let Some(kid) = token.as_deref().and_then(crate::identity::jwt::kid_of) {
        for p in providers {
            p.keys.ensure_kid(&kid).await;
        }
    }
    rules::run(fe, snap, src, token.as_deref())
}
