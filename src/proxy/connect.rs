//! From a backend to a connected server: balancing, the queue (`maxconn`, `maxqueue`,
//! `timeout queue`), `timeout connect`, `retries` with HAProxy's turn-around delay, and
//! `option redispatch` (on the last retry, another server is chosen).

use crate::balance::{BalanceInput, Pick};
use crate::runtime::backend::{Backend, ServerSlot};
use crate::runtime::server::ServerState;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

/// Why no server connection could be made; every case is a 503 for HTTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectError {
    /// No usable server in the backend.
    NoServer,
    /// Waited `timeout queue` without getting a slot.
    QueueTimeout,
    /// Every connection attempt failed (refused, unreachable).
    Refused,
    /// Every connection attempt timed out (`timeout connect`).
    Timeout,
}

/// How getting a server went, for logs.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConnectInfo {
    /// Time spent in queues.
    pub queue: Duration,
    /// Time of the successful connect.
    pub connect: Duration,
    /// Retries made.
    pub retries: u32,
    /// A retry went to another server.
    pub redispatched: bool,
    /// Position in the queue when the request was queued (0: not queued).
    pub queued: bool,
}

/// Takes a slot on `server` unless it is at its `maxconn`.
fn try_slot(backend: &Arc<Backend>, server: &Arc<ServerState>) -> Option<ServerSlot> {
    if server.maxconn == 0 {
        return Some(ServerSlot::take(backend, server.clone()));
    }
    let mut cur = server.cur_conns.load(Ordering::Acquire);
    loop {
        if cur >= server.maxconn {
            return None;
        }
        match server.cur_conns.compare_exchange_weak(
            cur,
            cur + 1,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => {
                server.total.fetch_add(1, Ordering::Relaxed);
                return Some(ServerSlot {
                    backend: backend.clone(),
                    server: server.clone(),
                });
            }
            Err(now) => cur = now,
        }
    }
}

/// Picks a server and takes a slot on it, waiting in the queue when servers are full.
pub async fn acquire(
    backend: &Arc<Backend>,
    input: &(dyn BalanceInput + Sync),
    exclude: &[usize],
    info: &mut ConnectInfo,
) -> Result<ServerSlot, ConnectError> {
    let start = Instant::now();
    let deadline = backend
        .timeouts
        .queue
        .map(|t| tokio::time::Instant::now() + t);
    let mut counted = false;
    let result = loop {
        let notified = backend.slot_freed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let pick = backend.balancer.pick_ex(input, exclude);
        let waiting_on = match pick {
            Pick::Server(s) => match try_slot(backend, &s) {
                Some(slot) => break Ok(slot),
                None => Some(s),
            },
            Pick::AllFull => None,
            Pick::NoServer => break Err(ConnectError::NoServer),
        };
        if let Some(s) = &waiting_on
            && s.maxqueue != 0
            && s.queued.load(Ordering::Relaxed) >= s.maxqueue
        {
            break Err(ConnectError::QueueTimeout);
        }
        if !counted {
            counted = true;
            info.queued = true;
            backend.queued.fetch_add(1, Ordering::AcqRel);
        }
        if let Some(s) = &waiting_on {
            s.queued.fetch_add(1, Ordering::AcqRel);
        }
        let expired = match deadline {
            Some(d) => tokio::time::timeout_at(d, notified).await.is_err(),
            None => {
                notified.await;
                false
            }
        };
        if let Some(s) = &waiting_on {
            s.queued.fetch_sub(1, Ordering::AcqRel);
        }
        if expired {
            break Err(ConnectError::QueueTimeout);
        }
    };
    if counted {
        backend.queued.fetch_sub(1, Ordering::AcqRel);
    }
    info.queue += start.elapsed();
    result
}

/// The address to connect to: a server without a port uses the client's destination port.
pub fn target(server: &ServerState, client_dst: Option<SocketAddr>) -> SocketAddr {
    let mut a = server.addr;
    if a.port() == 0
        && let Some(d) = client_dst
    {
        a.set_port(d.port());
    }
    a
}

/// Connects to `addr` within `timeout connect`.
pub async fn dial(addr: SocketAddr, timeout: Option<Duration>) -> Result<TcpStream, ConnectError> {
    let fut = TcpStream::connect(addr);
    let s = match timeout {
        Some(t) => tokio::time::timeout(t, fut)
            .await
            .map_err(|_| ConnectError::Timeout)?,
        None => fut.await,
    }
    .map_err(|_| ConnectError::Refused)?;
    let _ = s.set_nodelay(true);
    Ok(s)
}

/// Picks a server, queues if needed, connects, retries and redispatches as configured.
pub async fn connect(
    backend: &Arc<Backend>,
    input: &(dyn BalanceInput + Sync),
    client_dst: Option<SocketAddr>,
    info: &mut ConnectInfo,
) -> Result<(TcpStream, ServerSlot), ConnectError> {
    let slot = acquire(backend, input, &[], info).await?;
    dial_retrying(backend, input, client_dst, info, slot).await
}

/// Connects to the server of `slot`, retrying (`retries`, turn-around delay) and
/// redispatching on the last retry (`option redispatch`).
pub async fn dial_retrying(
    backend: &Arc<Backend>,
    input: &(dyn BalanceInput + Sync),
    client_dst: Option<SocketAddr>,
    info: &mut ConnectInfo,
    mut slot: ServerSlot,
) -> Result<(TcpStream, ServerSlot), ConnectError> {
    let mut exclude: Vec<usize> = Vec::new();
    loop {
        let t0 = Instant::now();
        match dial(target(&slot.server, client_dst), backend.timeouts.connect).await {
            Ok(s) => {
                info.connect = t0.elapsed();
                return Ok((s, slot));
            }
            Err(e) => {
                if info.retries >= backend.retries {
                    return Err(e);
                }
                info.retries += 1;
                // HAProxy's turn-around timer: min(timeout connect, 1s) before retrying.
                let pause = backend
                    .timeouts
                    .connect
                    .unwrap_or(Duration::from_secs(1))
                    .min(Duration::from_secs(1));
                let last = info.retries == backend.retries;
                if backend.redispatch && last {
                    exclude.push(slot.server.index);
                    drop(slot);
                    tokio::time::sleep(pause).await;
                    slot = match acquire(backend, input, &exclude, info).await {
                        Ok(s) => s,
                        Err(ConnectError::NoServer) => acquire(backend, input, &[], info).await?,
                        Err(e) => return Err(e),
                    };
                    info.redispatched = true;
                } else {
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }
}
