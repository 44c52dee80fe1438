//! What the live-state fetches (configuration.txt 7.3.2: `nbsrv`, `be_conn`, `fe_conn`,
//! `queue`, `srv_is_up`, `be_name`, `fe_name`, …) read: the proxies a stream goes
//! through and the live state of any frontend, backend or server by name. The ACL engine
//! sits below the runtime, so it sees that state only through [`LiveState`], which the
//! runtime implements over its snapshot and live-state store.

use super::SampleSource;
pub use crate::config::model::StickData;
use std::net::IpAddr;

/// A stick-table key as a sample gives it, before the table encodes it.
#[derive(Clone, Copy, Debug)]
pub enum StickKey<'a> {
    /// An integer.
    Int(i64),
    /// An address.
    Ip(IpAddr),
    /// A string or binary block.
    Str(&'a [u8]),
}

/// The entry a stick-table fetch or action reads (configuration.txt 7.3.3).
#[derive(Clone, Copy, Debug)]
pub enum StickAt<'a> {
    /// The entry tracked by counter `n` (the stream's, else the session's); with a
    /// table name, the same key looked up in that table (`sc_*(n,table)`).
    Slot(usize, Option<&'a str>),
    /// The client's source address in a table (empty: the stream's proxy's own), as
    /// the `src_*` fetches read it.
    Src(&'a str, IpAddr),
    /// A key in a table (`table_*` converters).
    Key(&'a str, StickKey<'a>),
}

/// What to do with the entry.
#[derive(Clone, Copy, Debug)]
pub enum StickOp {
    /// The value of a data type (element `idx` of arrays); rates read now.
    Get(StickData, u32),
    /// Increment `gpc0` (0), `gpc1` (1) or `gpc(idx - 2)` and its rate; gives the new
    /// value (`sc_inc_gpc0`, `sc-inc-gpc0`); creates a `src_*` entry.
    Inc(u32),
    /// Reset that counter; gives the value before (`sc_clr_gpc0`).
    Clr(u32),
    /// Set `gpt0` (`sc-set-gpt0`).
    SetGpt0(i64),
    /// Set `gpt[I]` (`sc-set-gpt(I,N)`).
    SetGpt(u32, i64),
    /// The streams tracking the entry now (`sc_trackers`).
    Trackers,
    /// Whether the counter tracks an entry (`sc_tracked`): 1 or 0.
    Tracked,
}

/// A number about a frontend or a backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyStat {
    /// `nbsrv`: usable servers (the active ones, else the backups the balancer would use).
    Nbsrv,
    /// `be_conn`: connections currently assigned to the backend.
    BeConn,
    /// `be_conn_free`: free connection slots of the usable servers (-1: one is unlimited).
    BeConnFree,
    /// `be_sess_rate`: sessions per second on the backend.
    BeSessRate,
    /// `connslots`: free connection and queue slots of the servers not down (-1: one has
    /// no `maxconn` or no `maxqueue`).
    ConnSlots,
    /// `queue`: requests queued in the backend and its servers.
    Queue,
    /// `fe_conn`: connections currently on the frontend.
    FeConn,
    /// `fe_req_rate`: HTTP requests per second on the frontend.
    FeReqRate,
    /// `fe_sess_rate`: sessions per second on the frontend.
    FeSessRate,
}

/// A number about one server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerStat {
    /// `srv_is_up`: 1 when up and not in maintenance, else 0.
    IsUp,
    /// `srv_conn`: connections established or being established.
    Conn,
    /// `srv_conn_free`: free connection slots (-1 without `maxconn`).
    ConnFree,
    /// `srv_queue`: requests in the server's own queue.
    Queue,
    /// `srv_sess_rate`: sessions per second.
    SessRate,
    /// `srv_weight`: the effective weight.
    Weight,
    /// `srv_uweight`: the user weight (configured or set at runtime).
    UWeight,
    /// `srv_iweight`: the initial (configured) weight.
    IWeight,
}

/// The proxies of one stream and the live state of every proxy, as fetches read them.
pub trait LiveState {
    /// The frontend the stream came through (`fe_name`).
    fn frontend_name(&self) -> Option<&str>;
    /// The stream's backend (`be_name`): the frontend itself until a backend is chosen.
    fn backend_name(&self) -> Option<&str>;
    /// `stat` of the frontend or backend `proxy` (empty: the stream's frontend for
    /// frontend numbers, its backend for backend ones); `None` when there is no such
    /// proxy.
    fn proxy_stat(&self, proxy: &str, stat: ProxyStat) -> Option<i64>;
    /// `stat` of server `server` of backend `backend` (empty: the stream's backend);
    /// `None` when there is no such server.
    fn server_stat(&self, backend: &str, server: &str, stat: ServerStat) -> Option<i64>;
    /// A stick-table read or change (`sc_*`, `src_*`, `table_*`, `sc-inc-gpc0`, …);
    /// `None`: no sample (nothing tracked, no such table, data not stored).
    fn stick(&self, at: StickAt<'_>, op: StickOp) -> Option<i64> {
        let _ = (at, op);
        None
    }
    /// `sc_*` reading `data` (element `idx`) in the entry counter `n` tracks, without a
    /// table argument (`sc_http_req_rate(0)`: the common rate-limit check), without
    /// [`LiveState::stick`]'s general dispatch; the same answer.
    fn stick_read(&self, n: usize, data: StickData, idx: u32) -> Option<i64> {
        self.stick(StickAt::Slot(n, None), StickOp::Get(data, idx))
    }
    /// `track-scN KEY table T`: tracks the key's entry in counter `slot` (created when
    /// new) unless the counter tracks one already; `http`: counts a request in it too
    /// (`http-request track-sc*`).
    fn stick_track(&self, slot: usize, table: &str, key: StickKey<'_>, http: bool) {
        let _ = (slot, table, key, http);
    }
    /// `table_cnt` (`avl` false) or `table_avl` of a table (empty: the stream's proxy's).
    fn table_stat(&self, table: &str, avl: bool) -> Option<i64> {
        let _ = (table, avl);
        None
    }
}

/// A sample source with the live state added: forwards everything to `inner`, and
/// answers [`SampleSource::live`] with `live` (for the paths whose source does not carry
/// it, as `mode tcp` connections).
pub struct WithLive<'a> {
    /// The message and connection.
    pub inner: &'a dyn SampleSource,
    /// The live state.
    pub live: &'a dyn LiveState,
}

impl SampleSource for WithLive<'_> {
    crate::acl::forward_sample_source!(request_side);
    crate::acl::forward_sample_source!(
        status,
        res_headers,
        req_payload,
        req_body,
        res_body,
        res_payload,
        payload_final,
        tls,
        proxy_tlvs,
        identity,
        set_identity,
        opened_session,
        decided,
        pgsql_param,
        pgsql_credentials,
    );
    fn live(&self) -> Option<&dyn LiveState> {
        Some(self.live)
    }
}
