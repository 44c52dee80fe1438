//! Bidirectional forwarding with half-close and HAProxy's inactivity timeouts: `mode tcp`
//! sessions, the PostgreSQL front door after its login, and HTTP upgrades (WebSocket)
//! all end up here.
//!
//! Each direction pumps bytes from one side to the other: one read, then writes until
//! the bytes read are out, then the next read. A side's inactivity timer (`timeout
//! client` / `timeout server`, or `timeout tunnel` for both once set) runs while its
//! direction waits for bytes to read, from the last byte read from or written to that
//! side. When one side half-closes, its FIN is passed on with `shutdown(Write)` and the
//! other direction goes on; from then on the half-closed peer's timer uses `timeout
//! client-fin` / `timeout server-fin` if set.
//!
//! As in HAProxy, an inactivity timeout ends only the direction that timed out: a client
//! that sent nothing for `timeout client` has its direction shut (the server gets a FIN)
//! while the server's replies still reach it; the session ends when the other direction
//! ends too, and is logged as ended by that first timeout.
//!
//! Both directions are one future polled by hand, with no split of the streams and no
//! per-read timer: a read or a write only stamps its side with the time of the task's
//! poll (`crate::proxy::clock`), and a direction's timer is a lazy
//! [`Deadline`](crate::proxy::deadline::Deadline), moved only when it fires early (the
//! side was active since) or when the limit shortens (`-fin`). A message through the
//! tunnel costs its read and its write and nothing else (docs/performance.md,
//! "PostgreSQL").

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

use crate::proxy::deadline::Deadline;

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

/// How many reads and writes one wake-up may make before the task yields (a side that
/// is always ready does not hold the thread).
const BUDGET: u32 = 32;

/// Where one direction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Reading, or writing out what was read.
    Pumping,
    /// Passing a FIN on (`shutdown(Write)`), then finished with this end (`None`: the
    /// reading side closed; else the timeout that ended the direction).
    Closing(Option<TunnelEnd>),
    /// Finished.
    Done(Option<TunnelEnd>),
}

/// One direction: reads from side `from`, writes to the other.
struct Dir {
    /// 0: from the client (up); 1: from the server (down).
    from: usize,
    buf: Vec<u8>,
    /// The bytes read and not yet written: `buf[pos..end]`.
    pos: usize,
    end: usize,
    state: State,
    /// Bytes written to the other side.
    total: u64,
    /// The last poll left the direction waiting for bytes to read: its timer runs.
    reading: bool,
    /// The reading side's inactivity limit (its `-fin` one once the other direction is
    /// done).
    limit: Option<Duration>,
    /// The inactivity timer, armed at each wait to the reading side's deadline.
    timer: Deadline,
}

/// What one step of a direction came to.
enum Step {
    /// Waiting on the socket (or on the budget: the task was woken to go on).
    Wait,
    /// The direction finished (or failed: `Some(error)`).
    Finished,
}

impl Dir {
    fn new(from: usize, buf_size: usize, limit: Option<Duration>) -> Dir {
        Dir {
            from,
            buf: vec![0; buf_size.max(1)],
            pos: 0,
            end: 0,
            state: State::Pumping,
            total: 0,
            reading: false,
            limit,
            timer: Deadline::default(),
        }
    }

    fn errors(&self) -> (TunnelEnd, TunnelEnd) {
        if self.from == 0 {
            (TunnelEnd::ClientError, TunnelEnd::ServerError)
        } else {
            (TunnelEnd::ServerError, TunnelEnd::ClientError)
        }
    }

    fn failed(&self) -> bool {
        matches!(
            self.state,
            State::Done(Some(TunnelEnd::ClientError | TunnelEnd::ServerError))
        )
    }

    /// Reads and writes until the direction must wait or is done; each side's last
    /// activity goes to `last`.
    fn step<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        r: &mut R,
        w: &mut W,
        now: Instant,
        last: &mut [Instant; 2],
        budget: &mut u32,
    ) -> Step
    where
        R: AsyncRead + Unpin + ?Sized,
        W: AsyncWrite + Unpin + ?Sized,
    {
        self.reading = false;
        let (read_err, write_err) = self.errors();
        loop {
            match self.state {
                State::Done(_) => return Step::Finished,
                State::Closing(end) => {
                    return match Pin::new(&mut *w).poll_shutdown(cx) {
                        Poll::Pending => Step::Wait,
                        // A failed shutdown ends the direction all the same.
                        Poll::Ready(_) => {
                            self.state = State::Done(end);
                            Step::Finished
                        }
                    };
                }
                State::Pumping => {}
            }
            if *budget == 0 {
                cx.waker().wake_by_ref();
                return Step::Wait;
            }
            *budget -= 1;
            if self.pos < self.end {
                match Pin::new(&mut *w).poll_write(cx, &self.buf[self.pos..self.end]) {
                    Poll::Pending => return Step::Wait,
                    Poll::Ready(Ok(n)) if n > 0 => {
                        self.pos += n;
                        self.total += n as u64;
                        last[1 - self.from] = now;
                    }
                    Poll::Ready(_) => {
                        self.state = State::Done(Some(write_err));
                        return Step::Finished;
                    }
                }
                continue;
            }
            let mut rb = ReadBuf::new(&mut self.buf);
            match Pin::new(&mut *r).poll_read(cx, &mut rb) {
                Poll::Pending => {
                    self.reading = true;
                    return Step::Wait;
                }
                Poll::Ready(Ok(())) => {
                    let n = rb.filled().len();
                    if n == 0 {
                        self.state = State::Closing(None);
                    } else {
                        self.pos = 0;
                        self.end = n;
                        last[self.from] = now;
                    }
                }
                Poll::Ready(Err(_)) => {
                    self.state = State::Done(Some(read_err));
                    return Step::Finished;
                }
            }
        }
    }

    /// Whether the direction's timer says its reading side has been idle past its
    /// limit (asked only while the direction waits to read): the timer is armed to the
    /// side's deadline, its last activity plus the limit ([`Deadline`] is lazy: while
    /// its entry is registered for this task and fires at or before that, nothing else
    /// is done).
    fn expired(&mut self, cx: &mut Context<'_>, last: &[Instant; 2]) -> bool {
        let Some(limit) = self.limit else {
            return false;
        };
        self.timer.arm_at(last[self.from] + limit);
        self.timer.poll_expired(cx).is_ready()
    }
}

/// Both directions of a tunnel, polled as one future.
struct Tunnel<'a, C: ?Sized, S: ?Sized> {
    client: &'a mut C,
    server: &'a mut S,
    t: TunnelTimeouts,
    /// Each side's last activity: 0 the client, 1 the server.
    last: [Instant; 2],
    dirs: [Dir; 2],
    /// Both directions timed out together: the session is aborted.
    aborted: bool,
}

impl<C, S> Tunnel<'_, C, S>
where
    C: AsyncRead + AsyncWrite + Unpin + ?Sized,
    S: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    /// The normal and half-closed limits of side `side`.
    fn limits(&self, side: usize) -> (Option<Duration>, Option<Duration>) {
        if side == 0 {
            (self.t.client, self.t.client_fin)
        } else {
            (self.t.server, self.t.server_fin)
        }
    }

    /// Runs both directions as far as they go; `Ready` once the tunnel is over.
    fn poll_pump(&mut self, cx: &mut Context<'_>) -> Poll<TunnelResult> {
        // The time of the task's poll, as the timers read it.
        let now = Instant::from_std(crate::proxy::clock::now());
        let mut budget = BUDGET;
        loop {
            let mut again = false;
            for i in 0..2 {
                let was_done = matches!(self.dirs[i].state, State::Done(_));
                let d = &mut self.dirs[i];
                let step = if i == 0 {
                    d.step(
                        cx,
                        self.client,
                        self.server,
                        now,
                        &mut self.last,
                        &mut budget,
                    )
                } else {
                    d.step(
                        cx,
                        self.server,
                        self.client,
                        now,
                        &mut self.last,
                        &mut budget,
                    )
                };
                if matches!(step, Step::Finished) && !was_done {
                    if self.dirs[i].failed() {
                        // A failure ends both directions at once.
                        return Poll::Ready(self.result());
                    }
                    // The other direction's reading side is now half-closed on our side.
                    let o = 1 - i;
                    let (normal, fin) = self.limits(o);
                    if fin.is_some() && matches!(self.dirs[o].state, State::Pumping) {
                        // The next wait arms its timer to the new deadline.
                        self.dirs[o].limit = fin.or(normal);
                        again = true;
                    }
                }
            }
            for i in 0..2 {
                if !self.dirs[i].reading || !self.dirs[i].expired(cx, &self.last) {
                    continue;
                }
                let end = if i == 0 {
                    TunnelEnd::ClientTimeout
                } else {
                    TunnelEnd::ServerTimeout
                };
                // Both directions idle past their timeouts at once (HAProxy sees both
                // expire in the same wake-up): the session is aborted, no FIN is sent,
                // and with `option nolinger` the sockets are reset.
                let o = 1 - i;
                let other = match self.dirs[o].state {
                    State::Pumping => self.limits(o).0,
                    _ => None,
                };
                let other_idle = now.saturating_duration_since(self.last[o]);
                self.dirs[i].reading = false;
                if other.is_some_and(|l| other_idle + Duration::from_millis(2) >= l) {
                    self.dirs[i].state = State::Done(Some(end));
                    self.aborted = true;
                    return Poll::Ready(self.result());
                }
                // Only this direction ends: the other side gets a FIN.
                self.dirs[i].state = State::Closing(Some(end));
                again = true;
            }
            if self.dirs.iter().all(|d| matches!(d.state, State::Done(_))) {
                return Poll::Ready(self.result());
            }
            if !again {
                return Poll::Pending;
            }
        }
    }

    fn result(&self) -> TunnelResult {
        let ends = self.dirs.iter().filter_map(|d| match d.state {
            State::Done(end) | State::Closing(end) => end,
            State::Pumping => None,
        });
        let end = ends
            .min_by_key(|e| match e {
                TunnelEnd::ClientError | TunnelEnd::ServerError => 0,
                _ => 1,
            })
            .unwrap_or(TunnelEnd::Closed);
        TunnelResult {
            up: self.dirs[0].total,
            down: self.dirs[1].total,
            end,
        }
    }
}

/// The waker `stop` is polled with: it notes that `stop` may have progressed, then
/// wakes the tunnel's task.
struct StopWake {
    fired: AtomicBool,
    /// The tunnel's task.
    task: Mutex<Option<Waker>>,
}

impl Wake for StopWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.fired.store(true, Ordering::Release);
        if let Some(w) = &*self.task.lock().unwrap_or_else(PoisonError::into_inner) {
            w.wake_by_ref();
        }
    }
}

/// Forwards both ways until both sides closed, one side failed, or a timeout expired.
pub async fn run<C, S>(
    client: &mut C,
    server: &mut S,
    t: TunnelTimeouts,
    buf_size: usize,
) -> TunnelResult
where
    C: AsyncRead + AsyncWrite + Unpin + ?Sized,
    S: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    run_until(client, server, t, buf_size, std::future::pending())
        .await
        .0
}

/// [`run`], unless `stop` completes first: the tunnel then ends at once (the caller
/// closes the sides) and the result, with `true`, carries the bytes forwarded so far
/// (`on-marked-down shutdown-sessions`).
pub async fn run_until<C, S, F>(
    client: &mut C,
    server: &mut S,
    t: TunnelTimeouts,
    buf_size: usize,
    stop: F,
) -> (TunnelResult, bool)
where
    C: AsyncRead + AsyncWrite + Unpin + ?Sized,
    S: AsyncRead + AsyncWrite + Unpin + ?Sized,
    F: Future<Output = ()>,
{
    let start = Instant::from_std(crate::proxy::clock::now());
    let mut tunnel = Tunnel {
        client,
        server,
        t,
        last: [start; 2],
        dirs: [
            Dir::new(0, buf_size, t.client),
            Dir::new(1, buf_size, t.server),
        ],
        aborted: false,
    };
    let mut stop = std::pin::pin!(stop);
    // `stop` is polled with a waker of its own, and only once that waker fired: the
    // bytes' wake-ups do not poll it.
    let flag = Arc::new(StopWake {
        fired: AtomicBool::new(true),
        task: Mutex::new(None),
    });
    let stop_waker = Waker::from(flag.clone());
    let mut known: Option<Waker> = None;
    std::future::poll_fn(|cx| {
        if !known.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            let w = cx.waker().clone();
            *flag.task.lock().unwrap_or_else(PoisonError::into_inner) = Some(w.clone());
            known = Some(w);
        }
        if flag.fired.swap(false, Ordering::AcqRel)
            && stop
                .as_mut()
                .poll(&mut Context::from_waker(&stop_waker))
                .is_ready()
        {
            let mut res = tunnel.result();
            res.end = TunnelEnd::Closed;
            return Poll::Ready((res, true));
        }
        tunnel.poll_pump(cx).map(|r| (r, false))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn timeouts(client: u64, server: u64) -> TunnelTimeouts {
        TunnelTimeouts {
            client: Some(Duration::from_millis(client)),
            server: Some(Duration::from_millis(server)),
            ..TunnelTimeouts::default()
        }
    }

    #[tokio::test]
    async fn bytes_go_both_ways_and_closes_end_the_tunnel() {
        let (mut client, mut c_end) = tokio::io::duplex(64);
        let (mut server, mut s_end) = tokio::io::duplex(64);
        let pump =
            tokio::spawn(
                async move { run(&mut client, &mut server, timeouts(5_000, 5_000), 7).await },
            );
        // Larger than the buffer and the pipes: several reads and partial writes.
        let up: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
        let sent = up.clone();
        let writer = tokio::spawn(async move {
            c_end.write_all(&sent).await.unwrap();
            c_end.shutdown().await.unwrap();
            let mut back = Vec::new();
            c_end.read_to_end(&mut back).await.unwrap();
            back
        });
        let mut got = Vec::new();
        s_end.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, up);
        s_end.write_all(b"pong").await.unwrap();
        s_end.shutdown().await.unwrap();
        assert_eq!(writer.await.unwrap(), b"pong");
        let res = pump.await.unwrap();
        assert_eq!((res.up, res.down, res.end), (1000, 4, TunnelEnd::Closed));
    }

    #[tokio::test]
    async fn an_idle_client_ends_its_direction_only_and_activity_defers_the_timeout() {
        let (mut client, mut c_end) = tokio::io::duplex(64);
        let (mut server, mut s_end) = tokio::io::duplex(64);
        let started = Instant::now();
        let pump =
            tokio::spawn(
                async move { run(&mut client, &mut server, timeouts(400, 10_000), 64).await },
            );
        // Client bytes at 250 ms move the client's deadline to 650 ms: the timer armed
        // for 400 ms fires early and is moved.
        tokio::time::sleep(Duration::from_millis(250)).await;
        c_end.write_all(b"q").await.unwrap();
        let mut b = [0u8; 1];
        s_end.read_exact(&mut b).await.unwrap();
        // The server sees the FIN of the client's direction.
        assert_eq!(s_end.read(&mut b).await.unwrap(), 0);
        let at = started.elapsed();
        assert!(
            (Duration::from_millis(640)..Duration::from_millis(1_500)).contains(&at),
            "client direction ended after {at:?}"
        );
        // The server's direction still works.
        s_end.write_all(b"r").await.unwrap();
        c_end.read_exact(&mut b).await.unwrap();
        assert_eq!(&b, b"r");
        s_end.shutdown().await.unwrap();
        let res = pump.await.unwrap();
        assert_eq!(res.end, TunnelEnd::ClientTimeout);
        assert_eq!((res.up, res.down), (1, 1));
    }

    #[tokio::test]
    async fn both_sides_idle_together_abort_the_session() {
        let (mut client, _c_end) = tokio::io::duplex(64);
        let (mut server, _s_end) = tokio::io::duplex(64);
        let res = run(&mut client, &mut server, timeouts(200, 200), 64).await;
        assert_eq!(res.end, TunnelEnd::ClientTimeout);
    }

    #[tokio::test]
    async fn stop_ends_the_tunnel_with_the_bytes_so_far() {
        let (mut client, mut c_end) = tokio::io::duplex(64);
        let (mut server, mut s_end) = tokio::io::duplex(64);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let pump = tokio::spawn(async move {
            let stop = async {
                let _ = rx.await;
            };
            run_until(&mut client, &mut server, timeouts(5_000, 5_000), 64, stop).await
        });
        c_end.write_all(b"abc").await.unwrap();
        let mut b = [0u8; 3];
        s_end.read_exact(&mut b).await.unwrap();
        tx.send(()).unwrap();
        let (res, stopped) = pump.await.unwrap();
        assert!(stopped);
        assert_eq!((res.up, res.down, res.end), (3, 0, TunnelEnd::Closed));
    }
}
