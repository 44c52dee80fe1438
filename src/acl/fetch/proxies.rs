//! Live-state fetches (configuration.txt 7.3.2): the names of the stream's proxies
//! (`fe_name`, `be_name`) and how any frontend, backend or server is doing (`nbsrv`,
//! `be_conn`, `be_conn_free`, `be_sess_rate`, `connslots`, `queue`, `avg_queue`,
//! `fe_conn`, `fe_req_rate`, `fe_sess_rate`, `srv_conn`, `srv_conn_free`, `srv_is_up`,
//! `srv_queue`, `srv_sess_rate`, `srv_weight`, `srv_uweight`, `srv_iweight`), read
//! through [`crate::acl::LiveState`]. A proxy argument left out means the stream's own
//! frontend or backend; the names are checked when the configuration loads
//! ([`crate::acl::check_references`]).

use super::row::*;
use super::{Each, FetchCall, FetchDef, Sample};
use crate::acl::{ProxyStat, SampleSource, ServerStat};

const S1: &[super::ArgType] = &[S];

/// What a fetch's first argument names, for the load-time check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProxyArg {
    /// A backend (the rule's own proxy, which must be one, when left out).
    Backend,
    /// A frontend (the rule's own proxy, which must be one, when left out).
    Frontend,
    /// `[<backend>/]<server>`.
    Server,
}

/// The fetches of this family.
pub(super) static FETCHES: &[FetchDef] = &[
    FetchDef::new("fe_name", SmpType::Str, C, fe_name),
    FetchDef::new("be_name", SmpType::Str, T, be_name).backend(),
    FetchDef::new("nbsrv", SmpType::Int, C, nbsrv).args(S1, 0),
    FetchDef::new("be_conn", SmpType::Int, C, be_conn).args(S1, 0),
    FetchDef::new("be_conn_free", SmpType::Int, C, be_conn_free).args(S1, 0),
    FetchDef::new("be_sess_rate", SmpType::Int, C, be_sess_rate).args(S1, 0),
    FetchDef::new("connslots", SmpType::Int, C, connslots).args(S1, 0),
    FetchDef::new("queue", SmpType::Int, C, queue).args(S1, 0),
    FetchDef::new("avg_queue", SmpType::Int, C, avg_queue).args(S1, 0),
    FetchDef::new("fe_conn", SmpType::Int, C, fe_conn).args(S1, 0),
    FetchDef::new("fe_req_rate", SmpType::Int, C, fe_req_rate).args(S1, 0),
    FetchDef::new("fe_sess_rate", SmpType::Int, C, fe_sess_rate).args(S1, 0),
    FetchDef::new("srv_is_up", SmpType::Bool, C, srv_is_up).args(S1, 1),
    FetchDef::new("srv_conn", SmpType::Int, C, srv_conn).args(S1, 1),
    FetchDef::new("srv_conn_free", SmpType::Int, C, srv_conn_free).args(S1, 1),
    FetchDef::new("srv_queue", SmpType::Int, C, srv_queue).args(S1, 1),
    FetchDef::new("srv_sess_rate", SmpType::Int, C, srv_sess_rate).args(S1, 1),
    FetchDef::new("srv_weight", SmpType::Int, C, srv_weight).args(S1, 1),
    FetchDef::new("srv_uweight", SmpType::Int, C, srv_uweight).args(S1, 1),
    FetchDef::new("srv_iweight", SmpType::Int, C, srv_iweight).args(S1, 1),
];

/// What the first argument of fetch `name` refers to, if it names a proxy or server.
pub(crate) fn proxy_arg(name: &str) -> Option<ProxyArg> {
    match name {
        "fe_conn" | "fe_req_rate" | "fe_sess_rate" => Some(ProxyArg::Frontend),
        "srv_is_up" | "srv_conn" | "srv_conn_free" | "srv_queue" | "srv_sess_rate"
        | "srv_weight" | "srv_uweight" | "srv_iweight" => Some(ProxyArg::Server),
        "nbsrv" | "be_conn" | "be_conn_free" | "be_sess_rate" | "connslots" | "queue"
        | "avg_queue" => Some(ProxyArg::Backend),
        _ => None,
    }
}

fn fe_name(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.live()
        .and_then(|l| l.frontend_name())
        .is_some_and(|n| each(Sample::Str(n.as_bytes())))
}

fn be_name(_: &FetchCall, s: &dyn SampleSource, each: &mut Each<'_>) -> bool {
    s.live()
        .and_then(|l| l.backend_name())
        .is_some_and(|n| each(Sample::Str(n.as_bytes())))
}

/// Gives `stat` of the proxy the call names as an integer.
fn proxy(call: &FetchCall, s: &dyn SampleSource, stat: ProxyStat, each: &mut Each<'_>) -> bool {
    s.live()
        .and_then(|l| l.proxy_stat(&call.name, stat))
        .is_some_and(|n| each(Sample::Int(n)))
}

/// The server a call names: `backend/server`, or `server` of the stream's backend.
fn server_value(call: &FetchCall, s: &dyn SampleSource, stat: ServerStat) -> Option<i64> {
    let (be, srv) = call.name.rsplit_once('/').unwrap_or(("", &call.name));
    s.live()?.server_stat(be, srv, stat)
}

fn server(call: &FetchCall, s: &dyn SampleSource, stat: ServerStat, each: &mut Each<'_>) -> bool {
    server_value(call, s, stat).is_some_and(|n| each(Sample::Int(n)))
}

fn nbsrv(c: &FetchCall, s: &dyn SampleSource, e: &mut Each<'_>) -> bool {
    proxy(c, s, ProxyStat::Nbsrv, e)
}
fn be_conn(c: &FetchCall, s: &dyn SampleSource, e: &mut Each<'_>) -> bool {
    proxy(c, s, ProxyStat::BeConn, e)
}
fn be_conn_free(c: &FetchCall, s: &dyn SampleSource, e: &mut Each<'_>) -> bool {
    proxy(c, s, ProxyStat::BeConnFree, e)
}
fn be_sess_rate(c: &FetchCall, s: &dyn SampleSource, e: &mut Each<'_>) -> bool {
    proxy(c, s, ProxyStat::BeSessRate, e)
}
fn connslots(c: &FetchCall, s: &dyn SampleSource, e: &mut Each<'_>) -> bool {
    proxy(c, s, ProxyStat::ConnSlots, e)
}
fn queue(c: &FetchCall, s: &dyn SampleSource, e: &mut Each<'_>) -> bool {
    proxy(c, s, ProxyStat::Queue, e)
}
fn fe_conn(c: &FetchCall, s: &dyn SampleSource, e: &mut Each<'_>) -> bool {
    proxy(c, s, ProxyStat::FeConn, e)
}
fn fe_req_rate(c: &FetchCall, s: &dyn SampleSource, e: &mut Each<'_>) -> bool {
    proxy(c, s, ProxyStat::FeReqRate, e)
}
fn fe_sess_rate(c: &FetchCall, s: &dyn SampleSource, e: &mut Each<'_>) -> bool {
    proxy(c, s, ProxyStat::FeSessRate, e)
}

/// `avg_queue`: the queue shared among the usable servers, rounded up; twice the queue
/// when no server is usable (as if half a server were).
fn avg_queue(c: &FetchCall, s: &dyn SampleSource, e: &mut Each<'_>) -> bool {
    let Some(l) = s.live() else { return false };
    let (Some(q), Some(n)) = (
        l.proxy_stat(&c.name, ProxyStat::Queue),
        l.proxy_stat(&c.name, ProxyStat::Nbsrv),
    ) else {
        return false;
    };
    e(Sample::Int(if n > 0 { (q + n - 1) / n } else { q * 2 }))
}

fn srv_is_up(c: &FetchCall, s: &dyn SampleSource, e: &mut Each<'_>) -> bool {
    server_value(c, s, ServerStat::IsUp).is_some_and(|n| e(Sample::Bool(n != 0)))
}
fn srv_conn(c: &FetchCall, s: &dyn SampleSource, e: &mut Each<'_>) -> bool {
    server(c, s, ServerStat::Conn, e)
}
fn srv_conn_free(c: &FetchCall, s: &dyn SampleSource, e: &mut Each<'_>) -> bool {
    server(c, s, ServerStat::ConnFree, e)
}
fn srv_queue(c: &FetchCall, s: &dyn SampleSource, e: &mut Each<'_>) -> bool {
    server(c, s, ServerStat::Queue, e)
}
fn srv_sess_rate(c: &FetchCall, s: &dyn SampleSource, e: &mut Each<'_>) -> bool {
    server(c, s, ServerStat::SessRate, e)
}
fn srv_weight(c: &FetchCall, s: &dyn SampleSource, e: &mut Each<'_>) -> bool {
    server(c, s, ServerStat::Weight, e)
}
fn srv_uweight(c: &FetchCall, s: &dyn SampleSource, e: &mut Each<'_>) -> bool {
    server(c, s, ServerStat::UWeight, e)
}
fn srv_iweight(c: &FetchCall, s: &dyn SampleSource, e: &mut Each<'_>) -> bool {
    server(c, s, ServerStat::IWeight, e)
}
