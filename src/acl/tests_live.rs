//! Table-driven tests of the live-state fetches (`nbsrv`, `be_conn`, `srv_is_up`,
//! `be_name`, …) over a [`LiveState`] whose numbers the table sets.

use super::tests::{cond, req};
use super::{LiveState, ProxyStat, ServerStat, WithLive};

/// Frontend `fe` routed to backend `app` (servers `s1` up, `s2` down), and a backend
/// `empty` whose servers are all down.
struct Fake;

impl LiveState for Fake {
    fn frontend_name(&self) -> Option<&str> {
        Some("fe")
    }
    fn backend_name(&self) -> Option<&str> {
        Some("app")
    }
    fn proxy_stat(&self, proxy: &str, stat: ProxyStat) -> Option<i64> {
        let proxy = if proxy.is_empty() {
            match stat {
                ProxyStat::FeConn | ProxyStat::FeReqRate | ProxyStat::FeSessRate => "fe",
                _ => "app",
            }
        } else {
            proxy
        };
        Some(match (proxy, stat) {
            ("app", ProxyStat::Nbsrv) => 1,
            ("app", ProxyStat::Queue) => 5,
            ("app", ProxyStat::BeConn) => 7,
            ("app", ProxyStat::ConnSlots) => -1,
            ("app", ProxyStat::BeSessRate) => 3,
            ("empty", ProxyStat::Nbsrv) => 0,
            ("empty", ProxyStat::Queue) => 4,
            ("fe", ProxyStat::FeConn) => 12,
            ("fe", ProxyStat::FeReqRate) => 30,
            ("fe", ProxyStat::FeSessRate) => 2,
            _ => return None,
        })
    }
    fn server_stat(&self, backend: &str, server: &str, stat: ServerStat) -> Option<i64> {
        let backend = if backend.is_empty() { "app" } else { backend };
        Some(match (backend, server, stat) {
            ("app", "s1", ServerStat::IsUp) => 1,
            ("app", "s2", ServerStat::IsUp) => 0,
            ("app", "s1", ServerStat::Conn) => 4,
            ("app", "s1", ServerStat::ConnFree) => 6,
            ("app", "s1", ServerStat::Queue) => 2,
            ("app", "s1", ServerStat::Weight) => 50,
            ("app", "s1", ServerStat::IWeight) => 100,
            _ => return None,
        })
    }
}

#[test]
fn live_state_fetch_table() {
    let r = req("GET", "/", &[]);
    let src = WithLive {
        inner: &r,
        live: &Fake,
    };
    let cases: &[(&str, bool)] = &[
        ("nbsrv(app) lt 1", false),
        ("nbsrv(empty) lt 1", true),
        ("nbsrv eq 1", true),
        ("nbsrv(nope) -m found", false),
        ("be_conn(app) 7", true),
        ("be_conn gt 7", false),
        ("be_sess_rate(app) 3", true),
        ("connslots(app) lt 0", true),
        ("queue(app) 5", true),
        ("avg_queue(app) 5", true),
        ("avg_queue(empty) 8", true),
        ("fe_conn 12", true),
        ("fe_conn(fe) ge 13", false),
        ("fe_req_rate 30", true),
        ("fe_sess_rate(fe) 2", true),
        ("srv_is_up(app/s1)", true),
        ("srv_is_up(s1)", true),
        ("srv_is_up(app/s2)", false),
        ("srv_is_up(app/nope) -m found", false),
        ("srv_conn(app/s1) 4", true),
        ("srv_conn_free(s1) 6", true),
        ("srv_queue(app/s1) 2", true),
        ("srv_weight(app/s1) 50", true),
        ("srv_iweight(app/s1) 100", true),
        ("be_name app", true),
        ("be_name,upper APP", true),
        ("fe_name fe", true),
        ("fe_name -m beg f", true),
    ];
    for (crit, want) in cases {
        let c = cond(&[], &format!("if {{ {crit} }}")).unwrap_or_else(|e| panic!("{crit}: {e}"));
        assert_eq!(c.eval(&src), *want, "{crit}");
    }
    // Without live state (a path that does not carry it) the samples are absent.
    let c = cond(&[], "if { nbsrv(app) -m found }").unwrap();
    assert!(!c.eval(&r));
}

#[test]
fn live_state_fetches_in_sample_expressions() {
    let r = req("GET", "/", &[]);
    let src = WithLive {
        inner: &r,
        live: &Fake,
    };
    for (expr, want) in [
        ("be_name", "app"),
        ("fe_name", "fe"),
        ("nbsrv(app)", "1"),
        ("srv_is_up(app/s2)", "0"),
        ("avg_queue(empty)", "8"),
    ] {
        let e = super::SampleExpr::parse(expr).unwrap();
        let mut got = String::new();
        e.eval_str(&src, &mut |v| got = String::from_utf8_lossy(v).into_owned());
        assert_eq!(got, want, "{expr}");
    }
}
