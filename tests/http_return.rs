//! `http-request return` payloads and log-format values, on the real binary over real
//! sockets: `lf-string` with `%[…]` samples (`path`, `req.hdr(host)`, `src`,
//! converters) and `%` variables (`%ci`, `%ft`, `%b`, `%r`, `%ST`…), `lf-file` read
//! and compiled at load, `file` and `string` sent verbatim, `status`, `content-type`
//! and `hdr NAME FMT`; `%[…]` in `set-header`/`add-header` values as the server sees
//! them; configuration errors compared with `haproxy -c`.
//!
//! `same_bytes_as_haproxy` runs HAProxy 2.6.12 with the same configuration and
//! compares the responses byte for byte.

mod support;

use std::time::Duration;
use support::*;

const CFG: &str = "defaults
  mode http
  timeout connect 2s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:{port}
  http-request return status 201 content-type text/plain hdr x-a \"v-%[path]\" hdr X-B lit lf-string \"path=%[path] ci=%ci host=%[req.hdr(host),lower] src=%[src] ft=%ft b=%b r=%r ST=%ST TR=%TR s=%s q=%{+Q}[path] miss=%[req.hdr(nope)] qci=%{+Q}ci e=%{+E}[req.hdr(x)] up=%[path,upper]  two\" if { path /lf }
  http-request return content-type text/plain lf-file body.lf if { path /lff }
  http-request return content-type text/plain file body.txt if { path /f }
  http-request return status 404 content-type text/html string \"nope %[path]\" hdr x-s \"%[src]\" if { path /s }
  http-request return status 204 hdr x-e e if { path /e }
  http-request return status 304 hdr x-e e if { path /304 }
  http-request return if { path /plain }
  http-request return content-type text/plain lf-string \"[%[req.hdr(nope)]]\" if { path /empty }
  http-request set-header X-P \"%[path]-%ci\"
  http-request add-header X-Q \"%[path,upper] %[req.hdr(x-p)]\"
  http-request return content-type text/plain lf-string \"p=%[req.hdr(x-p)] q=%[req.hdr(x-q)] n=%[req.hdr_cnt(x-p)]\" if { path /seen }
  http-response set-header x-r \"%[status] %ST %[src]\"
  default_backend app
backend app
  server s {app}
";

const BODY_LF: &str = "hello %[path] from %ci\n";
const BODY_TXT: &str = "plain %[path] %ci\n";

struct Setup {
    proxy: Daemon,
    port: u16,
    app: HttpBackend,
}

fn start(haproxy: bool) -> Setup {
    let app = HttpBackend::start("app");
    let cfg = Config::new(CFG).listen_port("port").var("app", app.addr());
    let builder = proxy_builder(haproxy, &cfg);
    let proxy = builder
        .file("body.lf", BODY_LF)
        .file("body.txt", BODY_TXT)
        .wait_ports(&cfg.listen_ports())
        .start();
    Setup {
        proxy,
        port: cfg.port("port"),
        app,
    }
}

/// The raw response to `GET path` with `extra` header lines, on a closed connection.
fn raw(port: u16, path: &str, extra: &str) -> String {
    let req =
        format!("GET {path} HTTP/1.1\r\nHost: WWW.Ex.com\r\n{extra}Connection: close\r\n\r\n");
    let out = send_raw_with(local(port), req.as_bytes(), Duration::from_secs(3), false);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn lf_string_renders_samples_variables_and_hdr_formats() {
    let s = start(false);
    let body = "path=/lf ci=127.0.0.1 host=www.ex.com src=127.0.0.1 ft=fe b=fe \
                r=GET /lf HTTP/1.1 ST=201 TR=-1 s=<NOSRV> q=/lf miss= qci=\"127.0.0.1\" \
                e=a\\\"b\\]c up=/LF  two";
    assert_eq!(
        raw(s.port, "/lf", "x: a\"b]c\r\n"),
        format!(
            "HTTP/1.1 201 Created\r\nx-a: v-/lf\r\nx-b: lit\r\ncontent-length: {}\r\n\
             content-type: text/plain\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    );
    assert_eq!(s.app.request_count(), 0, "a return reached the server");
}

#[test]
fn lf_string_keeps_the_connection_and_renders_each_request() {
    let s = start(false);
    let mut c = HttpClient::connect(local(s.port)).expect("connect");
    for path in ["/lf", "/s", "/lf"] {
        let r = c.get(path, &[("Host", "h")]).expect(path);
        let want = if path == "/lf" { 201 } else { 404 };
        assert_eq!(r.status, want, "{path}");
        assert_eq!(
            r.header("content-length"),
            Some(r.body.len().to_string().as_str())
        );
    }
    let r = c.get("/s", &[]).expect("/s");
    assert_eq!(
        r.body_str(),
        "nope %[path]",
        "string payloads are not formats"
    );
    assert_eq!(r.header("x-s"), Some("127.0.0.1"), "hdr values are formats");
}

#[test]
fn lf_file_is_a_log_format_read_at_load() {
    let s = start(false);
    let first = raw(s.port, "/lff", "");
    assert_eq!(
        first,
        "HTTP/1.1 200 OK\r\ncontent-length: 26\r\ncontent-type: text/plain\r\n\
         connection: close\r\n\r\nhello /lff from 127.0.0.1\n"
    );
    // Changing the file on disk changes nothing: it was compiled at load.
    std::fs::write(s.proxy.dir().join("body.lf"), "changed %[path]\n").expect("rewrite");
    assert_eq!(raw(s.port, "/lff", ""), first);
}

#[test]
fn file_and_string_payloads_are_sent_verbatim() {
    let s = start(false);
    assert_eq!(
        raw(s.port, "/f", ""),
        format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\ncontent-type: text/plain\r\n\
             connection: close\r\n\r\n{BODY_TXT}",
            BODY_TXT.len()
        )
    );
    assert_eq!(
        raw(s.port, "/s", ""),
        "HTTP/1.1 404 Not Found\r\nx-s: 127.0.0.1\r\ncontent-length: 12\r\n\
         content-type: text/html\r\nconnection: close\r\n\r\nnope %[path]"
    );
}

#[test]
fn status_204_has_no_length_and_an_empty_sample_prints_nothing() {
    let s = start(false);
    assert_eq!(
        raw(s.port, "/e", ""),
        "HTTP/1.1 204 No Content\r\nx-e: e\r\nconnection: close\r\n\r\n"
    );
    assert_eq!(
        raw(s.port, "/empty", ""),
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\
         connection: close\r\n\r\n[]"
    );
}

#[test]
fn set_and_add_header_values_are_log_formats_seen_by_later_rules() {
    let s = start(false);
    let r = http_get(local(s.port), "/app/x", &[("X-P", "old")]).expect("GET /app/x");
    assert_eq!(r.status, 200);
    let req = &s.app.wait_requests(1)[0];
    assert_eq!(req.header_all("x-p"), ["/app/x-127.0.0.1"]);
    assert_eq!(req.header_all("x-q"), ["/APP/X /app/x-127.0.0.1"]);
    // http-response formats see the response status.
    assert_eq!(r.header("x-r"), Some("200 200 127.0.0.1"));
    // A later rule's samples see the headers set and added before it.
    let body = raw(s.port, "/seen", "X-P: old\r\n");
    assert!(
        body.ends_with("\r\n\r\np=/seen-127.0.0.1 q=/SEEN /seen-127.0.0.1 n=1"),
        "{body}"
    );
}

#[test]
fn same_bytes_as_haproxy() {
    let g = start(false);
    let h = start(true);
    let reqs: &[(&str, &str)] = &[
        ("/lf", "x: a\"b]c\r\n"),
        ("/lff", ""),
        ("/f", ""),
        ("/s", ""),
        ("/e", ""),
        ("/304", ""),
        ("/plain", ""),
        ("/empty", ""),
        ("/seen", "X-P: old\r\nX-Q: a\r\n"),
    ];
    for (path, extra) in reqs {
        assert_eq!(
            raw(g.port, path, extra),
            raw(h.port, path, extra),
            "GET {path}: gatehouse (left) and haproxy (right) differ"
        );
    }
}

/// Checks `line` in a frontend with gatehouse and haproxy: both must refuse it at
/// line 5, and gatehouse's alert must contain `want` (HAProxy's wording).
fn both_refuse(line: &str, want: &str) {
    let dir = TempDir::new("lf-check");
    dir.write("body.lf", "x %[nope]\n");
    let cfg = format!(
        "defaults\n  mode http\nfrontend fe\n  bind 127.0.0.1:{}\n  {line}\n",
        free_port()
    );
    let path = dir.write("haproxy.cfg", &cfg);
    // lf-file names are relative to the working directory, as for haproxy.
    let run = |bin: &std::path::Path| {
        let out = std::process::Command::new(bin)
            .args(["-c", "-f"])
            .arg(&path)
            .current_dir(dir.path())
            .output()
            .expect("run -c");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (gcode, gerr) = run(&gatehouse_bin());
    let (hcode, herr) = run(&require_haproxy());
    assert_ne!(hcode, 0, "haproxy accepted {line}: {herr}");
    assert_ne!(gcode, 0, "gatehouse accepted {line}: {gerr}");
    assert_eq!(first_alert_line(&herr, &path), Some(5), "{herr}");
    assert_eq!(first_alert_line(&gerr, &path), Some(5), "{gerr}");
    assert!(herr.contains(want), "haproxy says: {herr}");
    assert!(gerr.contains(want), "gatehouse says: {gerr}");
}

#[test]
fn format_errors_are_reported_at_load_like_haproxy() {
    let ct = "http-request return content-type text/plain";
    both_refuse(
        &format!("{ct} lf-string \"x=%[nope]\""),
        "error detected in frontend 'fe' while parsing 'http-request return' rule : \
         failed to parse sample expression <nope]> : unknown fetch method 'nope'.",
    );
    both_refuse(
        &format!("{ct} lf-string \"x=%[path,nope]\""),
        "failed to parse sample expression <path,nope]> : unknown converter 'nope'.",
    );
    both_refuse(
        &format!("{ct} lf-string \"x=%zz\""),
        "no such format variable 'zz'. If you wanted to emit the '%' character verbatim, you need to use '%%'.",
    );
    both_refuse(
        &format!("{ct} lf-string \"x=%[path\""),
        "missing ']' after 'path'.",
    );
    both_refuse(
        &format!("{ct} lf-string \"%[status]\""),
        "sample fetch <status]> may not be reliably used here because it needs 'HTTP response' which is not available here.",
    );
    both_refuse(
        "http-request return lf-string \"x\"",
        "a content type must be defined with a log-format payload.",
    );
    both_refuse(
        &format!("{ct} lf-string \"\""),
        "'lf-string' expects <fmt> as argument.",
    );
    both_refuse(
        &format!("{ct} lf-file missing.lf"),
        "error opening file 'missing.lf'.",
    );
    both_refuse(
        &format!("{ct} lf-file body.lf"),
        "failed to parse sample expression <nope]",
    );
    both_refuse(
        "http-request return hdr x \"%[nope]\"",
        "unknown fetch method 'nope'.",
    );
    both_refuse(
        "http-response set-header x \"%[path]\"",
        "sample fetch <path]> may not be reliably used here because it needs 'HTTP request headers' which is not available here.",
    );
    both_refuse(
        "http-request set-header x \"%[nope]\"",
        "while parsing 'http-request set-header' rule : failed to parse sample expression <nope]> : unknown fetch method 'nope'.",
    );
}
