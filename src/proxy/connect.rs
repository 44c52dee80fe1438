//! From a backend to a connected server: balancing, the queues (`maxconn`, `maxqueue`,
//! `timeout queue`), `timeout connect`, `retries` with HAProxy's turn-around delay,
//! `option redispatch [<interval>]`, and the server socket options (`option srvtcpka`,
//! `option nolinger`).

use crate::acl::SampleSource;
use crate::balance::{BalanceInput, Pick};
use crate::runtime::backend::{Backend, ServerSlot};
use crate::runtime::conn::{PoolKey, ServerConn};
use crate::runtime::server::ServerState;
use rustls_pki_types::ServerName;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::net::{TcpStream, UnixStream};

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
    /// The server was designated by persistence (HAProxy's `SF_DIRECT`): no immediate
    /// redispatch to another server; cleared when a redispatch breaks persistence.
    pub direct: bool,
    /// A `force-persist` rule matched: never redispatched.
    pub force_persist: bool,
    /// The connection carries a PostgreSQL session (`bind … proto pgsql`): TLS toward
    /// an `ssl` server starts with an `SSLRequest`, as PostgreSQL wants.
    pub pgsql: bool,
}

/// Picks a server and takes a slot on it, waiting in a queue when it is full (HAProxy's
/// `assign_server_and_queue`): a request whose decision designates a server (hash-based
/// algorithms, or a server that filled up meanwhile) waits in that server's queue, any
/// other in the backend queue. A newcomer never takes a slot while requests wait for it.
pub async fn acquire(
    backend: &Arc<Backend>,
    input: &(dyn BalanceInput + Sync),
    exclude: &[usize],
    info: &mut ConnectInfo,
) -> Result<ServerSlot, ConnectError> {
    take_or_queue(
        backend,
        backend.balancer.pick_ex(input, exclude),
        false,
        info,
    )
    .await
}

/// Like [`acquire`] for the server persistence designates (`stick match`): its slot
/// now, or a place in its own queue, without balancing.
pub async fn acquire_persistent(
    backend: &Arc<Backend>,
    server: Arc<ServerState>,
    info: &mut ConnectInfo,
) -> Result<ServerSlot, ConnectError> {
    take_or_queue(backend, Pick::Server(server), true, info).await
}

/// The slot of the server `pick` chose, or a place in a queue.
async fn take_or_queue(
    backend: &Arc<Backend>,
    pick: Pick<ServerState>,
    persistent: bool,
    info: &mut ConnectInfo,
) -> Result<ServerSlot, ConnectError> {
    match take_now(backend, pick, persistent) {
        Taken::Now(r) => r,
        Taken::Queue(q) => wait_in_queue(backend, q, info).await,
    }
}

/// What a pick gives without waiting.
pub enum Taken {
    /// A slot (or no server to pick).
    Now(Result<ServerSlot, ConnectError>),
    /// A place in the queue of this server (`Some`) or of the backend (`None`) is needed:
    /// [`wait_in_queue`].
    Queue(Option<Arc<ServerState>>),
}

/// Like [`acquire`] without waiting: the slot when one is free now, else the queue the
/// request must wait in. The common case builds no future at all.
pub fn try_acquire(
    backend: &Arc<Backend>,
    input: &(dyn BalanceInput + Sync),
    exclude: &[usize],
) -> Taken {
    take_now(backend, backend.balancer.pick_ex(input, exclude), false)
}

/// The synchronous half of [`take_or_queue`].
fn take_now(backend: &Arc<Backend>, pick: Pick<ServerState>, persistent: bool) -> Taken {
    let queue_for = match pick {
        Pick::NoServer => return Taken::Now(Err(ConnectError::NoServer)),
        Pick::Server(s) => {
            if backend.queued.load(Ordering::SeqCst) == 0
                && s.queued.load(Ordering::SeqCst) == 0
                && let Some(slot) = ServerSlot::try_take(backend, &s)
            {
                return Taken::Now(Ok(slot));
            }
            // Round-robin kinds send a newcomer behind the backend queue when it is not
            // empty; a designated (or just filled) server queues the request itself.
            if persistent
                || backend.balancer.designates()
                || backend.queued.load(Ordering::SeqCst) == 0
            {
                Some(s)
            } else {
                None
            }
        }
        Pick::AllFull => None,
    };
    Taken::Queue(queue_for)
}

/// Waits for a slot in the queue [`try_acquire`] named (`timeout queue`).
pub async fn wait_in_queue(
    backend: &Arc<Backend>,
    queue_for: Option<Arc<ServerState>>,
    info: &mut ConnectInfo,
) -> Result<ServerSlot, ConnectError> {
    let start = Instant::now();
    let deadline = backend
        .timeouts
        .queue
        .map(|t| tokio::time::Instant::now() + t);
    let ticket = backend
        .enqueue(queue_for.as_deref())
        .map_err(|_| ConnectError::QueueTimeout)?;
    info.queued = true;
    let slot = ticket.wait(deadline).await;
    info.queue += start.elapsed();
    slot.ok_or(ConnectError::QueueTimeout)
}

/// The address to connect to: a server without a port uses the client's destination port.
pub fn target(server: &ServerState, client_dst: Option<SocketAddr>) -> SocketAddr {
    let mut a = server.current_addr();
    if a.port() == 0
        && let Some(d) = client_dst
    {
        a.set_port(d.port());
    }
    a
}

/// What a connection is made for: the request (or connection) that balancing reads and
/// that a server's `sni` expression is evaluated against.
pub trait Target: BalanceInput + SampleSource + Sync {}

impl<T: BalanceInput + SampleSource + Sync> Target for T {}

/// The server name a TLS connection to `server` sends for `src` (`sni EXPR`; none when
/// the expression finds nothing, or without `sni`).
pub fn sni_for(server: &ServerState, src: &dyn SampleSource) -> Option<Box<str>> {
    let expr = server.tls.as_ref()?.sni.as_ref()?;
    let mut out = None;
    expr.eval_str(src, &mut |v| {
        out = std::str::from_utf8(v)
            .ok()
            .filter(|s| !s.is_empty())
            .map(Into::into)
    });
    out
}

/// The key of the idle connections of `server` that may carry a request from `src`.
pub fn pool_key(server: &ServerState, src: &dyn SampleSource) -> PoolKey {
    PoolKey {
        sni: sni_for(server, src),
        proxied: (server.send_proxy > 0).then(|| (src.src(), src.dst())),
    }
}

/// The PROXY v2 header toward `server` with the TLVs of its `proxy-v2-options`.
fn proxy_v2_header(server: &ServerState, src: &(dyn SampleSource + Sync)) -> Vec<u8> {
    use super::proxy_protocol::{SslTlv, V2Tlvs, v2_with};
    let o = &server.pp_v2;
    let tls = src.tls();
    let cn = || {
        let cert = tls?.client.as_ref()?;
        cert.subject
            .iter()
            .find(|(k, _)| k == "CN")
            .map(|(_, v)| v.as_str())
    };
    let t = V2Tlvs {
        crc32c: o.crc32c,
        alpn: tls.and_then(|f| f.alpn.as_deref()),
        authority: o
            .authority
            .then(|| {
                src.proxy_tlvs()
                    .and_then(|t| t.get(crate::acl::ProxyTlvs::AUTHORITY))
                    .or_else(|| tls.and_then(|f| f.sni.as_deref()).map(str::as_bytes))
            })
            .flatten(),
        unique_id: o.unique_id.then(|| src.unique_id().unwrap_or_default()),
        ssl: o.ssl.then(|| SslTlv {
            client_ssl: tls.is_some(),
            client_cert: tls.is_some_and(|f| f.client.is_some()),
            version: tls.map(|f| f.protocol),
            cn: if o.cert_cn { cn() } else { None },
            cipher: if o.ssl_cipher {
                tls.map(|f| f.cipher)
            } else {
                None
            },
        }),
    };
    v2_with(src.src(), src.dst(), &t)
}

/// Connects to `server` (its unix socket, or its address with the client's destination
/// port when it has none) within `timeout connect`; then writes the PROXY header of
/// `send-proxy`/`send-proxy-v2` with `src`'s addresses; over TLS (`ssl`), runs the
/// handshake, sending the server name `sni_for` gives, within what is left of `timeout
/// connect`.
pub async fn dial(
    backend: &Backend,
    server: &ServerState,
    client_dst: Option<SocketAddr>,
    src: &(dyn SampleSource + Sync),
    pgsql: bool,
) -> Result<ServerConn, ConnectError> {
    let key = pool_key(server, src);
    let header = match server.send_proxy {
        1 => Some(super::proxy_protocol::v1(src.src(), src.dst())),
        2 => Some(proxy_v2_header(server, src)),
        _ => None,
    };
    let t0 = Instant::now();
    let left = || {
        backend
            .timeouts
            .connect
            .map(|t| t.saturating_sub(t0.elapsed()))
    };
    if server.tls.is_none() && server.unix.is_none() && header.is_none() {
        let s = dial_tcp(backend, target(server, client_dst)).await?;
        return Ok(ServerConn::tcp(s, key));
    }
    let mut conn = match &server.unix {
        Some(path) => {
            let fut = UnixStream::connect(path);
            let s = match backend.timeouts.connect {
                Some(t) => tokio::time::timeout(t, fut)
                    .await
                    .map_err(|_| ConnectError::Timeout)?,
                None => fut.await,
            }
            .map_err(|_| ConnectError::Refused)?;
            Either::Unix(s)
        }
        None => Either::Tcp(dial_tcp(backend, target(server, client_dst)).await?),
    };
    if let Some(h) = header {
        let w = conn.write_all(&h);
        match left() {
            Some(t) => tokio::time::timeout(t, w)
                .await
                .map_err(|_| ConnectError::Timeout)?,
            None => w.await,
        }
        .map_err(|_| ConnectError::Refused)?;
    }
    let tcp = match conn {
        Either::Unix(s) => return Ok(ServerConn::unix(s, key)),
        Either::Tcp(s) => s,
    };
    let Some(tls) = &server.tls else {
        return Ok(ServerConn::tcp(tcp, key));
    };
    let addr = target(server, client_dst);
    let name = match key
        .sni
        .as_deref()
        .map(|n| ServerName::try_from(n.to_owned()))
    {
        Some(Ok(n)) => n,
        // No name (or not a valid one): none is sent, as rustls sends none for an IP.
        _ => ServerName::IpAddress(addr.ip().into()),
    };
    let mut tcp = tcp;
    if pgsql {
        let ask = pg_ssl_request(&mut tcp);
        match left() {
            Some(t) => tokio::time::timeout(t, ask)
                .await
                .map_err(|_| ConnectError::Timeout)?,
            None => ask.await,
        }?;
    }
    let hs = tokio_rustls::TlsConnector::from(tls.config.clone()).connect(name, tcp);
    let stream = match left() {
        Some(t) => tokio::time::timeout(t, hs)
            .await
            .map_err(|_| ConnectError::Timeout)?,
        None => hs.await,
    }
    .map_err(|_| ConnectError::Refused)?;
    Ok(ServerConn::tls(stream, key))
}

/// PostgreSQL's `SSLRequest`; the server must answer `S` before the TLS handshake.
async fn pg_ssl_request(tcp: &mut TcpStream) -> Result<(), ConnectError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
    tcp.write_all(&SSL_REQUEST)
        .await
        .map_err(|_| ConnectError::Refused)?;
    let mut answer = [0u8; 1];
    tcp.read_exact(&mut answer)
        .await
        .map_err(|_| ConnectError::Refused)?;
    if answer[0] != b'S' {
        return Err(ConnectError::Refused);
    }
    Ok(())
}

/// A socket before it becomes a [`ServerConn`].
enum Either {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Either {
    async fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        use tokio::io::AsyncWriteExt;
        match self {
            Either::Tcp(s) => s.write_all(b).await,
            Either::Unix(s) => s.write_all(b).await,
        }
    }
}

/// Connects to `addr` within `timeout connect`, with the backend's socket options
/// (`option srvtcpka`/`tcpka`: SO_KEEPALIVE; `option nolinger`: SO_LINGER 0).
async fn dial_tcp(backend: &Backend, addr: SocketAddr) -> Result<TcpStream, ConnectError> {
    let fut = TcpStream::connect(addr);
    let s = match backend.timeouts.connect {
        Some(t) => tokio::time::timeout(t, fut)
            .await
            .map_err(|_| ConnectError::Timeout)?,
        None => fut.await,
    }
    .map_err(|_| ConnectError::Refused)?;
    let _ = s.set_nodelay(true);
    let sock = socket2::SockRef::from(&s);
    if backend.srvtcpka {
        let _ = sock.set_keepalive(true);
    }
    if backend.nolinger {
        let _ = sock.set_linger(Some(Duration::ZERO));
    }
    Ok(s)
}

/// Picks a server, queues if needed, connects, retries and redispatches as configured.
/// `persist`: the server persistence designates (`stick match`), taken without
/// balancing.
pub async fn connect(
    backend: &Arc<Backend>,
    input: &dyn Target,
    client_dst: Option<SocketAddr>,
    info: &mut ConnectInfo,
    persist: Option<Arc<ServerState>>,
) -> Result<(ServerConn, ServerSlot), ConnectError> {
    let slot = match persist {
        Some(s) => acquire_persistent(backend, s, info).await?,
        None => acquire(backend, input, &[], info).await?,
    };
    dial_retrying(backend, input, client_dst, info, slot).await
}

/// True when the `k`th retry (1-based) of `retries` is one `option redispatch <interval>`
/// sends to another server: every `interval`th retry, or for a negative interval N the
/// retries that are multiples of `retries + 1 + N` (-1: the last one); 0 never.
pub fn redispatch_turn(interval: i32, k: u32, retries: u32) -> bool {
    let k = i64::from(k);
    let m = match interval {
        0 => return false,
        i if i > 0 => i64::from(i),
        i => i64::from(retries) + 1 + i64::from(i),
    };
    m != 0 && k % m == 0
}

/// Connects to the server of `slot`, retrying `retries` times as HAProxy 2.6 does. With
/// `option redispatch`, a retry goes back through balancing (the failed server avoided)
/// when the interval names it, or at once when the algorithm is not hash-based and
/// several active servers are up. The turn-around pause, min(`timeout connect`, 1 s),
/// follows a refused connection (not a connect timeout) when the retry stays on the
/// same server or only one active server is up.
pub async fn dial_retrying(
    backend: &Arc<Backend>,
    input: &dyn Target,
    client_dst: Option<SocketAddr>,
    info: &mut ConnectInfo,
    mut slot: ServerSlot,
) -> Result<(ServerConn, ServerSlot), ConnectError> {
    let mut exclude: Vec<usize> = Vec::new();
    loop {
        let t0 = Instant::now();
        slot.server.counters.server_connection(false);
        backend.counters.server_connection(false);
        let dialed = dial(backend, &slot.server, client_dst, input, info.pgsql).await;
        crate::check::passive::connected(&slot.server, dialed.is_ok());
        let e = match dialed {
            Ok(s) => {
                info.connect = t0.elapsed();
                return Ok((s, slot));
            }
            Err(e) => e,
        };
        if info.retries >= backend.retries {
            return Err(e);
        }
        info.retries += 1;
        let active = backend.active_up();
        // HAProxy's `stream_choose_redispatch`: a stopped server (down or in
        // maintenance), the interval's turn, or (without persistence) another server
        // of a non-deterministic algorithm; never under `force-persist`.
        let redispatch = backend.redispatch
            && !info.force_persist
            && (!slot.server.running()
                || redispatch_turn(backend.redispatch_after, info.retries, backend.retries)
                || (!info.direct && active > 1 && !backend.balancer.designates()));
        let pause = e != ConnectError::Timeout && (!redispatch || active <= 1);
        let turn_around = backend
            .timeouts
            .connect
            .unwrap_or(Duration::from_secs(1))
            .min(Duration::from_secs(1));
        if !redispatch {
            // HAProxy counts each connection attempt in its server's `stot`.
            slot.server
                .counters
                .stot
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if pause {
                tokio::time::sleep(turn_around).await;
            }
            continue;
        }
        let prev = slot.server.index;
        exclude.push(prev);
        drop(slot); // frees the slot for the queue before waiting
        if pause {
            tokio::time::sleep(turn_around).await;
        }
        slot = match acquire(backend, input, &exclude, info).await {
            Ok(s) => s,
            Err(ConnectError::NoServer) => acquire(backend, input, &[], info).await?,
            Err(e) => return Err(e),
        };
        if slot.server.index != prev {
            info.redispatched = true;
        }
        // Persistence is broken: the response sets the new server's cookie.
        info.direct = false;
    }
}

#[cfg(test)]
mod tests {
    use super::redispatch_turn;

    #[test]
    fn redispatch_interval_follows_the_manual() {
        let turns = |interval, retries| -> Vec<u32> {
            (1..=retries)
                .filter(|&k| redispatch_turn(interval, k, retries))
                .collect()
        };
        assert_eq!(turns(-1, 3), vec![3], "default: the last retry");
        assert_eq!(turns(1, 3), vec![1, 2, 3], "every retry");
        assert_eq!(turns(2, 5), vec![2, 4], "every second retry");
        assert_eq!(turns(-2, 3), vec![2], "the retry before the last");
        assert_eq!(turns(0, 3), Vec::<u32>::new(), "0 disables");
        assert_eq!(
            turns(-4, 3),
            Vec::<u32>::new(),
            "retries + 1 + N = 0: never"
        );
    }
}
