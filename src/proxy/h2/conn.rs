//! One HTTP/2 client connection: the `h2` crate's server over the client's byte stream
//! (h2c with prior knowledge, or TLS with ALPN `h2`), the exchange of each stream, and
//! the connection's own life: the idle timeouts, the GOAWAY of a soft stop, and the bound
//! on streams still running.
//!
//! The streams' exchanges run inside the connection's task (a `FuturesUnordered`), not
//! as tasks of their own: a stream costs no task allocation, scheduling or join, and its
//! polls share the task's clock read (docs/performance.md, wt-h2perf). The `h2`
//! connection is polled only when its own wake-up came ([`Gate`]), not at each wake-up
//! of a stream's exchange. A panic in an exchange ends the connection.
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
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::task::AtomicWaker;
use h2::server::SendResponse;
use h2::{Reason, RecvStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};

/// A stream the h2 connection accepted: its request and the handle to answer it.
type Accepted = (http::Request<RecvStream>, SendResponse<Bytes>);

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
    let mut tasks = FuturesUnordered::new();
    let gate = Arc::new(Gate {
        woken: AtomicBool::new(true),
        task: AtomicWaker::new(),
    });
    let gate_waker = Waker::from(gate.clone());
    let mut stage = Stage::Open;
    let mut streams: u64 = 0;
    let mut refused = 0usize;
    let mut idle_since = Some(crate::proxy::clock::now());
    // One timer entry for the connection's idle waits, moved only when the deadline
    // changes (while streams run there is none and it is not polled).
    let mut sleep = std::pin::pin!(tokio::time::sleep(Duration::from_secs(86400 * 365)));
    let mut armed: Option<Instant> = None;
    loop {
        let wait = if streams == 0 { first_wait } else { next_wait };
        let deadline = match (idle_since, stage) {
            (Some(since), Stage::Open) => wait.map(|w| since + w),
            // A client that does not close after the GOAWAY gets `timeout client`
            // (else a second) more.
            (Some(since), _) => Some(since + t.client.unwrap_or(Duration::from_secs(1))),
            (None, _) => None,
        };
        if let Some(d) = deadline
            && armed != Some(d)
        {
            sleep.as_mut().reset(d.into());
            armed = Some(d);
        }
        // The exchanges first, then the connection: the responses of every exchange
        // woken in this turn are queued before the connection writes them, in one TLS
        // record and one `writev` (polled in turn, one response each went out alone).
        tokio::select! {
            biased;
            Some(()) = tasks.next(), if !tasks.is_empty() => {
                if tasks.is_empty() {
                    idle_since = Some(crate::proxy::clock::now());
                }
            }
            r = std::future::poll_fn(|cx| gate.poll_accept(&mut h2, &gate_waker, cx)) => match r {
                Some(Ok((req, respond))) => {
                    let running = tasks.len();
                    if limits.max_streams > 0 && running >= limits.max_streams as usize {
                        // Streams the client reset still hold their slot until their
                        // exchange ends (the rapid-reset bound).
                        refuse(respond, &mut refused);
                        if refused > limits.max_refused() && stage != Stage::Closing {
                            h2.abrupt_shutdown(Reason::ENHANCE_YOUR_CALM);
                            gate.open();
                            stage = Stage::Closing;
                        }
                        continue;
                    }
                    let now = crate::proxy::clock::now();
                    let mut sc = conn.clone();
                    sc.accept_date =
                        conn.accept_date + now.saturating_duration_since(conn.accepted);
                    sc.accepted = now;
                    tasks.push(stream(
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
            _ = &mut sleep, if deadline.is_some() => {
                armed = None;
                match stage {
                    Stage::Open | Stage::Draining => {
                        h2.abrupt_shutdown(Reason::NO_ERROR);
                        gate.open();
                        stage = Stage::Closing;
                        idle_since = Some(crate::proxy::clock::now());
                    }
                    Stage::Closing => break,
                }
            }
            _ = crate::proxy::running::soft_stop(), if stage == Stage::Open => {
                h2.graceful_shutdown();
                gate.open();
                stage = Stage::Draining;
            }
        }
    }
    drop(h2);
    // The exchanges still running end on their own (their stream is gone).
    while tasks.next().await.is_some() {}
}

/// The `h2` connection's own wake-ups (its socket, its streams' handles) as a waker of
/// their own: the connection task polls the connection only when one came, not each time
/// an exchange running in the same task is woken (each such poll reads and decrypts
/// nothing, but costs a pass through the crate and the TLS layer).
struct Gate {
    /// A wake-up came since the connection's last poll.
    woken: AtomicBool,
    /// The connection task.
    task: AtomicWaker,
}

impl std::task::Wake for Gate {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.task.wake();
    }
}

impl Gate {
    /// The connection must be polled at the next turn (its state changed from outside
    /// a poll: a GOAWAY to send).
    fn open(&self) {
        self.woken.store(true, Ordering::Release);
    }

    /// Polls `h2` for its next stream with `waker` (this gate) when a wake-up came.
    fn poll_accept<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        h2: &mut h2::server::Connection<S, Bytes>,
        waker: &Waker,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Accepted, h2::Error>>> {
        self.task.register(cx.waker());
        if !self.woken.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        let r = h2.poll_accept(&mut Context::from_waker(waker));
        if r.is_ready() {
            // More streams may be ready: poll again at the next turn.
            self.open();
        }
        r
    }
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
