//! One client connection in http mode: the request loop and the life of each exchange.

use super::cold::cold;
use super::io::{WaitReadable, wait_readable};
use super::rules::{self, Edits, Verdict};
use super::view::ReqView;
use crate::log::{FinState, TermCause};
use crate::proxy::codec::{ClientCodec, HeadFail, HeadWait, NextInput, ServerCodec};
use crate::proxy::connect::ConnectInfo;
use crate::proxy::h1::{H1Client, Limits};
use crate::proxy::session::{self, ConnInfo};
use crate::runtime::backend::Backend;
use crate::runtime::errors::Page;
use crate::runtime::frontend::Frontend;
use crate::runtime::live_fetch::StreamLive;
use crate::runtime::snapshot::{Shared, Snapshot, conn_mode};
use std::sync::Arc;

use std::time::{Instant, SystemTime};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

/// The largest back-channel logout request body read (bytes).
const BACKCHANNEL_BODY_MAX: usize = 64 * 1024;

/// What happens to the client connection after an exchange.
pub(super) enum Next {
    /// Keep the client connection for the next request.
    KeepAlive,
    /// Close it.
    Close,
}

/// The phases of an exchange, in the order of docs/architecture.md's chart; the
/// exchange records the one it is in ([`Exchange::phase`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// 3: the client codec reads the request head (`read_head`).
    ReadHead,
    /// 4: `monitor-uri`, `tcp-request content`, `http-request` rules and backend
    /// switching (`request_rules`).
    RequestRules,
    /// 5: the proxy answers itself (`local_reply`, `fail`).
    LocalReply,
    /// 6–8: balance, queue, connect or reuse (`connect_upstream`).
    Connect,
    /// 9: the request head and body go to the server (`send_request`).
    ForwardRequest,
    /// 10: the response head is awaited (`await_response`), the response rules run and
    /// the response is forwarded (`respond`); the connection goes back (`release`).
    Response,
    /// 11: counters and the log line (`log`).
    Log,
}

/// One request's state, passed from phase to phase: the rules' edits and the facts the
/// count and log phase reads (the heads are the codecs'). One value per connection is
/// reused from request to request ([`Exchange::begin`]), so its vectors keep their
/// capacity.
pub(super) struct Exchange {
    /// The phase the exchange is in.
    pub(super) phase: Phase,
    /// Header edits of the `http-request` rules.
    pub(super) edits: Edits,
    /// Header edits of the `http-response` rules.
    pub(super) redits: Edits,
    /// The request line as received, for the log.
    pub(super) reqline: Vec<u8>,
    /// Part of the current request's body has not been read from the client yet.
    pub(super) body_pending: bool,
    /// The status sent (`-1`: none).
    pub(super) status: i32,
    /// `req_tot` and `hrsp_*` were counted as the response head was produced
    /// ([`Session::count_response`]); the end of the exchange does not count them again.
    pub(super) counted: bool,
    /// The backend the request went to.
    pub(super) backend: Option<Arc<Backend>>,
    /// The server it went to.
    pub(super) server: Option<Arc<crate::runtime::server::ServerState>>,
    /// The status the server answered, before the `http-response` rules (0: none):
    /// the server's `hrsp_*` counts it, as HAProxy 2.6.
    pub(super) srv_status: u16,
    /// `TR`: the head's reception, in ms (`-1`: it failed).
    pub(super) t_request: Option<i64>,
    /// Queue and connect timers, retries, redispatch.
    pub(super) info: ConnectInfo,
    /// `Tr`: the response head's wait, in ms (`-1`: it failed).
    pub(super) t_response: Option<i64>,
    /// Bytes sent to the client (`%B`).
    pub(super) bytes_out: u64,
    /// Bytes received from the client (`%U`).
    pub(super) bytes_in: u64,
    /// Why the exchange ended (termination flags, first letter).
    pub(super) term: TermCause,
    /// Where it was then (second letter).
    pub(super) fin: FinState,
    /// The proxy answered itself (`deny`, `return`).
    pub(super) local: bool,
    /// When the first byte of the request was seen (`%tr`); `None`: nothing came.
    pub(super) rx_start: Option<Instant>,
    /// Counted but not logged: a `monitor-uri` request, or a "null" connection
    /// (nothing received) under `option dontlognull`, as HAProxy 2.6.
    pub(super) nolog: bool,
    /// The built-in service that answered (`<STATS>`, `<PROMEX>`), logged as the server.
    pub(super) applet: Option<&'static str>,
    /// The transaction's state (unique id).
    pub(super) txn: super::txn::Txn,
    /// `capture request header` values.
    pub(super) cap_req: Vec<Option<Vec<u8>>>,
    /// `capture response header` values.
    pub(super) cap_res: Vec<Option<Vec<u8>>>,
    /// What the rules set beside the message (timeouts, log level, captures).
    pub(super) fx: rules::Effects,
    /// Cookie persistence: the designated server and the cookie states for the log.
    pub(super) cookie: super::persist_cookie::CookieTxn,
    /// The counters the request tracks (`http-request track-sc*`, `tcp-request
    /// content track-sc*`), let go when it ends.
    pub(super) trk: crate::runtime::stick::Trackers,
    /// The keys `stick` rules store once the server is known.
    pub(super) stick: crate::runtime::stick::persist::Pending,
}

impl Exchange {
    fn new() -> Self {
        Exchange {
            phase: Phase::ReadHead,
            edits: Edits::default(),
            redits: Edits::default(),
            reqline: Vec::new(),
            body_pending: false,
            status: -1,
            counted: false,
            backend: None,
            server: None,
            srv_status: 0,
            t_request: None,
            info: ConnectInfo::default(),
            t_response: None,
            bytes_out: 0,
            bytes_in: 0,
            term: TermCause::None,
            fin: FinState::None,
            local: false,
            rx_start: None,
            nolog: false,
            applet: None,
            txn: super::txn::Txn::default(),
            cap_req: Vec::new(),
            cap_res: Vec::new(),
            fx: rules::Effects::default(),
            cookie: Default::default(),
            trk: Default::default(),
            stick: Default::default(),
        }
    }

    /// Starts the next request: the log facts start over; the heads, edits and request
    /// line are overwritten by the phases that fill them.
    fn begin(&mut self) {
        self.phase = Phase::ReadHead;
        self.status = -1;
        self.counted = false;
        self.backend = None;
        self.server = None;
        self.srv_status = 0;
        self.t_request = None;
        self.info = ConnectInfo::default();
        self.t_response = None;
        self.bytes_out = 0;
        self.bytes_in = 0;
        self.term = TermCause::None;
        self.fin = FinState::None;
        self.local = false;
        self.rx_start = None;
        self.nolog = false;
        self.applet = None;
        self.txn.clear();
        self.cap_req.clear();
        self.cap_res.clear();
        self.fx.clear();
        self.cookie = Default::default();
        self.trk.clear();
        self.stick.clear();
    }

    /// Counts the ended request's status and bytes in the entries it and its
    /// connection track, and lets the request's own entries go.
    fn count_tracked(&mut self, session: Option<&crate::runtime::stick::Trackers>) {
        use crate::runtime::stick::track;
        if self.trk.is_empty() && session.is_none() {
            return;
        }
        if self.status > 0 {
            track::count_status(Some(&self.trk), session, self.status as u16);
        }
        track::count_bytes(Some(&self.trk), session, self.bytes_in, self.bytes_out);
        self.trk.clear();
    }
}

/// Serves one client connection in http mode until it closes; `hold` (its maxconn slots
/// and counts) is dropped then.
///
/// While requests keep coming, a [`Session`] on the heap serves them, its buffers reused
/// from one request to the next. When the connection goes idle between requests, the
/// session is dropped with its buffers and only this loop waits (`timeout
/// http-keep-alive`, else `http-request`, else `client`): an idle keep-alive connection
/// costs a few hundred bytes, not several KiB. It keeps only its [`Carry`]: where the
/// next request's timers start and, with `http-reuse never`, its own server connections
/// (HAProxy keeps those with the client session too).
pub(super) async fn run<S, H>(
    mut fe: Arc<Frontend>,
    mut snap: Arc<Snapshot>,
    shared: Shared,
    conn: ConnInfo,
    client: S,
    _hold: H,
) where
    S: AsyncRead + AsyncWrite + WaitReadable + Unpin + Send + Sync,
{
    let bufsize = snap.global.bufsize;
    let limits = Limits::from_tune(bufsize, snap.global.maxrewrite);
    let mut client = H1Client::new(client, limits, bufsize);
    // One timer for every keep-alive wait of the connection, re-armed each time.
    let mut idle_timer = crate::proxy::deadline::Deadline::default();
    let mut carry = Carry {
        first: true,
        clock: Clock {
            start: conn.accepted,
            date: conn.accept_date,
        },
        own: Vec::new(),
        sess: Vec::new(),
    };
    loop {
        let busy_session = Session::new(fe.clone(), snap.clone(), &shared, conn.clone(), carry);
        let busy = session::pin_boxed(|| busy_session.serve_busy(&mut client));
        match busy.await {
            Some((c, f, s)) => (carry, fe, snap) = (c, f, s),
            None => break,
        }
        let bufsize = snap.global.bufsize;
        client.set_limits(Limits::from_tune(bufsize, snap.global.maxrewrite), bufsize);
        let t = &fe.timeouts;
        if !wait_readable(
            client.io(),
            t.http_keep_alive.or(t.http_request).or(t.client),
            &mut idle_timer,
        )
        .await
        {
            break;
        }
    }
    let _ = client.io_mut().shutdown().await;
}

/// Serves one exchange whose request head a multiplexing codec already holds (an
/// HTTP/2 stream): the same phases as an HTTP/1 request, the codec yielding one request.
/// `first`: the connection's first stream (`http-reuse safe` never puts it on a shared
/// server connection). The clock starts at `conn.accepted` (the stream's start).
pub(super) async fn run_one<C: ClientCodec + Sync>(
    fe: Arc<Frontend>,
    snap: Arc<Snapshot>,
    shared: Shared,
    conn: ConnInfo,
    first: bool,
    client: &mut C,
) {
    let carry = Carry {
        first,
        clock: Clock {
            start: conn.accepted,
            date: conn.accept_date,
        },
        own: Vec::new(),
        sess: Vec::new(),
    };
    let busy_session = Session::new(fe, snap, &shared, conn, carry);
    session::pin_boxed(|| busy_session.serve_busy(client)).await;
}

/// Where the timers of the current request start (HAProxy's `t`, `%t`): the accept for the
/// first request of a connection, the end of the previous request for the next ones.
#[derive(Clone, Copy)]
pub(super) struct Clock {
    /// Monotonic start.
    pub(super) start: Instant,
    /// The same moment on the wall clock.
    pub(super) date: SystemTime,
}

impl Clock {
    /// The wall-clock date of `at`, a moment after the start.
    pub(super) fn date_of(&self, at: Instant) -> SystemTime {
        self.date + at.saturating_duration_since(self.start)
    }
}

/// A server connection that stays with its client between requests (`http-reuse never`:
/// it is never shared, but the same client's next requests use it).
pub(super) struct OwnConn {
    /// Its backend.
    pub(super) backend: Arc<Backend>,
    /// Index of its server in the backend.
    pub(super) server: usize,
    /// The connection.
    pub(super) link: super::upstream::OwnLink,
}

/// Most server connections a client keeps for itself (HAProxy's default
/// `max-session-srv-conns`).
pub(super) const MAX_OWN_CONNS: usize = 10;

/// What an idle client connection keeps between two busy periods: no buffers.
pub(super) struct Carry {
    /// No request was served yet.
    first: bool,
    /// Where the next request's timers start.
    clock: Clock,
    /// The client's own server connections, one per server at most.
    own: Vec<OwnConn>,
    /// The `sess.` variables.
    sess: Vec<(Box<str>, Vec<u8>)>,
}

/// State of a client connection while it is busy; buffers are reused across requests.
pub(super) struct Session {
    pub(super) fe: Arc<Frontend>,
    pub(super) snap: Arc<Snapshot>,
    /// Where a reload puts the next snapshot.
    pub(super) shared: Shared,
    pub(super) conn: ConnInfo,
    /// The HTTP/1 limits of the snapshot (`tune.bufsize`, `tune.maxrewrite`), for the
    /// server codecs.
    pub(super) limits: Limits,
    /// Scratch for the log line.
    pub(super) line: String,
    pub(super) first: bool,
    /// Where the current request's timers start.
    pub(super) clock: Clock,
    /// The client's own server connections (`http-reuse never`), one per server at
    /// most, [`MAX_OWN_CONNS`] in all (HAProxy's `max-session-srv-conns`).
    pub(super) own: Vec<OwnConn>,
    /// The connection's `sess.` variables while it is idle (in the exchange while busy).
    pub(super) sess: Vec<(Box<str>, Vec<u8>)>,
    /// The exchange state of the previous busy period on this thread, reused.
    ex: Option<Box<Exchange>>,
}

/// The exchange state and log scratch of a busy period, kept for the next busy
/// connection of the same worker thread when this one goes idle (the codecs pool their
/// buffers the same way): a keep-alive connection holds none of them while idle, and
/// taking them back costs no allocation (docs/performance.md).
#[derive(Default)]
struct Spare {
    line: String,
    ex: Option<Box<Exchange>>,
}

/// Most spare buffer sets a worker thread keeps.
const MAX_SPARES: usize = 128;

thread_local! {
    static SPARES: std::cell::RefCell<Vec<Spare>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Spare {
    /// A set from this thread's pool, or an empty one.
    fn take() -> Spare {
        SPARES.with(|s| s.borrow_mut().pop()).unwrap_or_default()
    }

    /// Gives a set back to this thread's pool, emptied; buffers that grew past
    /// `limit` bytes are dropped instead (a large body must not stay pinned).
    fn give(mut self, limit: usize) {
        if self.line.capacity() > limit {
            return;
        }
        self.line.clear();
        if let Some(ex) = &mut self.ex {
            // No backend or server of an old snapshot stays referenced from the pool.
            ex.begin();
        }
        SPARES.with(|s| {
            let mut s = s.borrow_mut();
            if s.len() < MAX_SPARES {
                s.push(self);
            }
        });
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let limit = 4 * self.snap.global.bufsize;
        Spare {
            line: std::mem::take(&mut self.line),
            ex: self.ex.take(),
        }
        .give(limit);
    }
}

impl Session {
    fn new(
        fe: Arc<Frontend>,
        snap: Arc<Snapshot>,
        shared: &Shared,
        conn: ConnInfo,
        carry: Carry,
    ) -> Self {
        let bufsize = snap.global.bufsize;
        let limits = Limits::from_tune(bufsize, snap.global.maxrewrite);
        let spare = Spare::take();
        Session {
            fe,
            snap,
            shared: Arc::clone(shared),
            conn,
            limits,
            line: spare.line,
            ex: spare.ex,
            first: carry.first,
            clock: carry.clock,
            own: carry.own,
            sess: carry.sess,
        }
    }

    /// Takes the current snapshot when a reload made a new one: the next request runs
    /// with it, and with its frontend of the same name (the old one while the reload
    /// removed it: this connection was accepted by it).
    fn refresh(&mut self) {
        let cur = self.shared.load();
        if Arc::ptr_eq(&cur, &self.snap) {
            return;
        }
        if let Some(fe) = cur.frontend(&self.fe.name) {
            self.fe = Arc::clone(fe);
            self.snap = arc_swap::Guard::into_inner(cur);
        }
    }

    /// Serves requests while they keep coming. `Some`: the connection went idle between
    /// requests (nothing to read), here is what to keep, with the frontend and snapshot
    /// of its last request; `None`: it must be closed.
    async fn serve_busy<C: ClientCodec>(
        mut self,
        client: &mut C,
    ) -> Option<(Carry, Arc<Frontend>, Arc<Snapshot>)> {
        let mut ex = self.ex.take().unwrap_or_else(|| Box::new(Exchange::new()));
        ex.txn.put_sess(std::mem::take(&mut self.sess));
        client.unpark();
        let mut carry = self.serve_requests(client, &mut ex).await;
        client.park();
        // The connection's variables go with it, never with the pooled exchange.
        let sess = ex.txn.take_sess();
        if let Some(c) = &mut carry {
            c.sess = sess;
        }
        // Back with the buffers, for the thread's next busy connection.
        self.ex = Some(ex);
        carry.map(|c| (c, self.fe.clone(), self.snap.clone()))
    }

    /// The request loop of a busy period: `Some` when the connection went idle.
    async fn serve_requests<C: ClientCodec>(
        &mut self,
        client: &mut C,
        ex: &mut Exchange,
    ) -> Option<Carry> {
        loop {
            if !self.first {
                // A busy client's next request is often there already.
                match client.next_input().await {
                    NextInput::Ready => {}
                    NextInput::Closed => return None,
                    NextInput::Idle => {
                        return Some(Carry {
                            first: false,
                            clock: self.clock,
                            own: std::mem::take(&mut self.own),
                            sess: Vec::new(),
                        });
                    }
                }
            }
            self.refresh();
            ex.begin();
            // Each request (or attempt: HAProxy counts a connection closed silently
            // too) gets its number in the process (`%rt`).
            ex.txn.rt = crate::log::next_request();
            ex.txn.set_proc(&self.snap.proc_vars);
            let r = self.exchange(client, ex).await;
            ex.count_tracked(self.conn.stick.as_deref());
            match r {
                Some(next) => {
                    let end = crate::proxy::clock::now();
                    ex.phase = Phase::Log;
                    self.log(ex, end);
                    self.first = false;
                    // The next request's timers start where this one ended.
                    self.clock = Clock {
                        start: end,
                        date: self.clock.date_of(end),
                    };
                    if matches!(next, Next::Close) {
                        return None;
                    }
                }
                None => return None,
            }
        }
    }

    /// Counts the request in `req_tot` and its response (`status`) in `hrsp_*` as the
    /// response head is produced, before it is written (HAProxy counts a response as
    /// it parses its head): a client that reads the response and then the stats sees
    /// it counted. Once per exchange; a `monitor-uri` request counts too (HAProxy 2.6
    /// counts it in the frontend's `req_tot` and `hrsp_*`, but does not log it).
    pub(super) fn count_response(&self, ex: &mut Exchange, status: i32) {
        if ex.counted {
            return;
        }
        ex.counted = true;
        let answered = ex.t_response.is_some_and(|t| t >= 0);
        let srv_status = if answered {
            i32::from(ex.srv_status)
        } else {
            0
        };
        let (be, srv) = (ex.backend.as_deref(), ex.server.as_deref());
        session::account_response(&self.fe, be, srv, status, srv_status);
    }

    /// `option dontlognull` is set on the frontend's log.
    fn dontlognull(&self) -> bool {
        self.fe.log.as_ref().is_some_and(|l| l.dontlognull)
    }

    /// The client connection may carry another exchange after this one: the client and
    /// the frontend's mode allow it, and no soft stop began.
    pub(super) fn persists<C: ClientCodec>(&self, client: &C) -> bool {
        client.request().persist
            && self.fe.conn_mode != crate::config::model::HttpConnMode::Close
            // Soft stop: this response says `Connection: close` (docs/reload.md).
            && !crate::proxy::running::stopping()
    }

    /// Phase 3: the client codec reads the next request head (`timeout http-request`).
    /// `Err(None)`: close silently.
    async fn read_head<C: ClientCodec>(
        &mut self,
        client: &mut C,
        ex: &mut Exchange,
    ) -> Result<(), Option<Next>> {
        ex.phase = Phase::ReadHead;
        let t = &self.fe.timeouts;
        let wait = HeadWait {
            since: self.clock.start,
            limit: t.http_request.or(t.client),
            client: t.client,
            first: self.first,
        };
        match client.read_request(wait, &mut ex.rx_start).await {
            Ok(()) => {
                // A request counts in the connection's tracked entries (HAProxy's
                // `stream_inc_http_req_ctr`; the request's own track when tracked).
                crate::runtime::stick::track::count_request(None, self.conn.stick.as_deref());
                // HAProxy's bytes in (`%U`, `bin`) count the request head too.
                ex.bytes_in += client.head_bytes();
                let rx_start = ex.rx_start.unwrap_or(self.clock.start);
                let now = crate::proxy::clock::now();
                ex.t_request = session::ms(now.saturating_duration_since(rx_start));
                Ok(())
            }
            Err(HeadFail::Invalid { status }) => {
                crate::runtime::stick::track::count_request(None, self.conn.stick.as_deref());
                ex.reqline.clear();
                ex.status = status as i32;
                // HAProxy's HTTP/1 layer does not count its error pages.
                ex.bytes_out = 0;
                ex.term = TermCause::Proxy;
                ex.fin = FinState::Request;
                ex.t_request = Some(-1);
                self.count_response(ex, ex.status);
                Err(Some(Next::Close))
            }
            Err(HeadFail::Timeout) => {
                ex.reqline.clear();
                ex.t_request = Some(-1);
                // HAProxy 2.6 answers 408 and counts it, but a connection that sent
                // nothing is a "null" one `option dontlognull` does not log.
                ex.nolog = ex.rx_start.is_none() && self.dontlognull();
                Err(self
                    .fail_cold(client, ex, 408, TermCause::ClientTimeout, FinState::Request)
                    .await)
            }
            Err(HeadFail::Closed { nothing }) => {
                if nothing && !self.first {
                    return Err(None);
                }
                ex.reqline.clear();
                // Counted as a request (and a 400 error) in the tracked entries, as
                // HAProxy's H1 layer does.
                crate::runtime::stick::track::count_request(None, self.conn.stick.as_deref());
                // HAProxy 2.6 logs 400 (CR--) for a request cut by the client, whether
                // nothing or part of it came.
                ex.status = 400;
                ex.term = TermCause::ClientAbort;
                ex.fin = FinState::Request;
                ex.t_request = Some(-1);
                // A connection closed without sending anything is a "null" connection:
                // HAProxy 2.6 still counts it (`req_tot`, `hrsp_4xx`, `ereq`), but
                // `option dontlognull` does not log it.
                ex.nolog = nothing && self.dontlognull();
                Err(Some(Next::Close))
            }
        }
    }

    /// One request/response exchange, phase after phase. `None`: close without logging.
    async fn exchange<C: ClientCodec>(
        &mut self,
        client: &mut C,
        ex: &mut Exchange,
    ) -> Option<Next> {
        if let Err(next) = self.read_head(client, ex).await {
            return next;
        }
        let req = client.request();
        super::logline::request_line(&req, &mut ex.reqline);
        super::txn::capture(&self.fe.capture_req, req.fields(), &mut ex.cap_req);
        ex.body_pending = req.payload.is_some();
        let be = match self.request_rules(client, ex).await {
            Ok(be) => be,
            Err(next) => {
                // A backend that answered itself (its rules' `return`, `deny`) still
                // had the stream: HAProxy counts it in its `stot`.
                if let Some(b) = ex.backend.as_ref().filter(|b| b.name != self.fe.name) {
                    b.counters.session_start();
                    b.counters.session_end();
                }
                return next;
            }
        };
        be.counters.session_start();
        let r = self.pass_to(client, ex, &be).await;
        be.counters.session_end();
        r
    }

    /// Reads a whole request body of at most `max` bytes (answering `Expect:
    /// 100-continue` first); `None` when it is larger or the client fails.
    async fn read_small_body<C: ClientCodec>(
        &mut self,
        client: &mut C,
        max: usize,
    ) -> Option<Vec<u8>> {
        let t = self.fe.timeouts.client;
        if client.request().expect_continue && client.write_continue(t).await.is_err() {
            return None;
        }
        let mut body = Vec::new();
        while !client.body_done() {
            let f = client.read_body(t).await.ok()?;
            if body.len() + f.data.len() > max {
                return None;
            }
            body.extend_from_slice(f.data);
            if f.end {
                break;
            }
            if f.data.is_empty() && f.trailers.is_empty() {
                return None;
            }
        }
        Some(body)
    }

    /// Phase 4: `monitor-uri`, then the frontend's rules and the switching rules, then
    /// the backend's; answered locally (phase 5) when a rule decides so. `Ok`: the
    /// backend the request goes to.
    async fn request_rules<C: ClientCodec>(
        &mut self,
        client: &mut C,
        ex: &mut Exchange,
    ) -> Result<Arc<Backend>, Option<Next>> {
        ex.phase = Phase::RequestRules;
        ex.edits.clear();
        let fe = self.fe.clone();
        if let Some(status) = self.monitor(client) {
            // Counted (`req_tot`, `hrsp_*`, `intercepted`, bytes) but not logged, as
            // HAProxy 2.6.
            ex.nolog = true;
            let c = &self.fe.live.counters;
            c.intercepted
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Err(cold(self.error_reply(client, ex, status, true)).await);
        }
        let ids = &self.snap.identities;
        if let Some(p) = super::identity::backchannel_for(ids, &client.request()) {
            let method = client.request().method_bytes().to_vec();
            let body = cold(self.read_small_body(client, BACKCHANNEL_BODY_MAX)).await;
            let r = cold(super::identity::backchannel_logout(
                &p,
                &method,
                body.as_deref(),
            ))
            .await;
            return Err(cold(self.local_reply(client, ex, Page::Reply(&r), r.status, true)).await);
        }
        let secure = self.conn.tls.is_some();
        // Boxed out of line, and only built when identities are configured.
        let reply = if ids.is_empty() {
            None
        } else {
            cold(super::identity::intercept(
                ids,
                &client.request(),
                &ex.txn,
                secure,
            ))
            .await
        };
        if let Some(r) = reply {
            return Err(cold(self.local_reply(client, ex, Page::Reply(&r), r.status, true)).await);
        }
        // The body fetches see the bytes that came with the head, as HAProxy's.
        if self.hold_buffered_body(client, ex).is_err() {
            return Err(self
                .fail(client, ex, 400, TermCause::Proxy, FinState::Request)
                .await);
        }
        let mut stage = rules::Stage::Start;
        let (verdict, backend) = loop {
            let view = ReqView {
                req: client.request(),
                conn: &self.conn,
                status: None,
                resp: None,
                users: Some(&self.snap.userlists),
                txn: Some((&ex.txn, fe.unique_id.as_ref(), &fe.name)),
                live: Some(
                    StreamLive::new(&self.snap, &fe)
                        .tracking(self.conn.stick.as_deref(), Some(&ex.trk)),
                ),
            };
            let routed = rules::route(&fe, &view, &mut ex.edits, &mut ex.fx, stage).ok_or(None)?;
            if let Verdict::WaitBody(w) = routed.0 {
                // The rules resume once the body is held (`body_wait.rs`).
                cold(self.wait_for_body(client, ex, &w)).await?;
                stage = w.resume;
                continue;
            }
            // The id not fetched by a rule is generated now, as HAProxy does once the
            // backend is known, and sent in `unique-id-header`.
            if let Some(uid) = &fe.unique_id {
                let be = routed.1.as_ref().map_or(fe.name.as_str(), |b| &b.name);
                let id = ex.txn.unique_id(uid, &view, &fe.name, be);
                if let (Some(h), Some(id), Verdict::Continue) = (&uid.header, id, &routed.0) {
                    ex.edits.add.push((h.clone(), id.to_vec()));
                }
            }
            break routed;
        };
        ex.backend = backend.clone();
        // HAProxy counts in `intercepted` the requests its frontend's own rules answer
        // (`return`, `redirect`, `auth`), not a backend's.
        if matches!(verdict, Verdict::Return(_) | Verdict::Auth(_))
            && backend.as_ref().is_none_or(|b| b.name == fe.name)
        {
            fe.live
                .counters
                .intercepted
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        match verdict {
            Verdict::Continue | Verdict::WaitBody(_) => {}
            Verdict::Prometheus => return Err(cold(self.serve_stats(client, ex, None)).await),
            Verdict::ErrorPage(status) => {
                return Err(cold(self.error_reply(client, ex, status, true)).await);
            }
            Verdict::Deny(status) => {
                return Err(cold(self.error_reply(client, ex, status, false)).await);
            }
            Verdict::Tarpit(status) => {
                // HAProxy holds the request, then answers with the error page, logged
                // `PT`.
                if let Some(d) = fe.timeouts.tarpit {
                    cold(tokio::time::sleep(d)).await;
                }
                return Err(self
                    .fail_cold(client, ex, status, TermCause::Proxy, FinState::Tarpit)
                    .await);
            }
            Verdict::Auth(realm) => {
                return Err(cold(self.auth_reply(client, ex, &realm)).await);
            }
            Verdict::Return(reply) => {
                let status = reply.as_ref().map_or(200, |r| r.status);
                let page = reply.as_deref().map_or(Page::Empty, Page::Reply);
                return Err(cold(self.local_reply(client, ex, page, status, true)).await);
            }
        }
        if let Some(page) = self.stats_page(client, backend.as_ref()) {
            return Err(cold(self.serve_stats(client, ex, Some(page))).await);
        }
        match backend {
            Some(be) => Ok(be),
            None => Err(self
                .fail_cold(client, ex, 503, TermCause::Proxy, FinState::Request)
                .await),
        }
    }

    /// `monitor-uri`: for a request to the monitor URI (its path and query when the URI
    /// starts with `/`, else the whole target), HAProxy's answer once the `tcp-request
    /// content` rules have passed: 200, or 503 when a `monitor fail` condition matches.
    /// `None` for any other request.
    fn monitor<C: ClientCodec>(&self, client: &C) -> Option<u16> {
        let uri = self.fe.monitor_uri.as_deref()?;
        let req = client.request();
        let target = req.target();
        let hit = if uri.starts_with('/') {
            origin_form(target) == uri.as_bytes()
        } else {
            target == uri.as_bytes()
        };
        if !hit {
            return None;
        }
        let view = ReqView {
            req,
            conn: &self.conn,
            status: None,
            resp: None,
            users: Some(&self.snap.userlists),
            txn: None,
            live: Some(StreamLive::new(&self.snap, &self.fe)),
        };
        if !crate::runtime::rules::tcp_verdict(&self.fe.tcp_content, &view) {
            return None;
        }
        let failed = self.fe.monitor_fail.iter().any(|c| c.matches(&view));
        Some(if failed { 503 } else { 200 })
    }

    /// Phases 6 to 10 for a request routed to `be`, in order: balance, queue and connect
    /// (or reuse), send the request, wait for the response (the retry edge replaces a
    /// reused connection the server had closed), forward the response, then give the
    /// server connection back or close it.
    async fn pass_to<C: ClientCodec>(
        &mut self,
        client: &mut C,
        ex: &mut Exchange,
        be: &Arc<Backend>,
    ) -> Option<Next> {
        let mode = conn_mode(self.fe.conn_mode, be.conn_mode);
        if be.cookie.is_some() || !be.persist_rules.is_empty() {
            let view = ReqView {
                req: client.request(),
                conn: &self.conn,
                status: None,
                resp: None,
                users: Some(&self.snap.userlists),
                txn: Some((&ex.txn, self.fe.unique_id.as_ref(), &self.fe.name)),
                live: Some(StreamLive::new(&self.snap, &self.fe)),
            };
            let req = client.request();
            super::persist_cookie::on_request(be, &view, req, &mut ex.edits, &mut ex.cookie);
        }
        ex.phase = Phase::Connect;
        let up = match self.connect_upstream(client, ex, be, mode).await {
            Ok(up) => up,
            Err(next) => return next,
        };
        ex.server = Some(up.server().clone());
        super::persist_cookie::connected(&mut ex.cookie, &ex.info);
        // `on-marked-down shutdown-sessions`, `on-marked-up shutdown-backup-sessions`
        // and `shutdown sessions server` end the exchange with this server from
        // outside: its server connection is dropped and the client's closed.
        let mut shutdown = up.server().shutdown.watch();
        let killed = {
            // Both futures pinned where they are built: `tokio::select!` would move the
            // exchange's (all the phases' futures, ~350 instructions of `memcpy` per
            // request) into its own storage. The exchange is polled first.
            let mut exchange = std::pin::pin!(self.forward_and_respond(client, ex, be, mode, up));
            let mut killed = std::pin::pin!(shutdown.wait());
            std::future::poll_fn(|cx| match exchange.as_mut().poll(cx) {
                std::task::Poll::Ready(next) => std::task::Poll::Ready(Ok(next)),
                std::task::Poll::Pending => killed.as_mut().poll(cx).map(Err),
            })
            .await
        };
        match killed {
            Ok(next) => next,
            Err(cause) => {
                ex.term = cause;
                ex.fin = if ex.t_response.is_some() {
                    FinState::Data
                } else {
                    FinState::Headers
                };
                Some(Next::Close)
            }
        }
    }

    /// Phases 9 and 10 over the server connection `up`.
    async fn forward_and_respond<C: ClientCodec>(
        &mut self,
        client: &mut C,
        ex: &mut Exchange,
        be: &Arc<Backend>,
        mode: crate::config::model::HttpConnMode,
        mut up: super::upstream::Upstream,
    ) -> Option<Next> {
        ex.phase = Phase::ForwardRequest;
        // `up` stays here: the phases borrow it (moving it through each phase's future
        // cost a `memcpy` of it per phase).
        let mut sent = match self.send_request(client, ex, be, mode, &mut up).await {
            Ok(r) => r,
            Err(next) => return next,
        };
        ex.phase = Phase::Response;
        if let Err(next) = self
            .await_response(client, ex, be, &mut up, &mut sent)
            .await
        {
            return next;
        }
        let now = crate::proxy::clock::now();
        ex.t_response = session::ms(now.saturating_duration_since(sent.at));
        let request_done = client.body_done() && !up.codec.request_cut();
        if !request_done {
            // The server answered without asking for the body (or asked for no more of
            // it): the connection to the client cannot be reused.
            ex.fin = FinState::None;
        }
        let r = self
            .respond(client, &mut up.codec, ex, be, request_done)
            .await;
        if r.next.is_some() && r.server_clean {
            self.release(be, mode, up);
        }
        r.next
    }
}

/// The path and query of a request target (an absolute URI loses its scheme and
/// authority), as HAProxy's `http_get_path` reads it.
fn origin_form(target: &[u8]) -> &[u8] {
    if target.starts_with(b"/") {
        return target;
    }
    let Some(i) = memchr::memmem::find(target, b"://") else {
        return target;
    };
    let rest = &target[i + 3..];
    match rest.iter().position(|c| *c == b'/') {
        Some(j) => &rest[j..],
        None => b"",
    }
}
