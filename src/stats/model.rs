//! One model of HAProxy 2.6's `show stat` lines, filled from the snapshot and the
//! live-state store it is bound to: a [`Row`] per frontend, server and backend, in
//! HAProxy's order (for each proxy of the configuration: its FRONTEND line, its servers,
//! its BACKEND line). Every writer (CSV, JSON, typed, HTML, Prometheus) reads these
//! rows.
//!
//! A field gatehouse measures carries its true value; a field HAProxy fills but
//! gatehouse does not measure (queue/connect/response time averages, idle connection
//! counts) is left empty, as HAProxy leaves fields that do not
//! apply; fields of features gatehouse does not have (compression, cache, TLS, HTTP/2)
//! are 0, their true value.

use super::fields::{FIELDS, SEPARATOR, col};
use crate::config::model::Mode;
use crate::runtime::backend::Backend;
use crate::runtime::counters::Counters;
use crate::runtime::health::CheckStatus;
use crate::runtime::proxies::{ProxyMeta, ServerMeta};
use crate::runtime::server::ServerState;
use crate::runtime::snapshot::Snapshot;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

/// One field's value, typed as HAProxy types it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Value {
    /// Not reported.
    #[default]
    Empty,
    /// `u32`.
    U32(u32),
    /// `s32`.
    S32(i32),
    /// `u64`.
    U64(u64),
    /// `str`.
    Str(String),
}

impl Value {
    /// The value as a number (`None` for empty fields and strings).
    pub fn number(&self) -> Option<f64> {
        match self {
            Value::U32(v) => Some(f64::from(*v)),
            Value::S32(v) => Some(f64::from(*v)),
            Value::U64(v) => Some(*v as f64),
            Value::Empty | Value::Str(_) => None,
        }
    }

    /// The value as `show stat` prints it.
    pub fn write(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = match self {
            Value::Empty => Ok(()),
            Value::U32(v) => write!(out, "{v}"),
            Value::S32(v) => write!(out, "{v}"),
            Value::U64(v) => write!(out, "{v}"),
            Value::Str(s) => {
                out.push_str(s);
                Ok(())
            }
        };
    }
}

/// The kind of object a line describes (HAProxy's `type` field: 0, 1, 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjType {
    /// A FRONTEND line.
    Frontend,
    /// A BACKEND line.
    Backend,
    /// A server line.
    Server,
}

impl ObjType {
    /// The name of `show stat json`'s `objType`.
    pub fn json_name(self) -> &'static str {
        match self {
            ObjType::Frontend => "Frontend",
            ObjType::Backend => "Backend",
            ObjType::Server => "Server",
        }
    }

    /// The letter of `show stat typed`.
    pub fn letter(self) -> char {
        match self {
            ObjType::Frontend => 'F',
            ObjType::Backend => 'B',
            ObjType::Server => 'S',
        }
    }

    /// The index of this kind in [`super::fields::FieldDef::tags`].
    pub fn index(self) -> usize {
        match self {
            ObjType::Frontend => 0,
            ObjType::Backend => 1,
            ObjType::Server => 2,
        }
    }
}

/// A server's state as the stats report it (`status`, and Prometheus' `state` label).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SrvState {
    /// DOWN (checks failed), including "DOWN 1/2" while going up.
    Down,
    /// UP, including "UP 1/3" while going down and "no check".
    Up,
    /// In maintenance.
    Maint,
}

/// One `show stat` line.
#[derive(Clone, Debug)]
pub struct Row {
    /// What it describes.
    pub obj: ObjType,
    /// The proxy's numeric id (`iid`).
    pub proxy_id: u32,
    /// The server's id (`sid`), 0 for FRONTEND and BACKEND lines.
    pub id: u32,
    /// The server's state (server lines only).
    pub state: Option<SrvState>,
    /// The proxy's mode.
    pub mode: Mode,
    /// Every field, in [`FIELDS`] order (the separator's slot stays empty).
    pub values: Vec<Value>,
}

impl Row {
    fn new(obj: ObjType, proxy_id: u32, id: u32, mode: Mode) -> Self {
        Row {
            obj,
            proxy_id,
            id,
            state: None,
            mode,
            values: vec![Value::Empty; FIELDS.len()],
        }
    }

    /// The value of column `c` (see [`col`]).
    pub fn get(&self, c: usize) -> &Value {
        &self.values[c]
    }

    /// The proxy name.
    pub fn pxname(&self) -> &str {
        match &self.values[col::PXNAME] {
            Value::Str(s) => s,
            _ => "",
        }
    }

    /// The server name, or `FRONTEND`/`BACKEND`.
    pub fn svname(&self) -> &str {
        match &self.values[col::SVNAME] {
            Value::Str(s) => s,
            _ => "",
        }
    }

    fn set(&mut self, c: usize, v: Value) {
        self.values[c] = v;
    }

    fn zero(&mut self, cols: std::ops::RangeInclusive<usize>) {
        for c in cols {
            if c != SEPARATOR {
                self.values[c] = Value::U64(0);
            }
        }
    }
}

/// What a reader may see.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Show addresses, cookies and algorithms (`stats show-legends`, or the runtime
    /// API at operator/admin level).
    pub legends: bool,
    /// Only these proxies (`stats scope`); empty: all.
    pub scope: Vec<String>,
}

impl Options {
    fn shows(&self, proxy: &str) -> bool {
        self.scope.is_empty() || self.scope.iter().any(|s| s == proxy)
    }
}

/// Every line of `show stat`, in HAProxy's order.
pub fn rows(snap: &Snapshot, opts: &Options) -> Vec<Row> {
    let mut out = Vec::new();
    for meta in snap.proxies.iter().filter(|m| opts.shows(&m.name)) {
        if meta.frontend
            && let Some(fe) = snap.frontend(&meta.name)
        {
            out.push(frontend_row(meta, &fe.live.counters));
        }
        if meta.backend
            && let Some(be) = snap.backends.iter().find(|b| b.name == meta.name)
        {
            for s in &be.servers {
                let sm = meta.servers.iter().find(|m| m.name == s.name);
                out.push(server_row(meta, sm, s, opts));
            }
            out.push(backend_row(meta, be, opts));
        }
    }
    out
}

fn u32v(a: &std::sync::atomic::AtomicU32) -> Value {
    Value::U32(a.load(Ordering::Relaxed))
}

fn u64v(a: &std::sync::atomic::AtomicU64) -> Value {
    Value::U64(a.load(Ordering::Relaxed))
}

fn str(s: &str) -> Value {
    Value::Str(s.to_owned())
}

fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::Tcp => "tcp",
        Mode::Http => "http",
    }
}

/// The fields every kind shares: names, traffic, ids, mode.
fn common(r: &mut Row, meta: &ProxyMeta, svname: &str, c: &Counters) {
    r.set(col::PXNAME, str(&meta.name));
    r.set(col::SVNAME, str(svname));
    r.set(col::SCUR, u32v(&c.scur));
    r.set(col::SMAX, u32v(&c.smax));
    r.set(col::STOT, u64v(&c.stot));
    r.set(col::BIN, u64v(&c.bin));
    r.set(col::BOUT, u64v(&c.bout));
    r.set(col::PID, Value::U32(1));
    r.set(col::IID, Value::U32(meta.uuid));
    r.set(col::RATE, Value::U32(c.sess_rate.rate()));
    r.set(col::RATE_MAX, u32v(&c.sess_rate_max));
    r.set(col::WREW, Value::U64(0));
    r.set(col::EINT, Value::U64(0));
    r.set(col::MODE, str(mode_name(meta.mode)));
    // Stats modules: no TLS and no HTTP/2 traffic yet.
    r.zero(col::SSL_SESS..=col::H2_BACKEND_TOTAL_STREAMS);
}

fn http_counts(r: &mut Row, c: &Counters) {
    let cols = [
        col::HRSP_1XX,
        col::HRSP_2XX,
        col::HRSP_3XX,
        col::HRSP_4XX,
        col::HRSP_5XX,
    ];
    for (i, cl) in cols.into_iter().enumerate() {
        r.set(cl, Value::U64(c.hrsp.class(i as u32 + 1)));
    }
    r.set(col::HRSP_OTHER, Value::U64(c.hrsp.class(0)));
    r.set(col::REQ_TOT, u64v(&c.req_tot));
}

fn frontend_row(meta: &ProxyMeta, c: &Counters) -> Row {
    let mut r = Row::new(ObjType::Frontend, meta.uuid, 0, meta.mode);
    common(&mut r, meta, "FRONTEND", c);
    r.set(col::SLIM, Value::U32(meta.maxconn));
    r.set(col::DREQ, u64v(&c.dreq));
    r.set(col::DRESP, u64v(&c.dresp));
    r.set(col::EREQ, u64v(&c.ereq));
    r.set(col::DCON, Value::U64(0));
    r.set(col::DSES, Value::U64(0));
    r.set(col::STATUS, str("OPEN"));
    r.set(col::SID, Value::U32(0));
    r.set(col::TYPE, Value::U32(0));
    r.set(col::RATE_LIM, Value::U32(0));
    if meta.mode == Mode::Http {
        http_counts(&mut r, c);
        r.set(col::INTERCEPTED, u64v(&c.intercepted));
        r.set(col::CACHE_LOOKUPS, Value::U64(0));
        r.set(col::CACHE_HITS, Value::U64(0));
    } else {
        r.set(col::REQ_TOT, u64v(&c.req_tot));
    }
    r.set(col::REQ_RATE, Value::U32(c.req_rate.rate()));
    r.set(col::REQ_RATE_MAX, u32v(&c.req_rate_max));
    r.zero(col::COMP_IN..=col::COMP_RSP);
    // Every accepted connection becomes a session in gatehouse.
    r.set(col::CONN_RATE, Value::U32(c.sess_rate.rate()));
    r.set(col::CONN_RATE_MAX, u32v(&c.sess_rate_max));
    r.set(col::CONN_TOT, u64v(&c.stot));
    r.zero(col::H1_OPEN_CONNECTIONS..=col::H1_SPLICED_BYTES_OUT);
    if meta.mode == Mode::Http {
        r.set(col::H1_OPEN_CONNECTIONS, u32v(&c.scur));
        r.set(col::H1_TOTAL_CONNECTIONS, u64v(&c.stot));
        r.set(col::H1_TOTAL_STREAMS, u64v(&c.req_tot));
        r.set(col::H1_BYTES_IN, u64v(&c.bin));
        r.set(col::H1_BYTES_OUT, u64v(&c.bout));
    }
    r
}

/// Seconds since `t` (0 for a time in the future).
fn age(t: SystemTime) -> u32 {
    SystemTime::now()
        .duration_since(t)
        .map_or(0, |d| d.as_secs() as u32)
}

/// The server's state, its `status` text and whether it counts as up for balancing.
fn server_status(s: &ServerState, check: Option<&ServerMeta>) -> (SrvState, String) {
    if s.maint.load(Ordering::Relaxed) {
        return (SrvState::Maint, "MAINT".into());
    }
    let h = s.health.get();
    let checked = check.is_some_and(|m| m.check) && h.enabled && !h.paused;
    let (rise, fall) = check.map_or((2, 3), |m| (m.rise, m.fall));
    if s.up.load(Ordering::Relaxed) && s.stopping.load(Ordering::Relaxed) {
        // HAProxy's `SRV_ST_STOPPING` reads `NOLB`, before any drain.
        let text = if checked && h.health < rise + fall - 1 {
            format!("NOLB {}/{}", h.health + 1 - rise, fall)
        } else {
            "NOLB".to_owned()
        };
        return (SrvState::Up, text);
    }
    if s.up.load(Ordering::Relaxed) {
        // A drained server that is up reads `DRAIN`, as in HAProxy's stats.
        if s.drain.load(Ordering::Relaxed) {
            return (SrvState::Up, "DRAIN".to_owned());
        }
        let text = if !checked {
            "no check".to_owned()
        } else if h.health < rise + fall - 1 {
            format!("UP {}/{}", h.health + 1 - rise, fall)
        } else {
            "UP".to_owned()
        };
        (SrvState::Up, text)
    } else {
        let text = if checked && h.health > 0 {
            format!("DOWN {}/{}", h.health, rise)
        } else {
            "DOWN".to_owned()
        };
        (SrvState::Down, text)
    }
}

fn server_row(meta: &ProxyMeta, sm: Option<&ServerMeta>, s: &ServerState, opts: &Options) -> Row {
    let c = &s.counters;
    let sid = sm.map_or(s.index as u32 + 1, |m| m.sid);
    let mut r = Row::new(ObjType::Server, meta.uuid, sid, meta.mode);
    common(&mut r, meta, &s.name, c);
    for c in col::H2_HEADERS_RCVD..=col::H2_BACKEND_TOTAL_STREAMS {
        r.set(c, Value::Empty);
    }
    r.set(col::QCUR, u32v(&s.queued));
    r.set(col::QMAX, u32v(&c.qmax));
    r.set(col::SCUR, u32v(&s.cur_conns));
    if s.maxconn > 0 {
        r.set(col::SLIM, Value::U32(s.maxconn));
    }
    r.set(col::DRESP, u64v(&c.dresp));
    r.set(col::ECON, u64v(&c.econ));
    r.set(col::ERESP, u64v(&c.eresp));
    r.set(col::WRETR, u64v(&c.wretr));
    r.set(col::WREDIS, u64v(&c.wredis));
    r.set(col::CONNECT, u64v(&c.connect));
    r.set(col::REUSE, u64v(&c.reuse));
    let (state, text) = server_status(s, sm);
    r.state = Some(state);
    r.set(col::STATUS, Value::Str(text));
    let h = s.health.get();
    r.set(
        col::LASTCHG,
        Value::U32(age(h.last_change.unwrap_or_else(super::info::started))),
    );
    r.set(col::WEIGHT, Value::U32(s.cur_weight()));
    r.set(col::UWEIGHT, Value::U32(s.cur_weight()));
    r.set(col::ACT, Value::U32(u32::from(!s.backup)));
    r.set(col::BCK, Value::U32(u32::from(s.backup)));
    let checked = sm.is_some_and(|m| m.check) && h.enabled && !h.paused;
    if checked {
        let m = sm.expect("checked servers have their settings");
        r.set(col::CHKFAIL, Value::U64(h.chkfail));
        r.set(col::CHKDOWN, Value::U64(h.chkdown));
        let mut down = h.downtime;
        if state == SrvState::Down
            && let Some(t) = h.last_change
        {
            down += SystemTime::now().duration_since(t).unwrap_or_default();
        }
        r.set(col::DOWNTIME, Value::U32(down.as_secs() as u32));
        let st = h.last.status;
        r.set(col::CHECK_STATUS, str(st.name()));
        if st.has_code()
            && let Some(code) = h.last.code
        {
            r.set(col::CHECK_CODE, Value::U32(code));
        }
        if st != CheckStatus::Init {
            r.set(
                col::CHECK_DURATION,
                Value::U64(h.last.duration.as_millis() as u64),
            );
        }
        r.set(col::CHECK_DESC, str(st.description()));
        r.set(col::LAST_CHK, str(&h.last.info));
        r.set(col::CHECK_RISE, Value::U32(m.rise));
        r.set(col::CHECK_FALL, Value::U32(m.fall));
        r.set(col::CHECK_HEALTH, Value::U32(h.health));
    }
    if s.maxqueue > 0 {
        r.set(col::QLIMIT, Value::U32(s.maxqueue));
    }
    r.set(col::SID, Value::U32(sid));
    r.set(col::LBTOT, u64v(&c.lbtot));
    r.set(col::TYPE, Value::U32(2));
    if meta.mode == Mode::Http {
        http_counts(&mut r, c);
    }
    r.set(col::CLI_ABRT, u64v(&c.cli_abrt));
    r.set(col::SRV_ABRT, u64v(&c.srv_abrt));
    r.set(col::LASTSESS, Value::S32(c.lastsess() as i32));
    if opts.legends {
        let addr = match &s.unix {
            Some(_) => "unix".to_owned(),
            None => s.addr.to_string(),
        };
        r.set(col::ADDR, Value::Str(addr));
        if let Some(ck) = sm.and_then(|m| m.cookie.as_deref()) {
            r.set(col::COOKIE, str(ck));
        }
    }
    r
}

fn backend_row(meta: &ProxyMeta, be: &Backend, opts: &Options) -> Row {
    let c = &be.counters;
    let mut r = Row::new(ObjType::Backend, meta.uuid, 0, meta.mode);
    common(&mut r, meta, "BACKEND", c);
    r.set(col::QCUR, u32v(&be.queued));
    r.set(col::QMAX, u32v(&c.qmax));
    r.set(col::SLIM, Value::U32(meta.fullconn));
    r.set(col::DREQ, u64v(&c.dreq));
    r.set(col::DRESP, u64v(&c.dresp));
    r.set(col::ECON, u64v(&c.econ));
    r.set(col::ERESP, u64v(&c.eresp));
    r.set(col::WRETR, u64v(&c.wretr));
    r.set(col::WREDIS, u64v(&c.wredis));
    r.set(col::CONNECT, u64v(&c.connect));
    r.set(col::REUSE, u64v(&c.reuse));
    // The weight balancing uses: the usable active servers', else the backups'.
    let usable = |backup: bool| {
        be.servers
            .iter()
            .filter(move |s| s.backup == backup && s.usable())
    };
    let act = usable(false).count() as u32;
    let bck = usable(true).count() as u32;
    let weight: u32 = if act > 0 {
        usable(false).map(|s| s.cur_weight()).sum()
    } else {
        usable(true).map(|s| s.cur_weight()).sum()
    };
    let up = weight > 0 || be.servers.is_empty();
    r.set(col::STATUS, str(if up { "UP" } else { "DOWN" }));
    r.set(col::WEIGHT, Value::U32(weight));
    r.set(col::UWEIGHT, Value::U32(weight));
    r.set(col::ACT, Value::U32(act));
    r.set(col::BCK, Value::U32(bck));
    let downs: u64 = be.servers.iter().map(|s| s.health.get().chkdown).sum();
    r.set(col::CHKDOWN, Value::U64(downs));
    let last = be
        .servers
        .iter()
        .filter_map(|s| s.health.get().last_change)
        .max()
        .unwrap_or_else(super::info::started);
    r.set(col::LASTCHG, Value::U32(age(last)));
    if !be.servers.is_empty() {
        r.set(col::DOWNTIME, Value::U32(0));
    }
    r.set(col::SID, Value::U32(0));
    r.set(col::LBTOT, u64v(&c.lbtot));
    r.set(col::TYPE, Value::U32(1));
    if opts.legends {
        if let Some(ck) = &meta.cookie {
            r.set(col::COOKIE, str(ck));
        }
        r.set(col::ALGO, str(meta.algo));
    }
    if meta.mode == Mode::Http {
        http_counts(&mut r, c);
        r.set(col::CACHE_LOOKUPS, Value::U64(0));
        r.set(col::CACHE_HITS, Value::U64(0));
    }
    r.set(col::CLI_ABRT, u64v(&c.cli_abrt));
    r.set(col::SRV_ABRT, u64v(&c.srv_abrt));
    r.zero(col::COMP_IN..=col::COMP_RSP);
    r.set(col::LASTSESS, Value::S32(c.lastsess() as i32));
    r.set(col::AGG_SERVER_STATUS, Value::U32(0));
    r.set(col::AGG_SERVER_CHECK_STATUS, Value::U32(0));
    r.set(col::AGG_CHECK_STATUS, Value::U32(0));
    r
}

/// `show stat [{<iid>|<proxy>} <type> <sid>]`'s filter: the lines of proxy `proxy`
/// (its name or numeric id; `None` or `-1`: all), of the kinds in `types` (HAProxy's
/// mask: 1 frontends, 2 backends, 4 servers; -1 all) and, for servers, with id `sid`
/// (-1: all).
pub fn select(rows: Vec<Row>, proxy: Option<&str>, types: i32, sid: i32) -> Vec<Row> {
    let want_proxy = |r: &Row| match proxy {
        None | Some("-1") => true,
        Some(p) => match p.parse::<u32>() {
            Ok(id) => r.proxy_id == id,
            Err(_) => r.pxname() == p,
        },
    };
    let bit = |o: ObjType| match o {
        ObjType::Frontend => 1,
        ObjType::Backend => 2,
        ObjType::Server => 4,
    };
    rows.into_iter()
        .filter(|r| want_proxy(r))
        .filter(|r| types == -1 || types & bit(r.obj) != 0)
        .filter(|r| sid == -1 || r.obj != ObjType::Server || r.id == sid as u32)
        .collect()
}
