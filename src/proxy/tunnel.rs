//! Bidirectional forwarding with half-close and HAProxy's inactivity timeouts: `mode tcp`
//! sessions and HTTP upgrades (WebSocket) both end up here.
//!
//! Each direction pumps bytes from one side to the other. A side's inactivity timer
//! (`timeout client` / `timeout server`, or `timeout tunnel` for both once set) is reset by
//! any byte read from or written to that side. When one side half-closes, its FIN is
//! passed on with `shutdown(Write)` and the other direction goes on; from then on the
//! half-closed peer's timer uses `timeout client-fin` / `timeout server-fin` if set.
//!
//! As in HAProxy, an inactivity timeout ends only the direction that timed out: a client
//! that sent nothing for `timeout client` has its direction shut (the server gets a FIN)
//! while the server's replies still reach it; the session ends when the other direction
//! ends too, and is logged as ended by that first timeout.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Notify;

/// The timeouts a tunnel applies.
#[derive(Clone, Copy, Debug, Default)]
pub struct TunnelTimeouts {
    /// Client side inactivity.
    pub client: Option<Duration>,
    /// Server side inactivity.
    pub server: Option<Duration>,
    /// Client side once it is half-closed.
    pub client_fin: Option<Duration>,
    /// Server side once it is half-closed.
    pub server_fin: Option<Duration>,
}

/// How a tunnel ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TunnelEnd {
    /// Both sides closed normally.
    Closed,
    /// The client side was inactive too long.
    ClientTimeout,
    /// The server side was inactive too long.
    ServerTimeout,
    /// The client side failed (reset).
    ClientError,
    /// The server side failed (reset).
    ServerError,
}

/// What went through a tunnel.
#[derive(Clone, Copy, Debug)]
pub struct TunnelResult {
    /// Bytes from the client to the server.
    pub up: u64,
    /// Bytes from the server to the client.
    pub down: u64,
    /// How it ended.
    pub end: TunnelEnd,
}

struct Clock {
    base: Instant,
    client: AtomicU64,
    server: AtomicU64,
    client_done: AtomicBool,
    server_done: AtomicBool,
    /// Both directions timed out together: the session is aborted.
    aborted: AtomicBool,
    /// Woken when a direction ends (its reader may switch to a `-fin` timeout).
    changed: Notify,
    /// Bytes forwarded so far, client to server and back (what a session stopped from
    /// outside reports).
    up: AtomicU64,
    down: AtomicU64,
}

impl Clock {
    fn now(&self) -> u64 {
        self.base.elapsed().as_millis() as u64
    }
    fn touch(&self, client: bool) {
        let n = self.now();
        if client { &self.client } else { &self.server }.store(n, Ordering::Relaxed);
    }
    fn finish(&self, done: &AtomicBool) {
        done.store(true, Ordering::Relaxed);
        self.changed.notify_waiters();
    }
    fn last(&self, client: bool) -> u64 {
        if client { &self.client } else { &self.server }.load(Ordering::Relaxed)
    }
}

/// One direction: reads from `r` (side `from_client`), writes to `w`.
async fn pump<R, W>(
    r: &mut R,
    w: &mut W,
    from_client: bool,
    clock: &Clock,
    t: &TunnelTimeouts,
    buf_size: usize,
) -> (u64, Option<TunnelEnd>)
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut buf = vec![0u8; buf_size];
    let mut total = 0u64;
    let (read_err, write_err) = if from_client {
        (TunnelEnd::ClientError, TunnelEnd::ServerError)
    } else {
        (TunnelEnd::ServerError, TunnelEnd::ClientError)
    };
    let (my_done, peer_done) = if from_client {
        (&clock.client_done, &clock.server_done)
    } else {
        (&clock.server_done, &clock.client_done)
    };
    let (normal, fin) = if from_client {
        (t.client, t.client_fin)
    } else {
        (t.server, t.server_fin)
    };
    loop {
        // The reading side's timer; once the other direction is finished, the peer we
        // read from is the only one left and is half-closed on our side.
        let changed = clock.changed.notified();
        tokio::pin!(changed);
        // Registered before the flag is read, so that a change in between is not missed.
        changed.as_mut().enable();
        let half_closed = peer_done.load(Ordering::Relaxed);
        let limit = if half_closed { fin.or(normal) } else { normal };
        // While the peer's direction runs, its end may switch us to the `-fin` timeout.
        let watch = !half_closed && fin.is_some();
        let read = match (limit, watch) {
            (None, false) => Read::Done(r.read(&mut buf).await),
            (limit, _) => {
                let left = limit.map(|limit| {
                    let idle_for = clock.now().saturating_sub(clock.last(from_client));
                    limit.saturating_sub(Duration::from_millis(idle_for))
                });
                tokio::select! {
                    res = r.read(&mut buf) => Read::Done(res),
                    _ = sleep_or_never(left) => Read::Expired,
                    _ = &mut changed, if watch => Read::Changed,
                }
            }
        };
        let n = match read {
            Read::Done(res) => res,
            Read::Changed => continue,
            Read::Expired => {
                let idle = clock.now().saturating_sub(clock.last(from_client));
                if limit.is_some_and(|l| Duration::from_millis(idle) < l) {
                    continue;
                }
                let end = if from_client {
                    TunnelEnd::ClientTimeout
                } else {
                    TunnelEnd::ServerTimeout
                };
                // Both directions idle past their timeouts at once (HAProxy sees both
                // expire in the same wake-up): the session is aborted, no FIN is sent,
                // and with `option nolinger` the sockets are reset.
                let other = if peer_done.load(Ordering::Relaxed) {
                    None
                } else if from_client {
                    t.server
                } else {
                    t.client
                };
                let other_idle = clock.now().saturating_sub(clock.last(!from_client));
                if other.is_some_and(|l| Duration::from_millis(other_idle + 2) >= l) {
                    clock.aborted.store(true, Ordering::Relaxed);
                    clock.finish(my_done);
                    return (total, Some(end));
                }
                // Only this direction ends: the other side gets a FIN.
                let _ = w.shutdown().await;
                clock.finish(my_done);
                return (total, Some(end));
            }
        };
        match n {
            Ok(0) => {
                let _ = w.shutdown().await;
                clock.finish(my_done);
                return (total, None);
            }
            Ok(n) => {
                clock.touch(from_client);
                if w.write_all(&buf[..n]).await.is_err() {
                    return (total, Some(write_err));
                }
                clock.touch(!from_client);
                total += n as u64;
                if from_client { &clock.up } else { &clock.down }
                    .fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(_) => return (total, Some(read_err)),
        }
    }
}

/// What waiting for a read gave.
enum Read {
    /// The read finished.
    Done(std::io::Result<usize>),
    /// The inactivity timer fired.
    Expired,
    /// The other direction ended: the timer may change.
    Changed,
}

async fn sleep_or_never(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// Forwards both ways until both sides closed, one side failed, or a timeout expired.
pub async fn run<CR, CW, SR, SW>(
    cr: &mut CR,
    cw: &mut CW,
    sr: &mut SR,
    sw: &mut SW,
    t: TunnelTimeouts,
    buf_size: usize,
) -> TunnelResult
where
    CR: AsyncRead + Unpin + ?Sized,
    CW: AsyncWrite + Unpin + ?Sized,
    SR: AsyncRead + Unpin + ?Sized,
    SW: AsyncWrite + Unpin + ?Sized,
{
    run_until(cr, cw, sr, sw, t, buf_size, std::future::pending())
        .await
        .0
}

/// [`run`], unless `stop` completes first: the tunnel then ends at once (the caller
/// closes the sides) and the result, with `true`, carries the bytes forwarded so far
/// (`on-marked-down shutdown-sessions`).
pub async fn run_until<CR, CW, SR, SW, F>(
    cr: &mut CR,
    cw: &mut CW,
    sr: &mut SR,
    sw: &mut SW,
    t: TunnelTimeouts,
    buf_size: usize,
    stop: F,
) -> (TunnelResult, bool)
where
    CR: AsyncRead + Unpin + ?Sized,
    CW: AsyncWrite + Unpin + ?Sized,
    SR: AsyncRead + Unpin + ?Sized,
    SW: AsyncWrite + Unpin + ?Sized,
    F: std::future::Future<Output = ()>,
{
    let clock = Clock {
        base: Instant::now(),
        client: AtomicU64::new(0),
        server: AtomicU64::new(0),
        client_done: AtomicBool::new(false),
        server_done: AtomicBool::new(false),
        aborted: AtomicBool::new(false),
        changed: Notify::new(),
        up: AtomicU64::new(0),
        down: AtomicU64::new(0),
    };
    let up = pump(cr, sw, true, &clock, &t, buf_size);
    let down = pump(sr, cw, false, &clock, &t, buf_size);
    tokio::pin!(up, down, stop);
    let (mut up_res, mut down_res) = (None, None);
    while up_res.is_none() || down_res.is_none() {
        tokio::select! {
            r = &mut up, if up_res.is_none() => up_res = Some(r),
            r = &mut down, if down_res.is_none() => down_res = Some(r),
            () = &mut stop => {
                let up = clock.up.load(Ordering::Relaxed);
                let down = clock.down.load(Ordering::Relaxed);
                return (TunnelResult { up, down, end: TunnelEnd::Closed }, true);
            }
        }
        // A failure ends both directions at once; a timeout only its own.
        let failed = |r: &Option<(u64, Option<TunnelEnd>)>| {
            matches!(
                r,
                Some((_, Some(TunnelEnd::ClientError | TunnelEnd::ServerError)))
            )
        };
        if failed(&up_res) || failed(&down_res) || clock.aborted.load(Ordering::Relaxed) {
            break;
        }
    }
    let (up, up_end) = up_res.unwrap_or((0, None));
    let (down, down_end) = down_res.unwrap_or((0, None));
    let end = [up_end, down_end]
        .into_iter()
        .flatten()
        .min_by_key(|e| match e {
            TunnelEnd::ClientError | TunnelEnd::ServerError => 0,
            _ => 1,
        })
        .unwrap_or(TunnelEnd::Closed);
    (TunnelResult { up, down, end }, false)
}
