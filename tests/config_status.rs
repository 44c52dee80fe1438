//! What the statuses of `docs/compat.md` mean to an operator: a keyword that is only
//! parsed, or a tuning keyword of HAProxy's internals that gatehouse ignores, loads with a
//! warning at its line in HAProxy's format (`gatehouse -c` then says "Warnings were
//! found."), while a keyword not supported yet is still refused.

mod support;

use std::path::Path;

use support::*;

/// A configuration with parsed-only and ignored keywords, at known lines.
const CFG: &str = "global
    tune.idle-pool.shared on
    tune.ssl.capture-buffer-size 128
    tune.listener.multi-queue on
defaults
    mode http
    timeout connect 2s
    timeout client 5s
    timeout server 5s
frontend fe
    bind 127.0.0.1:{port} name web
    default_backend be
backend be
    stick-table type ip size 1k
    server s1 127.0.0.1:{server}
";

/// The warning lines expected for `CFG` in `file`: (line, message).
fn expected(file: &Path, port: u16) -> Vec<String> {
    let f = file.display();
    [
        (2, "'tune.idle-pool.shared' has no effect in gatehouse and is ignored: it chooses whether HAProxy's threads share their idle server connections."),
        (3, "'tune.ssl.capture-buffer-size' has no effect in gatehouse and is ignored: it sizes HAProxy's OpenSSL capture of client hellos, which gatehouse's TLS does not keep."),
        (4, "'tune.listener.multi-queue' has no effect in gatehouse and is ignored: it tunes how HAProxy dispatches accepted connections to its threads."),
        (11, &*format!("'bind 127.0.0.1:{port}' : 'name' is parsed but has no effect yet in gatehouse: listener names are shown by the stats page and runtime API, not served yet.")),
    ]
    .iter()
    .map(|(line, msg)| format!(" : config : parsing [{f}:{line}] : {msg}"))
    .collect()
}

/// Every expected warning is on a `[WARNING]  (PID)` line of `stderr`.
fn assert_warnings(stderr: &str, file: &Path, port: u16) {
    for want in expected(file, port) {
        let found = stderr.lines().any(|l| {
            l.strip_prefix("[WARNING]  (")
                .and_then(|rest| rest.split_once(')'))
                .is_some_and(|(pid, tail)| pid.parse::<u32>().is_ok() && tail == want)
        });
        assert!(found, "missing warning {want:?} in:\n{stderr}");
    }
}

#[test]
fn parsed_and_ignored_keywords_load_with_a_warning_at_their_line() {
    let dir = TempDir::new("status-check");
    let cfg = Config::new(CFG)
        .listen_port("port")
        .var("server", free_port());
    let path = dir.write("haproxy.cfg", cfg.render());
    let (code, stdout, stderr) = check(&gatehouse_bin(), &[&path]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_warnings(&stderr, &path, cfg.port("port"));
    assert!(!stderr.contains("[ALERT]"), "{stderr}");
    assert!(stdout.contains("Warnings were found."), "{stdout}");
    assert!(stdout.contains("Configuration file is valid"), "{stdout}");
}

#[test]
fn a_normal_start_prints_the_same_warnings() {
    let cfg = Config::new(CFG)
        .listen_port("port")
        .var("server", free_port());
    let g = Gatehouse::start_config(&cfg);
    assert_warnings(&g.stderr(), g.config_path(), cfg.port("port"));
}

/// `gatehouse -c` on a one-line `global` section.
fn check_global(line: &str) -> (i32, String) {
    let dir = TempDir::new("status-global");
    let path = dir.write("g.cfg", format!("global\n    {line}\n"));
    let (code, _, stderr) = check(&gatehouse_bin(), &[&path]);
    (code, stderr)
}

#[test]
fn ignored_keywords_still_check_their_arguments_like_haproxy() {
    // HAProxy's messages; gatehouse names the section after the keyword, as for every
    // `global` keyword.
    for (line, kw, msg) in [
        (
            "tune.idle-pool.shared maybe",
            "tune.idle-pool.shared",
            "expects either 'on' or 'off' but got 'maybe'.",
        ),
        (
            "tune.maxpollevents",
            "tune.maxpollevents",
            "expects an integer argument.",
        ),
        (
            "tune.ssl.default-dh-param 512",
            "tune.ssl.default-dh-param",
            "expects a value >= 1024.",
        ),
        (
            "noepoll now",
            "noepoll",
            "cannot handle unexpected argument 'now'.",
        ),
    ] {
        let (code, stderr) = check_global(line);
        assert_eq!(code, 1, "{line}: {stderr}");
        assert!(
            stderr.contains(&format!(":2] : '{kw}' in section 'global' {msg}")),
            "{line}: {stderr}"
        );
    }
}

#[test]
fn keywords_not_supported_yet_are_still_refused() {
    for (line, kw) in [
        ("tune.http.maxhdr 101", "tune.http.maxhdr"),
        ("tune.sndbuf.client 65536", "tune.sndbuf.client"),
        ("tune.maxaccept 64", "tune.maxaccept"),
    ] {
        let (code, stderr) = check_global(line);
        assert_eq!(code, 1, "{line}: {stderr}");
        assert!(
            stderr.contains(&format!(
                ":2] : '{kw}' in section 'global' is a HAProxy keyword that gatehouse does not support yet."
            )),
            "{line}: {stderr}"
        );
    }
}

/// `gatehouse -c` on `body` appended to a `listen` section in `mode http` (its first
/// line is line 8).
fn check_listen(body: &str) -> (i32, String, std::path::PathBuf, TempDir) {
    let dir = TempDir::new("status-listen");
    let path = dir.write(
        "l.cfg",
        format!(
            "defaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n    timeout server 1s\nlisten l\n    bind 127.0.0.1:1\n{body}"
        ),
    );
    let (code, _, stderr) = check(&gatehouse_bin(), &[&path]);
    (code, stderr, path, dir)
}

/// Proxy keywords, actions, fetches and pre-defined ACLs gatehouse lacks are refused at
/// their line with the keyword named, never silently ignored (`dispatch` and `option
/// transparent` included: gatehouse has no backend without servers nor transparent
/// proxying).
#[test]
fn proxy_features_not_supported_yet_are_refused_at_their_line() {
    let (code, stderr, path, _dir) = check_listen(
        "    dispatch 127.0.0.1:80\n    option transparent\n    tcp-response content set-var(txn.x) str(1)\n",
    );
    assert_eq!(code, 1, "{stderr}");
    let f = path.display();
    for (line, what) in [
        (
            8,
            "'dispatch' in section 'listen' is a HAProxy keyword that gatehouse does not support yet.",
        ),
        (
            9,
            "'option transparent' in section 'listen' is a HAProxy keyword that gatehouse does not support yet.",
        ),
        (
            10,
            "'tcp-response content set-var(txn.x)' in section 'listen' is not supported yet by gatehouse (supported: accept, reject, close).",
        ),
    ] {
        assert!(
            stderr.contains(&format!("[{f}:{line}] : {what}")),
            "{line}: {stderr}"
        );
    }
    let (code, stderr, path, _dir) = check_listen(
        "    http-request deny if { req.hdrs_bin -m found }\n    http-request deny if REQ_CONTENT\n    http-request deny if RDP_COOKIE\n    http-request deny if { rdp_cookie(mstshash) x }\n    http-request deny if { req.hdrs -m sub x }\n    server s 127.0.0.1:1\n",
    );
    assert_eq!(code, 1, "{stderr}");
    let f = path.display();
    for (line, what) in [
        (8, "fetch 'req.hdrs_bin' is not supported yet by gatehouse."),
        (
            9,
            "fetch 'req.len' is not supported yet by gatehouse in 'mode http'.",
        ),
        (
            10,
            "fetch 'req.rdp_cookie_cnt' is not supported yet by gatehouse in 'mode http'.",
        ),
        (
            11,
            "fetch 'rdp_cookie' is not supported yet by gatehouse in 'mode http'.",
        ),
        (12, "fetch 'req.hdrs' is not supported yet by gatehouse."),
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains(&format!("[{f}:{line}] : ")) && l.contains(what)),
            "{line}: {stderr}"
        );
    }
}
