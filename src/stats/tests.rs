//! The writers on a compiled configuration: CSV header pinned to HAProxy 2.6.12's, line
//! order and ids, server status texts, JSON/typed/`show info` shapes, exporter families.

use super::*;
use crate::config::semantics::SyntaxOnly;
use crate::runtime::live::Store;
use crate::runtime::snapshot::{self, Snapshot};

/// HAProxy 2.6.12's `show stat` header (Debian 12's haproxy 2.6.12-1+deb12u3).
const HAPROXY_HEADER: &str = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,\n";

fn snapshot(text: &str) -> Snapshot {
    let loaded = crate::config::load_str("t.cfg", text, &SyntaxOnly);
    assert!(!loaded.has_errors(), "{:?}", loaded.diags);
    let store = Store::new();
    let snap = snapshot::build(&loaded.config, &store)
        .unwrap_or_else(|d| panic!("{:?}", d.iter().map(|d| &d.message).collect::<Vec<_>>()));
    snap.install();
    snap
}

const CFG: &str = "\
defaults
    mode http
frontend fe
    bind 127.0.0.1:0
    default_backend app
backend app
    balance leastconn
    server a 127.0.0.1:1
    server b 127.0.0.1:2 disabled
    server c 127.0.0.1:3 backup weight 7
listen tcpx
    mode tcp
    bind 127.0.0.1:0
    server t 127.0.0.1:4
";

#[test]
fn the_csv_header_is_haproxys() {
    let mut out = String::new();
    csv::write_header(&mut out);
    assert_eq!(out, HAPROXY_HEADER);
}

#[test]
fn lines_come_in_haproxys_order_with_its_ids_and_statuses() {
    let snap = snapshot(CFG);
    let rows = rows(&snap, &Options::default());
    let names: Vec<String> = rows
        .iter()
        .map(|r| format!("{}/{}/{}/{}", r.pxname(), r.svname(), r.proxy_id, r.id))
        .collect();
    assert_eq!(
        names,
        [
            "fe/FRONTEND/1/0",
            "app/a/2/1",
            "app/b/2/2",
            "app/c/2/3",
            "app/BACKEND/2/0",
            "tcpx/FRONTEND/3/0",
            "tcpx/t/3/1",
            "tcpx/BACKEND/3/0"
        ]
    );
    let status = |i: usize| rows[i].get(fields::col::STATUS).clone();
    use model::Value::Str;
    assert_eq!(status(0), Str("OPEN".into()));
    assert_eq!(status(1), Str("no check".into()));
    assert_eq!(status(2), Str("MAINT".into()));
    assert_eq!(status(4), Str("UP".into()));
    assert_eq!(rows[3].get(fields::col::WEIGHT), &model::Value::U32(7));
    assert_eq!(rows[3].get(fields::col::BCK), &model::Value::U32(1));
    // Without legends, no addresses nor algorithms; with them, both.
    assert_eq!(rows[1].get(fields::col::ADDR), &model::Value::Empty);
    let legends = super::rows(
        &snap,
        &Options {
            legends: true,
            scope: vec!["app".into()],
        },
    );
    assert_eq!(legends.len(), 4);
    assert_eq!(
        legends[0].get(fields::col::ADDR),
        &Str("127.0.0.1:1".into())
    );
    assert_eq!(legends[3].get(fields::col::ALGO), &Str("leastconn".into()));
    // HTTP-only fields stay empty in `mode tcp`.
    assert_eq!(rows[6].get(fields::col::HRSP_2XX), &model::Value::Empty);
    // Every CSV line has every column.
    let csv = show_stat(&snap, &Options::default());
    let n = HAPROXY_HEADER.matches(',').count();
    assert!(csv.lines().all(|l| l.matches(',').count() == n), "{csv}");
}

#[test]
fn show_stat_filters_by_proxy_type_and_server_id() {
    let snap = snapshot(CFG);
    let all = || rows(&snap, &Options::default());
    let names = |rs: Vec<Row>| {
        rs.iter()
            .map(|r| format!("{}/{}", r.pxname(), r.svname()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(select(all(), Some("app"), 4, -1)),
        ["app/a", "app/b", "app/c"]
    );
    assert_eq!(names(select(all(), Some("2"), 4, 2)), ["app/b"]);
    assert_eq!(
        names(select(all(), None, 1, -1)),
        ["fe/FRONTEND", "tcpx/FRONTEND"]
    );
    assert_eq!(select(all(), Some("-1"), -1, -1).len(), 8);
}

#[test]
fn a_stats_socket_takes_the_first_proxy_id() {
    let snap = snapshot(&format!(
        "global\n    stats socket /tmp/gh-unused.sock\n{CFG}"
    ));
    let rows = rows(&snap, &Options::default());
    assert_eq!(rows[0].proxy_id, 2);
}

#[test]
fn json_typed_and_info_have_haproxys_shapes() {
    let snap = snapshot(CFG);
    let rows = rows(&snap, &Options::default());
    let mut out = String::new();
    write_json(&mut out, &rows);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v.as_array().map(Vec::len), Some(rows.len()));
    let f = &v[1][0];
    assert_eq!(f["objType"], "Server");
    assert_eq!(f["proxyId"], 2);
    assert_eq!(f["id"], 1);
    assert_eq!(f["field"]["name"], "pxname");
    assert_eq!(
        f["value"],
        serde_json::json!({"type": "str", "value": "app"})
    );
    // Module fields are numbered after HAProxy's own, without the separator.
    let ssl = v[0]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["field"]["name"] == "ssl_sess"))
        .expect("ssl_sess");
    assert_eq!(ssl["field"]["pos"], 103);

    let mut typed = String::new();
    write_typed(&mut typed, &rows);
    assert!(
        typed.starts_with("F.1.0.0.pxname.1:KNS:str:fe\n"),
        "{typed}"
    );
    assert!(
        typed.contains("\nS.2.2.17.status.1:SGP:str:MAINT\n"),
        "{typed}"
    );

    let mut info = String::new();
    write_info(&mut info, &snap);
    assert!(
        info.starts_with("Name: gatehouse\nVersion: 2.6.12-gatehouse-"),
        "{info}"
    );
    assert!(info.contains("\nUptime_sec: "));
    let mut ij = String::new();
    write_info_json(&mut ij, &snap);
    let ij: serde_json::Value = serde_json::from_str(&ij).expect("JSON");
    assert_eq!(
        ij[0]["field"],
        serde_json::json!({"pos": 0, "name": "Name"})
    );
    assert_eq!(ij[0]["tags"]["origin"], "Product");
}

#[test]
fn the_exporter_writes_each_family_once_with_haproxys_labels() {
    let snap = snapshot(CFG);
    let text = metrics(&snap);
    let mut seen = std::collections::HashSet::new();
    for l in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        assert!(seen.insert(l.to_owned()), "twice: {l}");
    }
    for line in [
        "haproxy_server_status{proxy=\"app\",server=\"b\",state=\"MAINT\"} 1",
        "haproxy_server_status{proxy=\"app\",server=\"a\",state=\"UP\"} 1",
        "haproxy_backend_status{proxy=\"app\",state=\"UP\"} 1",
        "haproxy_frontend_status{proxy=\"fe\",state=\"UP\"} 1",
        "haproxy_backend_http_responses_total{proxy=\"app\",code=\"5xx\"} 0",
        "haproxy_process_nbproc 1",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line}");
    }
    // HTTP-only families leave the `mode tcp` proxy out; the others include it.
    assert!(!text.contains("haproxy_backend_http_requests_total{proxy=\"tcpx\"}"));
    assert!(text.contains("haproxy_backend_sessions_total{proxy=\"tcpx\"}"));
    // No check configured: no check families for the servers.
    assert!(!text.contains("haproxy_server_check_status{"));
}

#[test]
fn exporter_query_parameters_read_as_haproxys() {
    use prom::Query;
    let all = Query::default();
    assert_eq!(Query::parse(b"/metrics"), Some(all));
    assert_eq!(
        Query::parse(b"/metrics?no-maint"),
        Some(Query {
            no_maint: true,
            ..all
        })
    );
    let q = Query::parse(b"/metrics?scope=backend&scope=server").expect("valid");
    assert!(q.backend && q.server && !q.frontend && !q.process);
    let q = Query::parse(b"/metrics?scope=*&scope=").expect("valid");
    assert!(!q.backend && !q.server && !q.frontend && !q.process);
    assert_eq!(Query::parse(b"/metrics?scope=nope"), None);
    assert_eq!(Query::parse(b"/metrics?scope"), None);
}

#[test]
fn server_status_shows_the_health_counter_as_haproxy() {
    use std::sync::atomic::Ordering;
    let snap = snapshot(
        "defaults\n    mode http\nbackend app\n    server a 127.0.0.1:1 check rise 2 fall 3\n",
    );
    let s = &snap.backends[0].servers[0];
    let status = |health: u32, up: bool| {
        s.live.health.update(|h| {
            h.enabled = true;
            h.health = health;
        });
        s.live.up.store(up, Ordering::Relaxed);
        let rows = rows(&snap, &Options::default());
        match rows[0].get(fields::col::STATUS) {
            model::Value::Str(t) => t.clone(),
            v => panic!("{v:?}"),
        }
    };
    // HAProxy: UP at rise + fall - 1, "UP n/fall" while going down, "DOWN n/rise" while
    // going up, DOWN at 0.
    assert_eq!(status(4, true), "UP");
    assert_eq!(status(3, true), "UP 2/3");
    assert_eq!(status(2, true), "UP 1/3");
    assert_eq!(status(1, false), "DOWN 1/2");
    assert_eq!(status(0, false), "DOWN");
}
