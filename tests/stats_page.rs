//! The stats page (`stats uri`) as an operator uses it, run through HAProxy and
//! gatehouse with the same configuration: `stats auth` and `stats realm` ask for
//! credentials, `stats refresh` sends `Refresh`, `;csv`/`;json` export, `stats scope`
//! limits the proxies shown, and with `stats admin` the page's form (a POST of
//! `s=SERVER&action=…&b=#IID`) puts a server in maintenance and back, which traffic
//! and the CSV show; without `stats admin` the POST is denied.

mod support;

use base64::Engine;
use support::stats::{csv_field, csv_rows, stats_defaults};
use support::{Config, HttpBackend, Response, http_get_until_close, http_request, local};
use support::{proxy_builder, wait_until};

/// Runs `check` once against HAProxy, then against gatehouse, each started with `cfg`
/// on fresh ports: `check(who, cfg, daemon)`.
fn on_both(cfg: &Config, mut check: impl FnMut(&str, &Config, &support::Daemon)) {
    for haproxy in [true, false] {
        let who = if haproxy { "haproxy" } else { "gatehouse" };
        let cfg = cfg.with_fresh_ports();
        let daemon = proxy_builder(haproxy, &cfg)
            .wait_ports(&cfg.listen_ports())
            .start();
        check(who, &cfg, &daemon);
    }
}

const CFG: &str = concat!(
    stats_defaults!(),
    "\
frontend fe
    bind 127.0.0.1:{fe}
    default_backend app
backend app
    server node1 {node1}
    server node2 {node2}
listen ops
    bind 127.0.0.1:{ops}
    stats enable
    stats uri /admin/stats
    stats realm Ops\\ Stats
    stats auth admin:s3cret
    stats refresh 5s
    stats admin if TRUE
listen view
    bind 127.0.0.1:{view}
    stats uri /stats
    stats scope app
    stats scope .
"
);

fn basic(user: &str, pass: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    format!("Basic {b64}")
}

fn post(port: u16, path: &str, auth: &str, form: &str) -> Response {
    http_request(
        local(port),
        "POST",
        path,
        &[
            ("authorization", auth),
            ("content-type", "application/x-www-form-urlencoded"),
            ("connection", "close"),
        ],
        form.as_bytes(),
    )
    .expect("POST")
}

/// The `status` field of `px/sv` in a CSV export.
fn status(csv: &str, px: &str, sv: &str) -> String {
    csv_field(&csv_rows(csv), px, sv, "status")
}

fn scenario(haproxy: bool, cfg: &Config) {
    let who = if haproxy { "haproxy" } else { "gatehouse" };
    let cfg = cfg.with_fresh_ports();
    let _p = proxy_builder(haproxy, &cfg)
        .wait_ports(&cfg.listen_ports())
        .start();
    let (ops, view, fe) = (cfg.port("ops"), cfg.port("view"), cfg.port("fe"));
    let auth = basic("admin", "s3cret");

    // Credentials are required, in the configured realm.
    let r = http_get_until_close(local(ops), "/admin/stats", &[]).expect("GET");
    assert_eq!(r.status, 401, "{who}");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"Ops Stats\""),
        "{who}"
    );
    let wrong = basic("admin", "nope");
    let r = http_get_until_close(local(ops), "/admin/stats", &[("authorization", &wrong)])
        .expect("GET");
    assert_eq!(r.status, 401, "{who}");

    // The HTML page, refreshed every 5 s.
    let r =
        http_get_until_close(local(ops), "/admin/stats", &[("authorization", &auth)]).expect("GET");
    assert_eq!(r.status, 200, "{who}");
    assert_eq!(r.header("content-type"), Some("text/html"), "{who}");
    assert_eq!(r.header("refresh"), Some("5"), "{who}");
    let html = r.body_str();
    for name in ["fe", "app", "app/node1", "app/node2", "ops", "view"] {
        assert!(html.contains(&format!("<a name=\"{name}")), "{who}: {name}");
    }
    // With admin rights, the form for the backend's servers.
    assert!(html.contains("<form method=\"post\">"), "{who}");
    assert!(html.contains("name=\"s\" value=\"node1\""), "{who}");
    assert!(html.contains("<option value=\"maint\">"), "{who}");
    // `;norefresh` drops the header.
    let r = http_get_until_close(
        local(ops),
        "/admin/stats;norefresh",
        &[("authorization", &auth)],
    )
    .expect("GET");
    assert_eq!(r.header("refresh"), None, "{who}");

    // Maintenance from the page: the server takes no more traffic.
    let csv_of = |port: u16, path: &str| {
        http_get_until_close(local(port), path, &[("authorization", &auth)])
            .expect("CSV")
            .body_str()
    };
    let iid = csv_field(
        &csv_rows(&csv_of(ops, "/admin/stats;csv")),
        "app",
        "BACKEND",
        "iid",
    );
    let r = post(
        ops,
        "/admin/stats",
        &auth,
        &format!("s=node1&action=maint&b=%23{iid}"),
    );
    assert_eq!(r.status, 303, "{who}");
    assert_eq!(r.header("location"), Some("/admin/stats;st=DONE"), "{who}");
    assert_eq!(
        status(&csv_of(ops, "/admin/stats;csv"), "app", "node1"),
        "MAINT",
        "{who}"
    );
    for i in 0..6 {
        let r = http_get_until_close(local(fe), &format!("/{i}"), &[]).expect("GET");
        assert_eq!(r.body_str(), "node2", "{who}: node1 is in maintenance");
    }
    // `;no-maint` and `;up` hide it; `scope=` keeps the proxies whose name contains
    // the text, whatever its case.
    for opt in [";no-maint", ";up"] {
        let csv = csv_of(ops, &format!("/admin/stats;csv{opt}"));
        assert!(!csv.contains("\napp,node1,"), "{who}: {opt}");
        assert!(csv.contains("\napp,node2,"), "{who}: {opt}");
    }
    let csv = csv_of(ops, "/admin/stats;csv;scope=AP");
    let shown: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap_or(""))
        .collect();
    assert_eq!(shown, ["app", "app", "app"], "{who}: scope=");
    // The page tells what happened.
    let r = http_get_until_close(
        local(ops),
        "/admin/stats;st=DONE",
        &[("authorization", &auth)],
    )
    .expect("GET");
    assert!(
        r.body_str().contains("Action processed successfully."),
        "{who}"
    );
    // And back to ready.
    let r = post(
        ops,
        "/admin/stats",
        &auth,
        &format!("s=node1&action=ready&b=%23{iid}"),
    );
    assert_eq!(r.header("location"), Some("/admin/stats;st=DONE"), "{who}");
    assert_eq!(
        status(&csv_of(ops, "/admin/stats;csv"), "app", "node1"),
        "no check",
        "{who}"
    );
    assert!(
        wait_until(support::DEFAULT_TIMEOUT, || {
            http_get_until_close(local(fe), "/", &[]).is_ok_and(|r| r.body_str() == "node1")
        }),
        "{who}: node1 takes traffic again"
    );

    // A page without `stats admin`: the POST is denied, nothing changes; `stats scope`
    // shows only `app` and the page's own proxy.
    let r = post(view, "/stats", "", "s=node2&action=maint&b=app");
    assert_eq!(r.status, 303, "{who}");
    assert_eq!(r.header("location"), Some("/stats;st=DENY"), "{who}");
    let csv = csv_of(view, "/stats;csv");
    assert_eq!(status(&csv, "app", "node2"), "no check", "{who}");
    let shown: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap_or(""))
        .collect();
    assert_eq!(shown, ["app", "app", "app", "view", "view"], "{who}");

    // The JSON export: one array of fields per line.
    let r = http_get_until_close(local(view), "/stats;json", &[]).expect("GET");
    assert_eq!(r.header("content-type"), Some("application/json"), "{who}");
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("JSON");
    let lines = v.as_array().expect("array");
    assert_eq!(lines.len(), 5, "{who}");
    let first = &lines[0][0];
    assert_eq!(first["objType"], "Server", "{who}");
    assert_eq!(first["field"]["name"], "pxname", "{who}");
    assert_eq!(first["value"]["value"], "app", "{who}");
    assert_eq!(first["tags"]["origin"], "Key", "{who}");
}

#[test]
fn stats_page_auth_refresh_scope_exports_and_admin_actions_as_haproxy() {
    support::require_haproxy();
    let n1 = HttpBackend::start("node1");
    let n2 = HttpBackend::start("node2");
    let cfg = Config::new(CFG)
        .listen_port("fe")
        .listen_port("ops")
        .listen_port("view")
        .var("node1", n1.addr())
        .var("node2", n2.addr());
    scenario(true, &cfg);
    scenario(false, &cfg);
}

const LEGENDS: &str = "\
global
    node gnode
    description global desc
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen stats
    bind 127.0.0.1:{st}
    description the proxy desc
    stats enable
    stats uri /s
    stats show-node
    stats show-desc
    stats hide-version
    stats show-legends
    server a {node}
";

#[test]
fn stats_page_shows_node_descriptions_and_legends_and_hides_the_version_as_haproxy() {
    support::require_haproxy();
    let node = HttpBackend::start("a");
    let cfg = Config::new(LEGENDS)
        .listen_port("st")
        .var("node", node.addr());
    on_both(&cfg, |who, cfg, _p| {
        let st = cfg.port("st");
        let html = http_get_until_close(local(st), "/s", &[])
            .expect("GET")
            .body_str();
        assert!(
            html.contains(" on gnode</title>"),
            "{who}: node in the title"
        );
        assert!(
            html.contains(" on gnode: global desc</h2>"),
            "{who}: node and description"
        );
        assert!(
            html.contains("<th class=\"desc\" width=\"90%\">the proxy desc</th>"),
            "{who}: the proxy's description"
        );
        let h1 = html
            .lines()
            .find(|l| l.starts_with("<h1>") || l.contains("<h1>"))
            .unwrap_or("");
        assert!(!h1.contains("version"), "{who}: hide-version: {h1}");
        let csv = http_get_until_close(local(st), "/s;csv", &[])
            .expect("CSV")
            .body_str();
        let t = csv_rows(&csv);
        assert_eq!(
            csv_field(&t, "stats", "a", "addr"),
            node.addr().to_string(),
            "{who}"
        );
        assert_eq!(
            csv_field(&t, "stats", "BACKEND", "algo"),
            "roundrobin",
            "{who}"
        );
    });
}

const BACKEND_PAGE: &str = concat!(
    stats_defaults!(),
    "\
frontend fe
    bind 127.0.0.1:{fe}
    use_backend monitoring if { path_beg /be-stats }
    default_backend app
backend app
    server a {node}
backend monitoring
    stats enable
    stats uri /be-stats
    http-request deny if { path_beg /be-stats/private }
"
);

#[test]
fn a_backends_stats_page_answers_what_is_routed_to_it_after_its_rules_as_haproxy() {
    support::require_haproxy();
    let node = HttpBackend::start("a");
    let cfg = Config::new(BACKEND_PAGE)
        .listen_port("fe")
        .var("node", node.addr());
    on_both(&cfg, |who, cfg, _p| {
        let fe = local(cfg.port("fe"));
        let r = http_get_until_close(fe, "/be-stats;csv", &[]).expect("GET");
        assert_eq!(r.status, 200, "{who}");
        assert!(r.body_str().starts_with("# pxname,svname,"), "{who}");
        assert!(r.body_str().contains("\nmonitoring,BACKEND,"), "{who}");
        // The backend's own rules run first.
        let r = http_get_until_close(fe, "/be-stats/private", &[]).expect("GET");
        assert_eq!(r.status, 403, "{who}");
        // Other requests are not the page's; a method other than GET/HEAD/POST is not.
        let r = http_get_until_close(fe, "/", &[]).expect("GET");
        assert_eq!(r.body_str(), "a", "{who}");
        let r =
            http_request(fe, "HEAD", "/be-stats", &[("connection", "close")], b"").expect("HEAD");
        assert_eq!(r.status, 200, "{who}");
        assert!(r.body.is_empty(), "{who}: HEAD");
        // The backend has no server: a PUT there is not the page's and gets a 503.
        let r =
            http_request(fe, "PUT", "/be-stats", &[("connection", "close")], b"x").expect("PUT");
        assert_eq!(r.status, 503, "{who}");
    });
}

const DEFAULTS_PAGE: &str = concat!(
    stats_defaults!(),
    "\
    stats enable
frontend fe
    bind 127.0.0.1:{fe}
    default_backend app
backend app
    server a {node}
"
);

#[test]
fn stats_enable_in_defaults_serves_the_default_uri_everywhere_as_haproxy() {
    support::require_haproxy();
    let node = HttpBackend::start("a");
    let cfg = Config::new(DEFAULTS_PAGE)
        .listen_port("fe")
        .var("node", node.addr());
    on_both(&cfg, |who, cfg, _p| {
        let fe = local(cfg.port("fe"));
        let r = http_get_until_close(fe, "/haproxy?stats;csv", &[]).expect("GET");
        assert_eq!(r.status, 200, "{who}");
        assert!(r.body_str().contains("\nfe,FRONTEND,"), "{who}");
        // Also in absolute form; other paths go to the server.
        let r = http_get_until_close(fe, "http://x/haproxy?stats", &[]).expect("GET");
        assert_eq!(r.header("content-type"), Some("text/html"), "{who}");
        let r = http_get_until_close(fe, "/haproxy", &[]).expect("GET");
        assert_eq!(r.body_str(), "a", "{who}");
    });
}

const LOGGED: &str = "\
global
    log stdout format raw local0
defaults
    mode http
    log global
    log-format \"%b/%s %Tw/%Tc/%Tr %ST %tsc\"
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen stats
    bind 127.0.0.1:{st}
    stats enable
    stats uri /s
    http-request use-service prometheus-exporter if { path /metrics }
";

#[test]
fn the_page_and_the_exporter_are_logged_as_haproxy_logs_its_applets() {
    support::require_haproxy();
    let cfg = Config::new(LOGGED).listen_port("st");
    on_both(&cfg, |who, cfg, p| {
        let st = local(cfg.port("st"));
        for path in ["/s", "/metrics"] {
            let r = http_get_until_close(st, path, &[]).expect("GET");
            assert_eq!(r.status, 200, "{who}");
        }
        // A line is written when the stream is released, which may come after the
        // client has seen the close: HAProxy's two lines can arrive in either order.
        let mut lines = p.wait_stdout_lines(" 200 ", 2, support::DEFAULT_TIMEOUT);
        lines.sort();
        assert_eq!(
            lines,
            [
                "stats/<PROMEX> 0/0/0 200 LR--",
                "stats/<STATS> 0/0/0 200 LR--"
            ],
            "{who}"
        );
    });
}
