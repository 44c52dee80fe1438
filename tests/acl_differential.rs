//! The ACL engine end to end, differentially: the same "one front door, many apps"
//! configuration runs in the gatehouse binary and in Debian's haproxy 2.6.12; requests
//! routed by host, path, headers, cookies, query parameters, converters and map files
//! must reach the same backend in both (and the backend the test expects).

mod support;

use std::time::Duration;
use support::route::{Case, request, wrong_routes};
use support::*;

const CFG: &str =
    "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
frontend fe
  bind 127.0.0.1:{port}
  acl host_api hdr_beg(host) -i api.
  acl host_www hdr(host),lower,field(1,:) www.example.com
  acl admin path_beg /admin/
  acl beta req.cook(beta) 1
  acl debug urlp(debug) -m found
  acl mobile hdr_sub(user-agent) -i mobile
  use_backend api if host_api
  use_backend admin if host_www admin
  use_backend admin if { hdr(host),lower,map({hosts}) -m str admin }
  use_backend api if { path,map_beg({paths},none) -m str api }
  use_backend api if { query,url_dec -m sub token=s3cr3t }
  use_backend admin if beta || debug
  use_backend api if mobile { cook_cnt gt 1 }
  use_backend admin if { req.hdr(x-tenant),djb2,mod(2) eq 1 }
  use_backend api if { req.hdr(x-sig),sha1,hex -m str A9993E364706816ABA3E25717850C26C9CD0D89D }
  use_backend admin if { req.hdr(x-b64),b64dec -m str hello }
  use_backend api if { req.hdr(x-n),add(5),mul(2) ge 30 }
  use_backend admin if { url_param(id) -m int 100:199 }
  use_backend api if { req.hdr(x-ip),ipmask(16) -m ip 10.1.0.0 }
  use_backend admin if { req.hdr(x-path),regsub(^/old/,/new/) -m beg /new/ }
  default_backend web
backend api
  server s {api}
backend admin
  server s {admin}
backend web
  server s {web}
";

/// (method, path, headers, expected backend).
const CASES: &[Case] = &[
    ("GET", "/", &[("Host", "api.example.com")], "api"),
    ("GET", "/", &[("Host", "API.example.com")], "api"),
    ("GET", "/admin/x", &[("Host", "www.example.com")], "admin"),
    (
        "GET",
        "/admin/x",
        &[("Host", "WWW.example.com:80")],
        "admin",
    ),
    ("GET", "/admin", &[("Host", "www.example.com")], "web"),
    ("GET", "/", &[("Host", "www.example.com")], "web"),
    ("GET", "/", &[("Host", "intranet.example.com")], "admin"),
    ("GET", "/", &[("Host", "Intranet.Example.com")], "admin"),
    ("GET", "/v1/users", &[], "api"),
    ("GET", "/v10/users", &[], "web"),
    ("GET", "/static/x.css", &[], "web"),
    ("GET", "/x?a=1&token=s3cr3t", &[], "api"),
    ("GET", "/x?a=1&token=%73%33cr3t", &[], "api"),
    ("GET", "/x?token=other", &[], "web"),
    ("GET", "/", &[("Cookie", "a=b; beta=1")], "admin"),
    ("GET", "/", &[("Cookie", "beta=0")], "web"),
    ("GET", "/?debug", &[], "web"),
    ("GET", "/?debug=", &[], "admin"),
    (
        "GET",
        "/",
        &[("User-Agent", "x Mobile y"), ("Cookie", "a=1; b=2")],
        "api",
    ),
    (
        "GET",
        "/",
        &[("User-Agent", "x Mobile y"), ("Cookie", "a=1")],
        "web",
    ),
    ("GET", "/", &[("X-Tenant", "a")], "web"),
    ("GET", "/", &[("X-Tenant", "b")], "admin"),
    ("GET", "/", &[("X-Sig", "abc")], "api"),
    ("GET", "/", &[("X-Sig", "abd")], "web"),
    ("GET", "/", &[("X-B64", "aGVsbG8=")], "admin"),
    ("GET", "/", &[("X-N", "10")], "api"),
    ("GET", "/", &[("X-N", "9")], "web"),
    ("GET", "/item?id=150", &[], "admin"),
    ("GET", "/item?id=250", &[], "web"),
    ("GET", "/", &[("X-Ip", "10.1.200.3")], "api"),
    ("GET", "/", &[("X-Ip", "10.2.200.3")], "web"),
    ("GET", "/", &[("X-Path", "/old/page")], "admin"),
    ("GET", "/", &[("X-Path", "/other/old/")], "web"),
];

#[test]
fn front_door_routes_like_haproxy() {
    let dir = std::env::temp_dir().join(format!("gh-acl-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hosts = dir.join("hosts.map");
    std::fs::write(
        &hosts,
        "# host → app\nintranet.example.com admin\n\nshop.example.com web\n",
    )
    .unwrap();
    let paths = dir.join("paths.map");
    std::fs::write(&paths, "/v1/ api\n/v2/ api\n/static/ web\n").unwrap();
    let api = HttpBackend::start("api");
    let admin = HttpBackend::start("admin");
    let web = HttpBackend::start("web");
    let cfg = Config::new(CFG)
        .listen_port("port")
        .var("api", api.addr())
        .var("admin", admin.addr())
        .var("web", web.addr())
        .var("hosts", hosts.display())
        .var("paths", paths.display());
    let _g = Gatehouse::start(&cfg.render(), &[cfg.port("port")]);
    let href = cfg.with_fresh_ports();
    let _h = Haproxy::start(&href.render(), &[href.port("port")]);
    let (gh, hp) = (local(cfg.port("port")), local(href.port("port")));
    let wrong = wrong_routes(CASES, |(method, path, headers, _)| {
        (gh, hp, request(method, path, headers))
    });
    assert!(wrong.is_empty(), "{wrong:#?}");
}

const RESPONSE_CFG: &str =
    "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
frontend fe
  bind 127.0.0.1:{port}
  http-request set-var(txn.host) req.hdr(host)
  http-request set-var(txn.path) path
  http-request set-var(txn.want) str(admin)
  http-response set-header X-Host %[var(txn.host),host_only]
  http-response set-header X-Port %[var(txn.host),port_only]
  http-response set-header X-Wt6 %[var(txn.host),wt6]
  http-response set-header X-Crc32c %[var(txn.host),crc32c]
  http-response set-header X-Crc32c-Av %[var(txn.host),crc32c(1)]
  http-response set-header X-Regm %[var(txn.path),map_regm({regm},none)]
  http-response set-header X-Json-Name %[res.fhdr(x-json),json_query('$.user.name')]
  http-response set-header X-Json-Age %[res.fhdr(x-json),json_query('$.user.age')]
  http-response set-header X-Json-Int %[res.fhdr(x-json),json_query('$.user.age','int')]
  http-response set-header X-Json-Ok %[res.fhdr(x-json),json_query('$.ok')]
  http-response set-header X-Json-Big %[res.fhdr(x-json),json_query('$.big')]
  http-response set-header X-Sid %[res.cook(sid)]
  http-response set-header X-Cook-Cnt %[res.cook_cnt]
  http-response set-header X-Role-Cmp %[res.hdr(x-role),strcmp(txn.want)]
  http-response set-header X-Role-Mem %[res.hdr(x-role),secure_memcmp(txn.want)]
  http-response set-header X-Concat %[res.hdr(x-role),concat(<,txn.want,>)]
  http-response set-header X-Add-Item %[res.hdr(x-role),add_item(;,txn.want,!)]
  http-response set-header X-Add-Unset %[res.hdr(x-role),add_item(;,txn.nope)]
  http-response set-header X-Vary-Last %[res.hdr(vary)]
  http-response set-header X-Vary-First %[res.hdr(vary,1)]
  http-response set-header X-Vary-Cnt %[res.hdr_cnt(vary)]
  http-response set-header X-Admin yes if { res.hdr(x-role) admin }
  http-response set-header X-Beta yes if { res.cook(sid) -m beg abc }
  http-response set-header X-Html yes if { shdr_beg(content-type) text/html }
  http-response set-header X-Port-Acl yes if { var(txn.host),port_only gt 8000 }
  default_backend app
backend app
  server s {app}
";

/// The `x-` headers of a response, lower-cased and sorted, with its status line.
fn x_headers(out: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(out);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    let mut lines = head.lines();
    let mut got: Vec<String> = head
        .lines()
        .skip(1)
        .filter(|l| l.to_ascii_lowercase().starts_with("x-"))
        .filter(|l| !l.to_ascii_lowercase().starts_with("x-backend"))
        .map(|l| l.to_ascii_lowercase())
        .collect();
    got.sort();
    got.insert(0, lines.next().unwrap_or("(nothing)").to_string());
    got
}

/// Response-side fetches (`res.hdr`, `res.cook`, …) and the converters `json_query`,
/// `strcmp`, `secure_memcmp`, `concat` and `add_item` with a variable, `wt6`, `crc32c`, `host_only`, `port_only`, `map_regm`
/// give the same `http-response` results in both proxies.
#[test]
fn response_fetches_and_converters_agree_with_haproxy() {
    let dir = support::TempDir::new("acl-res-diff");
    let regm = dir.write(
        "regm.map",
        "^/api/v([0-9]+)/(.*)$ api\\1-\\2\n^/img/(.*)\\.png$ img-\\1\n",
    );
    let app = HttpBackend::builder("app")
        .header("X-Role", "admin")
        .header("Content-Type", "text/html; charset=utf-8")
        .header("Set-Cookie", "sid=abc123; Path=/; HttpOnly")
        .header("Set-Cookie", "theme=dark")
        .header("Vary", "Accept")
        .header("Vary", "Cookie")
        .header(
            "X-Json",
            r#"{"user":{"name":"bob","age":42.5},"ok":true,"big":1234567}"#,
        )
        .start();
    let cfg = Config::new(RESPONSE_CFG)
        .listen_port("port")
        .var("app", app.addr())
        .var("regm", regm.display());
    let _g = Gatehouse::start(&cfg.render(), &[cfg.port("port")]);
    let href = cfg.with_fresh_ports();
    let _h = Haproxy::start(&href.render(), &[href.port("port")]);
    let mut wrong = Vec::new();
    for (host, path) in [
        ("WWW.Example.com:8080", "/api/v2/users"),
        ("example.com", "/img/logo.png"),
        ("[::1]:443", "/other"),
    ] {
        let req = request("GET", path, &[("Host", host)]);
        let got = x_headers(&send_raw_with(
            local(cfg.port("port")),
            &req,
            Duration::from_secs(3),
            false,
        ));
        let reference = x_headers(&send_raw_with(
            local(href.port("port")),
            &req,
            Duration::from_secs(3),
            false,
        ));
        if got != reference {
            wrong.push(format!(
                "{host} {path}:\n gatehouse {got:#?}\n haproxy {reference:#?}"
            ));
        }
        if host == "WWW.Example.com:8080" {
            for want in [
                "x-host: www.example.com",
                "x-port: 8080",
                "x-regm: api2-users",
                "x-json-name: bob",
                "x-json-age: 42.5",
                "x-json-int: 42",
                "x-json-ok: 1",
                "x-json-big: 1.23457e+06",
                "x-sid: abc123",
                "x-cook-cnt: 3",
                "x-role-cmp: 0",
                "x-role-mem: 1",
                "x-concat: admin<admin>",
                "x-add-item: admin;admin!",
                "x-add-unset: admin",
                "x-vary-last: cookie",
                "x-vary-first: accept",
                "x-vary-cnt: 2",
                "x-admin: yes",
                "x-beta: yes",
                "x-html: yes",
                "x-port-acl: yes",
            ] {
                assert!(got.iter().any(|l| l == want), "{want} not in {got:#?}");
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Issue 9's 50 `use_backend` rules on `hdr(host) -i` + `path_beg`, which gatehouse
/// looks up through its `Host` index, mixed with rules the index cannot key (path
/// first, a named ACL of several lines, an exact-case host, a later rule for a host an
/// earlier one needs a path for) and a `set-header Host` the rules must see: first match
/// wins in both proxies.
fn fifty_rules_cfg() -> String {
    let mut cfg = String::from(
        "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
         frontend fe\n  bind 127.0.0.1:{port}\n\
         \x20 acl multi hdr(host) -i m1.example.com\n\
         \x20 acl multi hdr(host) -i m2.example.com\n\
         \x20 http-request set-header Host app30.example.com if { req.hdr(x-rewrite) -m found }\n",
    );
    let mut backends = vec!["web".to_string()];
    for n in 1..=50 {
        cfg.push_str(&format!(
            "  use_backend be{n} if {{ hdr(host) -i app{n}.example.com }} {{ path_beg /api{n} }}\n"
        ));
        backends.push(format!("be{n}"));
        if n == 10 {
            cfg.push_str("  use_backend be_path if { path_beg /api40 }\n");
            cfg.push_str("  use_backend be_multi if multi\n");
        }
    }
    cfg.push_str("  use_backend be_exact if { hdr(host) Exact.Example.com }\n");
    cfg.push_str("  use_backend be_late if { hdr(host) -i app5.example.com }\n");
    cfg.push_str("  default_backend web\n");
    backends.extend(["be_path", "be_multi", "be_exact", "be_late"].map(String::from));
    for b in backends {
        cfg.push_str(&format!(
            "backend {b}\n  http-request return status 200 content-type text/plain string {b}\n"
        ));
    }
    cfg
}

#[test]
fn fifty_host_rules_route_like_haproxy() {
    const FIFTY: &[Case] = &[
        ("GET", "/api25/x", &[("Host", "app25.example.com")], "be25"),
        ("GET", "/api25", &[("Host", "APP25.Example.COM")], "be25"),
        ("GET", "/", &[("Host", "app25.example.com")], "web"),
        (
            "GET",
            "/api25",
            &[("Host", "app25.example.com:8080")],
            "web",
        ),
        ("GET", "/api50/", &[("Host", "app50.example.com")], "be50"),
        ("GET", "/api1", &[("Host", "app1.example.com")], "be1"),
        ("GET", "/api5", &[("Host", "app5.example.com")], "be5"),
        ("GET", "/", &[("Host", "app5.example.com")], "be_late"),
        ("GET", "/api3", &[("Host", "app3.example.com")], "be3"),
        ("GET", "/api40", &[("Host", "app40.example.com")], "be_path"),
        (
            "GET",
            "/api40",
            &[("Host", "nowhere.example.com")],
            "be_path",
        ),
        ("GET", "/", &[("Host", "m2.example.com")], "be_multi"),
        ("GET", "/api20", &[("Host", "M1.example.com")], "be_multi"),
        ("GET", "/", &[("Host", "Exact.Example.com")], "be_exact"),
        ("GET", "/", &[("Host", "exact.example.com")], "web"),
        (
            "GET",
            "/api30/x",
            &[("Host", "app1.example.com"), ("X-Rewrite", "1")],
            "be30",
        ),
        ("GET", "/api30/x", &[("Host", "app1.example.com")], "web"),
        ("GET", "/api7", &[("Host", "unknown.example.com")], "web"),
    ];
    let cfg = Config::new(&fifty_rules_cfg()).listen_port("port");
    let _g = Gatehouse::start(&cfg.render(), &[cfg.port("port")]);
    let href = cfg.with_fresh_ports();
    let _h = Haproxy::start(&href.render(), &[href.port("port")]);
    let (gh, hp) = (local(cfg.port("port")), local(href.port("port")));
    let wrong = wrong_routes(FIFTY, |(method, path, headers, _)| {
        (gh, hp, request(method, path, headers))
    });
    assert!(wrong.is_empty(), "{wrong:#?}");
}
