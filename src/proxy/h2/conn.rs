//! One HTTP/2 client connection: the `h2` crate's server over the client's byte stream
//! (h2c with prior knowledge, or TLS with ALPN `h2`), one task per stream running the
//! exchange, and the connection's own life: the idle timeouts, the GOAWAY of a soft
//! stop, and the bound on streams still running.
//!
//! Timeouts as HAProxy's HTTP/2 side: while no stream runs, the connection waits for the
//! next one under `timeout http-request` (first stream) or `timeout http-keep-alive`
//! (later ones), else `timeout client`, then closes with GOAWAY `NO_ERROR`; while
//! streams run, each exchange has its own timeouts. A soft stop (SIGUSR1, `-sf`) sends
//! GOAWAY at once: the streams in flight finish, no new one is taken, and the connection
//! closes when the last one ended.

use super::client_codec::H2Client;
use super::limits::Limits;
use crate::proxy::session::ConnInfo;
use crate::runtime::frontend::Frontend;
use crate::runtime::snapshot::{Shared, Snapshot};
use bytes::Bytes;
use h2::server::SendResponse;
use h2::{Reason, RecvStream};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinSet;

/// Where the connection is in its life.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Taking streams.
    Open,
    /// GOAWAY sent gracefully: the streams in flight finish.
    Draining,
    /// GOAWAY sent with an error or at a timeout: closing.
    Closing,
}

/// Serves one HTTP/2 client connection until it closes; `hold` (its maxconn slots and
/// counts) is dropped then. `fe` and `snap` are those of the accept; each stream takes the
/// snapshot current when it begins.
pub async fn serve<S, H>(
    fe: Arc<Frontend>,
    snap: Arc<Snapshot>,
    shared: Shared,
    io: S,
    conn: ConnInfo,
    hold: H,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    H: Send + 'static,
{
    let _hold = hold;
    let limits = Limits::of(&snap.global);
    let t = fe.timeouts.clone();
    let first_wait = t.http_request.or(t.client);
    let next_wait = t.http_keep_alive.or(t.http_request).or(t.client);
    let handshake = limits.builder().handshake::<_, Bytes>(io);
    let mut h2 = match first_wait {
        Some(d) => match tokio::time::timeout(d, handshake).await {
            Ok(Ok(c)) => c,
            _ => return,
        },
        None => match handshake.await {
            Ok(c) => c,
            Err(_) => return,
        },
    };
    let mut tasks: JoinSet<()> = JoinSet::new();
    let mut stage = Stage::Open;
    let mut streams: u64 = 0;
    let mut refused = 0usize;
    let mut idle_since = Some(Instant::now());
    let far = Duration::from_secs(86400 * 365);
    loop {
        let wait = if streams == 0 { first_wait } else { next_wait };
        let deadline = match (idle_since, stage) {
            (Some(since), Stage::Open) => wait.map(|w| since + w),
            // A client that does not close after the GOAWAY gets `timeout client`
            // (else a second) more.
            (Some(since), _) => Some(since + t.client.unwrap_or(Duration::from_secs(1))),
            (None, _) => None,
        };
        let sleep =
            tokio::time::sleep_until(deadline.unwrap_or_else(|| Instant::now() + far).into());
        tokio::select! {
            r = h2.accept() => match r {
                Some(Ok((req, respond))) => {
                    // Exchanges that ended since the last turn free their slot first.
                    while let Some(Ok(())) = tasks.try_join_next() {}
                    let running = tasks.len();
                    if limits.max_streams > 0 && running >= limits.max_streams as usize {
                        // Streams the client reset still hold their slot until their
                        // exchange ends (the rapid-reset bound).
                        refuse(respond, &mut refused);
                        if refused > limits.max_refused() && stage != Stage::Closing {
                            h2.abrupt_shutdown(Reason::ENHANCE_YOUR_CALM);
                            stage = Stage::Closing;
                        }
                        continue;
                    }
                    let now = Instant::now();
                    let mut sc = conn.clone();
                    sc.accepted = now;
                    sc.accept_date = SystemTime::now();
                    tasks.spawn(stream(
                        fe.clone(),
                        snap.clone(),
                        shared.clone(),
                        sc,
                        streams == 0,
                        req,
                        respond,
                    ));
                    streams += 1;
                    idle_since = None;
                }
                // A connection error (the crate sent its GOAWAY) or the end.
                Some(Err(_)) | None => break,
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {
                if tasks.is_empty() {
                    idle_since = Some(Instant::now());
                }
            }
            _ = sleep, if deadline.is_some() => match stage {
                Stage::Open | Stage::Draining => {
                    h2.abrupt_shutdown(Reason::NO_ERROR);
                    stage = Stage::Closing;
                    idle_since = Some(Instant::now());
                }
                Stage::Closing => break,
            },
            _ = crate::proxy::running::soft_stop(), if stage == Stage::Open => {
                h2.graceful_shutdown();
                stage = Stage::Draining;
            }
        }
    }
    drop(h2);
    // The exchanges still running end on their own (their stream is gone).
    while tasks.join_next().await.is_some() {}
}

/// Refuses a stream past the limit: `REFUSED_STREAM` (the client may retry it).
fn refuse(mut respond: SendResponse<Bytes>, refused: &mut usize) {
    respond.send_reset(Reason::REFUSED_STREAM);
    *refused += 1;
}

/// One stream: its exchange, or the refusal of a request that cannot have one.
async fn stream(
    fe: Arc<Frontend>,
    snap: Arc<Snapshot>,
    shared: Shared,
    conn: ConnInfo,
    first: bool,
    req: http::Request<RecvStream>,
    respond: SendResponse<Bytes>,
) {
    match H2Client::new(req, respond, conn.accepted) {
        Ok(mut client) => {
            crate::proxy::http::serve_stream(fe, snap, shared, conn, first, &mut client).await
        }
        Err((status, mut respond)) => {
            let mut head = http::Response::new(());
            *head.status_mut() =
                http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::BAD_REQUEST);
            let _ = respond.send_response(head, true);
        }
    }
}
