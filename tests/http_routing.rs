//! Content switching in `mode http`: named and anonymous ACLs (`hdr(host)
//! -i`, `path_beg`, `path_end`, `src`, `method`), conditions combined by
//! juxtaposition (AND), `||` and `!`, `use_backend` order and
//! `default_backend`, plus `http-request deny / return / set-header /
//! add-header / del-header` as seen by the client and by the server.
//!
//! Checked against HAProxy 2.6.12: `GATEHOUSE_TEST_PROXY=haproxy` runs the
//! reference instead of gatehouse.

mod support;

use support::*;

const CFG: &str =
    "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  timeout server 5s\n\
frontend fe
  bind 127.0.0.1:{port}
  acl host_api hdr(host) -i api.example.com
  acl admin path_beg /admin/
  acl is_post method POST
  http-request deny if { path_beg /forbidden }
  http-request return status 200 content-type text/plain string \"ok\" if { path /health }
  http-request set-header X-Set v1
  http-request add-header X-Add a2
  http-request del-header X-Del
  use_backend admin if host_api admin
  use_backend writes if is_post !host_api
  use_backend api if host_api
  use_backend static if { path_end .png } || { path_end .jpg }
  use_backend internal if { src 10.0.0.0/8 }
  use_backend local if { src 127.0.0.0/8 } { path_beg /local }
  default_backend web
backend admin
  server s {admin}
backend writes
  server s {writes}
backend api
  server s {api}
backend static
  server s {static}
backend internal
  server s {internal}
backend local
  server s {local}
backend web
  server s {web}
";

const NAMES: [&str; 7] = [
    "admin", "writes", "api", "static", "internal", "local", "web",
];

struct Routing {
    _proxy: Daemon,
    port: u16,
    backends: Vec<HttpBackend>,
}

impl Routing {
    fn start() -> Routing {
        let backends: Vec<HttpBackend> = NAMES.iter().map(|n| HttpBackend::start(n)).collect();
        let mut cfg = Config::new(CFG).listen_port("port");
        for b in &backends {
            cfg = cfg.var(b.name(), b.addr());
        }
        let proxy = if std::env::var("GATEHOUSE_TEST_PROXY").is_ok_and(|v| v == "haproxy") {
            Haproxy::start_config(&cfg).0
        } else {
            Gatehouse::start_config(&cfg).0
        };
        Routing {
            _proxy: proxy,
            port: cfg.port("port"),
            backends,
        }
    }

    /// Which backend answers `method path` with `headers` (its body).
    fn route(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> String {
        let body: &[u8] = if method == "POST" { b"data" } else { b"" };
        let r = http_request(local(self.port), method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        assert_eq!(
            r.status,
            200,
            "{method} {path} {headers:?}: {}",
            r.body_str()
        );
        r.body_str()
    }

    fn backend(&self, name: &str) -> &HttpBackend {
        self.backends
            .iter()
            .find(|b| b.name() == name)
            .unwrap_or_else(|| panic!("no backend {name}"))
    }

    fn total_requests(&self) -> usize {
        self.backends.iter().map(|b| b.request_count()).sum()
    }
}

#[test]
fn host_acl_is_case_insensitive_with_dash_i() {
    let r = Routing::start();
    assert_eq!(r.route("GET", "/", &[("Host", "api.example.com")]), "api");
    assert_eq!(r.route("GET", "/", &[("Host", "API.Example.COM")]), "api");
    assert_eq!(r.route("GET", "/", &[("Host", "www.example.com")]), "web");
}

#[test]
fn juxtaposed_acls_are_anded() {
    let r = Routing::start();
    assert_eq!(
        r.route("GET", "/admin/users", &[("Host", "api.example.com")]),
        "admin"
    );
    assert_eq!(
        r.route("GET", "/admin/users", &[("Host", "www.example.com")]),
        "web"
    );
    assert_eq!(
        r.route("GET", "/administrator", &[("Host", "api.example.com")]),
        "api"
    );
}

#[test]
fn negated_acl_and_method() {
    let r = Routing::start();
    assert_eq!(
        r.route("POST", "/form", &[("Host", "www.example.com")]),
        "writes"
    );
    assert_eq!(
        r.route("POST", "/form", &[("Host", "api.example.com")]),
        "api"
    );
    assert_eq!(
        r.route("GET", "/form", &[("Host", "www.example.com")]),
        "web"
    );
}

#[test]
fn anonymous_acls_joined_by_or() {
    let r = Routing::start();
    assert_eq!(r.route("GET", "/img/logo.png", &[]), "static");
    assert_eq!(r.route("GET", "/photo.jpg", &[]), "static");
    assert_eq!(
        r.route("GET", "/logo.png?v=2", &[]),
        "static",
        "path_end ignores the query"
    );
    assert_eq!(r.route("GET", "/logo.gif", &[]), "web");
}

#[test]
fn src_networks_match_the_client_address() {
    let r = Routing::start();
    assert_eq!(r.route("GET", "/local/x", &[]), "local");
    assert_eq!(r.route("GET", "/other", &[]), "web");
    assert_eq!(r.backend("internal").request_count(), 0);
}

#[test]
fn use_backend_rules_apply_in_order() {
    let r = Routing::start();
    // Both `admin` (host_api admin) and `api` (host_api) match: first wins.
    assert_eq!(
        r.route("GET", "/admin/", &[("Host", "api.example.com")]),
        "admin"
    );
    // `static` matches too but `api` comes first.
    assert_eq!(
        r.route("GET", "/a.png", &[("Host", "api.example.com")]),
        "api"
    );
}

#[test]
fn http_request_deny_answers_haproxy_403_page() {
    let r = Routing::start();
    let out = send_raw_with(
        local(r.port),
        b"GET /forbidden/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        std::time::Duration::from_secs(3),
        false,
    );
    assert_eq!(
        String::from_utf8_lossy(&out),
        "HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\n\
         content-type: text/html\r\nconnection: close\r\n\r\n<html><body><h1>403 Forbidden</h1>\n\
         Request forbidden by administrative rules.\n</body></html>\n"
    );
    assert_eq!(r.total_requests(), 0, "a denied request reached a server");
}

#[test]
fn http_request_return_answers_without_a_server() {
    let r = Routing::start();
    let out = send_raw_with(
        local(r.port),
        b"GET /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        std::time::Duration::from_secs(3),
        false,
    );
    assert_eq!(
        String::from_utf8_lossy(&out),
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nok"
    );
    // Only the exact path matches.
    assert_eq!(r.route("GET", "/healthz", &[]), "web");
    assert_eq!(r.total_requests(), 1);
}

#[test]
fn header_rules_are_seen_by_the_server() {
    let r = Routing::start();
    r.route(
        "GET",
        "/h",
        &[
            ("X-Set", "old"),
            ("X-Add", "a1"),
            ("X-Del", "gone"),
            ("X-Keep", "k"),
        ],
    );
    let req = &r.backend("web").wait_requests(1)[0];
    assert_eq!(req.header_all("x-set"), ["v1"]);
    assert_eq!(req.header_all("x-add"), ["a1", "a2"]);
    assert!(req.header_all("x-del").is_empty());
    assert_eq!(req.header_all("x-keep"), ["k"]);
}
