//! `http-request`/`http-response` actions beyond allow/deny/return/set-header, on the
//! real binary over real sockets, each request sent to HAProxy 2.6.12 with the same
//! configuration too: `redirect` (location with `%[hdr(host)]`, prefix, scheme, codes,
//! `drop-query`, `append-slash`, `set-cookie`, `clear-cookie`), `auth` against a
//! `userlist` (insecure and SHA-512/SHA-256 crypt passwords, groups), `http_auth`
//! and `http_auth_group`, `replace-header`, `replace-value`, `del-header -m`,
//! `set-path`, `set-query`, `set-uri`, `set-method`, `http-response set-status`.
//! Compared: the whole response (status line, headers, body) and the request the
//! server received (request line and headers).

mod support;

use support::*;

const CFG: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
userlist ul
  group admins
  group ops users bob
  user alice insecure-password secret groups admins
  user bob password $6$saltsalt$HlPx3cp5OqD7jf0iNrO8vom681YH5Se4UnNxOn9lyTxVsW.OKSK3Vqq/Be6is3Y62TSBnpEs59DMxeOlOA1pA0
  user carol password $5$abcdefgh$cBhy70NJ1Otv40MvcEhpVOmQ56C7lL9EXxM4G9Z1TY8
frontend fe
  bind 127.0.0.1:{port}
  http-request redirect location "https://%[hdr(host)]%[path]" code 301 if { path_beg /loc }
  http-request redirect prefix https://new.example drop-query append-slash set-cookie SEEN=1 if { path_beg /pre }
  http-request redirect prefix / if { path_beg /slash }
  http-request redirect scheme https if { path_beg /sch }
  http-request redirect scheme https code 308 drop-query append-slash clear-cookie OLD if { path_beg /sc2 }
  http-request redirect location /x code 303 set-cookie A if { path_beg /c303 }
  http-request redirect location /t code 307 if { path_beg /c307 }
  http-request auth realm "My Realm" if { path_beg /auth } !{ http_auth(ul) }
  http-request auth if { path_beg /ops } !{ http_auth_group(ul) ops admins }
  http-request return status 200 content-type text/plain lf-string "ok %[http_auth_group(ul)]" if { path_beg /auth } || { path_beg /ops }
  http-request replace-header X-Rep '^a(.*)$' "b\1-%[path]"
  http-request replace-value X-Val '^v(\d)$' "w\1"
  http-request del-header x-drop- -m beg
  http-request del-header -tail -m end
  http-request del-header ^x-re[0-9]$ -m reg
  http-request set-path /new%[path] if { path_beg /sp }
  http-request set-query k=%[query] if { path_beg /sq }
  http-request set-uri /u?z=1 if { path_beg /su }
  http-request set-method POST if { path_beg /sm }
  http-response set-status 202 if { status 200 }
  http-response set-status 299 reason "Fine Thanks" if { status 202 }
  default_backend app
backend app
  server s {app}
"#;

struct Setup {
    _proxy: Daemon,
    port: u16,
    app: HttpBackend,
}

fn start(haproxy: bool) -> Setup {
    let app = HttpBackend::start("app");
    let cfg = Config::new(CFG).listen_port("port").var("app", app.addr());
    let builder = proxy_builder(haproxy, &cfg);
    let proxy = builder.wait_ports(&cfg.listen_ports()).start();
    Setup {
        _proxy: proxy,
        port: cfg.port("port"),
        app,
    }
}

fn basic(user: &str, pass: &str) -> String {
    use base64::Engine;
    let v = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    format!("Authorization: Basic {v}\r\n")
}

/// The response and the request head the server received (see
/// `HttpBackend::exchange_through`).
fn exchange(s: &Setup, path: &str, extra: &str) -> (String, Option<String>) {
    s.app.exchange_through(s.port, path, extra)
}

const CASES: &[(&str, &str)] = &[
    ("/loc/a?b=1", ""),
    ("/pre/x?q=1", ""),
    ("/pre/y/", ""),
    ("/slash/z?k", ""),
    ("/sch/p?q", ""),
    ("/sc2/p?q", ""),
    ("/c303", ""),
    ("/c307", ""),
    ("/auth", ""),
    ("/auth", "Authorization: Basic bm9wZTpub3Bl\r\n"),
    ("/auth", "Authorization: Bearer abc\r\n"),
    (
        "/plain",
        "X-Rep: abc\r\nX-Rep: zzz\r\nX-Val: v1, v22,v3\r\n",
    ),
    (
        "/plain",
        "X-Drop-One: 1\r\nx-drop-two: 2\r\nKeep: k\r\nSome-Tail: t\r\nx-re1: r\r\nx-re12: r\r\n",
    ),
    ("/sp/a?q=1", ""),
    ("/sq/a?q=1", ""),
    ("/sq/b", ""),
    ("/su/x?y", ""),
    ("/sm", ""),
];

#[test]
fn actions_agree_with_haproxy() {
    let g = start(false);
    let h = start(true);
    let mut cases: Vec<(String, String)> = CASES
        .iter()
        .map(|(p, e)| (p.to_string(), e.to_string()))
        .collect();
    for (u, p) in [
        ("alice", "secret"),
        ("alice", "Secret"),
        ("bob", "bobpw"),
        ("carol", "carolpw"),
        ("carol", "bad"),
    ] {
        cases.push(("/auth".into(), basic(u, p)));
        cases.push(("/ops".into(), basic(u, p)));
    }
    for (path, extra) in &cases {
        let ours = exchange(&g, path, extra);
        let theirs = exchange(&h, path, extra);
        assert_eq!(ours, theirs, "{path} {extra:?}");
    }
}

#[test]
fn redirects_build_haproxys_location() {
    let s = start(false);
    let table: &[(&str, &str, &str)] = &[
        (
            "/loc/a?b=1",
            "301 Moved Permanently",
            "https://ex.com/loc/a",
        ),
        ("/pre/x?q=1", "302 Found", "https://new.example/pre/x/"),
        ("/slash/z?k", "302 Found", "/slash/z?k"),
        ("/sch/p?q", "302 Found", "https://ex.com/sch/p?q"),
        (
            "/sc2/p?q",
            "308 Permanent Redirect",
            "https://ex.com/sc2/p/",
        ),
        ("/c303", "303 See Other", "/x"),
    ];
    for (path, status, loc) in table {
        let (resp, seen) = exchange(&s, path, "");
        assert!(
            resp.starts_with(&format!("HTTP/1.1 {status}\r\n")),
            "{path}: {resp}"
        );
        assert!(
            resp.contains(&format!("\r\nlocation: {loc}\r\n")),
            "{path}: {resp}"
        );
        assert_eq!(seen, None, "{path} reached the server");
    }
    let (resp, _) = exchange(&s, "/loc/z", "");
    assert!(!resp.contains("cache-control"), "301 is cacheable: {resp}");
    let (resp, _) = exchange(&s, "/sc2/p", "");
    assert!(
        resp.contains("\r\nset-cookie: OLD; path=/; Max-Age=0;\r\n"),
        "{resp}"
    );
}

#[test]
fn auth_answers_401_until_credentials_are_valid() {
    let s = start(false);
    let (resp, _) = exchange(&s, "/auth", "");
    assert!(resp.starts_with("HTTP/1.1 401 Unauthorized\r\n"), "{resp}");
    assert!(
        resp.contains("\r\nwww-authenticate: Basic realm=\"My Realm\"\r\n"),
        "{resp}"
    );
    let (resp, _) = exchange(&s, "/ops", "");
    assert!(
        resp.contains("\r\nwww-authenticate: Basic realm=\"fe\"\r\n"),
        "default realm: {resp}"
    );
    let table: &[(&str, &str, &str, &str)] = &[
        ("/auth", "alice", "secret", "ok alice"),
        ("/auth", "bob", "bobpw", "ok bob"),
        ("/auth", "carol", "carolpw", "ok carol"),
        ("/auth", "carol", "bobpw", "401"),
        ("/ops", "bob", "bobpw", "ok bob"),
        ("/ops", "alice", "secret", "ok alice"),
        ("/ops", "carol", "carolpw", "401"),
    ];
    for (path, u, p, want) in table {
        let (resp, _) = exchange(&s, path, &basic(u, p));
        if *want == "401" {
            assert!(resp.starts_with("HTTP/1.1 401 "), "{path} {u}:{p}: {resp}");
        } else {
            assert!(resp.ends_with(want), "{path} {u}:{p}: {resp}");
        }
    }
}

#[test]
fn curl_basic_auth_passes() {
    let s = start(false);
    let url = format!("http://127.0.0.1:{}/auth", s.port);
    let run = |user: &str| {
        let out = std::process::Command::new("curl")
            .args(["-s", "-o", "-", "-w", " %{http_code}", "-u", user, &url])
            .output()
            .expect("curl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        run("bob:bobpw").ends_with("ok bob 200"),
        "{}",
        run("bob:bobpw")
    );
    assert!(run("bob:nope").ends_with(" 401"));
}

#[test]
fn rewrites_reach_the_server() {
    let s = start(false);
    let table: &[(&str, &str, &str)] = &[
        ("/sp/a?q=1", "", "GET /new/sp/a?q=1 HTTP/1.1"),
        ("/sq/a?q=1", "", "GET /sq/a?k=q=1 HTTP/1.1"),
        ("/su/x?y", "", "GET /u?z=1 HTTP/1.1"),
        ("/sm", "", "POST /sm HTTP/1.1"),
    ];
    for (path, extra, line) in table {
        let (resp, seen) = exchange(&s, path, extra);
        let seen = seen.expect("reached the server");
        assert!(seen.starts_with(line), "{path}: {seen}");
        assert!(
            resp.starts_with("HTTP/1.1 299 Fine Thanks\r\n"),
            "{path}: {resp}"
        );
    }
    let (_, seen) = exchange(
        &s,
        "/h",
        "X-Rep: abc\r\nX-Val: v1, v22,v3\r\nX-Drop-A: 1\r\nSome-Tail: t\r\nx-re1: r\r\nx-re12: r\r\n",
    );
    let seen = seen.expect("reached the server").to_ascii_lowercase();
    assert!(seen.contains("\nx-rep: bbc-/h"), "{seen}");
    assert!(seen.contains("\nx-val: w1, v22,w3"), "{seen}");
    assert!(
        !seen.contains("x-drop-a") && !seen.contains("some-tail"),
        "{seen}"
    );
    assert!(
        !seen.contains("x-re1:") && seen.contains("x-re12: r"),
        "{seen}"
    );
}

/// The `redirect` keyword: its own rule list, run after the proxy's `http-request`
/// rules (also after an `allow`), the frontend's before `use_backend`, the backend's
/// after the backend's `http-request` rules; its location is literal text.
const REDIRECT_CFG: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:{port}
  http-request allow if { path_beg /allowed }
  http-request deny if { path_beg /denied }
  http-request set-header x-seen yes
  redirect location /literal%[path] code 301 if { path_beg /lit }
  redirect prefix https://new.example drop-query if { path_beg /allowed }
  redirect prefix https://never.example if { path_beg /denied }
  redirect scheme https if { hdr(x-seen) yes } { path_beg /sch }
  use_backend be if { path_beg /be }
  default_backend app
backend app
  server s {app}
backend be
  http-request return status 200 content-type text/plain string early if { path_beg /be/ret }
  redirect location /from-backend code 307 if { path_beg /be/r }
  server s {app}
"#;

#[test]
fn redirect_keyword_runs_after_the_request_rules_like_haproxy() {
    let run = |haproxy: bool| {
        let app = HttpBackend::start("app");
        let cfg = Config::new(REDIRECT_CFG)
            .listen_port("port")
            .var("app", app.addr());
        let _proxy = proxy_builder(haproxy, &cfg)
            .wait_ports(&cfg.listen_ports())
            .start();
        [
            "/lit/a?q=1",
            "/allowed/x?q=1",
            "/denied",
            "/sch/p",
            "/be/ret",
            "/be/r",
            "/be/other",
            "/plain",
        ]
        .map(|p| (p, app.exchange_through(cfg.port("port"), p, "")))
    };
    let ours = run(false);
    let theirs = run(true);
    for ((path, o), (_, t)) in ours.iter().zip(theirs.iter()) {
        assert_eq!(o, t, "{path}: gatehouse vs haproxy");
    }
    let loc = |i: usize| ours[i].1.0.clone();
    assert!(
        loc(0).contains("location: /literal%[path]\r\n"),
        "{}",
        loc(0)
    );
    assert!(loc(1).contains("location: https://new.example/allowed/x\r\n"));
    assert!(loc(2).starts_with("HTTP/1.1 403"));
    assert!(loc(4).ends_with("early") && loc(5).contains("location: /from-backend\r\n"));
}

const ORIGINALTO_CFG: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:{port}
  option forwardfor
  option originalto
  http-request set-header x-rule yes
  use_backend named if { path_beg /named }
  use_backend excepted if { path_beg /except }
  default_backend app
backend app
  server s {app}
backend named
  option originalto header X-Dst except 10.0.0.0/8
  server s {app}
backend excepted
  option originalto except 127.0.0.0/8
  server s {app}
"#;

#[test]
fn originalto_header_reaches_the_server_like_haproxy() {
    let run = |haproxy: bool| {
        let app = HttpBackend::start("app");
        let cfg = Config::new(ORIGINALTO_CFG)
            .listen_port("port")
            .var("app", app.addr());
        let _proxy = proxy_builder(haproxy, &cfg)
            .wait_ports(&cfg.listen_ports())
            .start();
        [
            ("/", ""),
            ("/named", ""),
            ("/except", ""),
            ("/", "X-Original-To: 1.2.3.4\r\n"),
        ]
        .map(|(p, e)| app.exchange_through(cfg.port("port"), p, e).1)
    };
    let ours = run(false);
    assert_eq!(ours, run(true), "requests the server received");
    let seen = |i: usize| ours[i].clone().unwrap_or_default();
    assert!(
        seen(0).contains("x-forwarded-for: 127.0.0.1\nx-original-to: 127.0.0.1"),
        "{}",
        seen(0)
    );
    assert!(seen(1).contains("\nx-dst: 127.0.0.1"), "{}", seen(1));
    assert!(!seen(2).contains("original-to"), "{}", seen(2));
}

const RESPONSE_CHAIN_CFG: &str = r#"defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:{port}
  http-response set-header X-A one
  http-response set-header X-B "%[res.hdr(x-a)]-two"
  http-response add-header X-C seen-b if { res.hdr(x-b) -m beg one- }
  http-response del-header X-Server
  http-response add-header X-Left "[%[res.hdr(x-server)]] %[res.hdr_cnt(x-multi)]"
  http-response add-header X-Multi c
  http-response set-header X-Cnt %[res.hdr_cnt(x-multi)]
  http-response set-status 202 if { res.hdr(x-c) seen-b }
  http-response set-header X-St %[status]
  default_backend app
backend app
  http-response set-header X-Be "%[res.hdr(x-cnt)]/%[res.hdr(x-a)]"
  server s {app}
"#;

/// Later `http-response` rules see the headers and status earlier ones of the same pass
/// set, added or deleted (HAProxy edits the message in place).
#[test]
fn response_rules_see_earlier_response_edits_like_haproxy() {
    let run = |haproxy: bool| {
        let app = HttpBackend::builder("app")
            .raw_reply(
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Server: s1\r\nX-Multi: a\r\nX-Multi: b\r\n\r\nok",
            )
            .start();
        let cfg = Config::new(RESPONSE_CHAIN_CFG)
            .listen_port("port")
            .var("app", app.addr());
        let _proxy = proxy_builder(haproxy, &cfg)
            .wait_ports(&cfg.listen_ports())
            .start();
        app.exchange_through(cfg.port("port"), "/", "").0
    };
    let ours = run(false);
    let theirs = run(true);
    assert_eq!(ours, theirs, "gatehouse vs haproxy");
    for line in [
        "HTTP/1.1 202 ",
        "x-a: one\r\n",
        "x-b: one-two\r\n",
        "x-c: seen-b\r\n",
        "x-left: [] 2\r\n",
        "x-cnt: 3\r\n",
        "x-st: 202\r\n",
    ] {
        assert!(ours.contains(line), "{line:?} missing in {ours}");
    }
    assert!(!ours.contains("x-server"), "{ours}");
}
