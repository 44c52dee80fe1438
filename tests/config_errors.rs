//! What users see when a configuration is wrong: each broken configuration below
//! must be refused with the given `file:line` and message (wording checked against
//! haproxy 2.6.12 where HAProxy has the same error), every error must be reported
//! (not only the first), and `gatehouse -c` must exit 1 with every alert located.

use gatehouse::config::Loaded;
use gatehouse::config::diag::{Diag, Level};
use gatehouse::load::load_sources;
use std::path::{Path, PathBuf};
use std::process::Command;

const FILE: &str = "t.cfg";

/// The environment the cases see: only `HOME` is set.
fn env(name: &str) -> Option<String> {
    (name == "HOME").then(|| "/home/test".to_string())
}

fn load(text: &str) -> Loaded {
    load_sources(&[(FILE.to_string(), text.to_string())], &env)
}

fn alerts(l: &Loaded) -> Vec<&Diag> {
    l.diags.iter().filter(|d| d.is_alert()).collect()
}

fn show(l: &Loaded) -> String {
    l.diags
        .iter()
        .map(|d| format!("  {:?} {:?}: {}", d.level, d.span, d.message))
        .collect::<Vec<_>>()
        .join("\n")
}

/// (case, configuration, line of the first alert, its exact message)
const CASES: &[(&str, &str, u32, &str)] = &[
    (
        "unknown keyword, with a suggestion",
        "frontend f\n    bind 127.0.0.1:8080\n    defualt_backend b\n",
        3,
        "unknown keyword 'defualt_backend' in 'frontend' section; did you mean 'default_backend' maybe ?",
    ),
    (
        "unknown global keyword",
        "global\n    maxconnn 10\n",
        2,
        "unknown keyword 'maxconnn' in 'global' section; did you mean 'maxconn' maybe ?",
    ),
    (
        "keyword out of any section",
        "maxconn 10\n",
        1,
        "unknown keyword 'maxconn' out of section.",
    ),
    (
        "real HAProxy keyword gatehouse does not support yet",
        "global\n    cpu-map 1 0\n",
        2,
        "'cpu-map' in section 'global' is a HAProxy keyword that gatehouse does not support yet.",
    ),
    (
        "real HAProxy section gatehouse does not support yet",
        "mailers m\n    mailer a 127.0.0.1:1000\n",
        1,
        "section 'mailers' is a HAProxy section that gatehouse does not support yet.",
    ),
    (
        "a stick-table fetch names a table that does not exist",
        "frontend f\n    bind 127.0.0.1:8080\n    http-request deny if { sc_http_req_rate(0,nosuch) gt 1 }\n",
        3,
        "unable to find table 'nosuch' referenced in arg 2 of ACL keyword 'sc_http_req_rate' in proxy 'f'.",
    ),
    (
        "track-sc names a table that does not exist",
        "frontend f\n    bind 127.0.0.1:8080\n    http-request track-sc0 src table nosuch\n",
        3,
        "Proxy 'f': unable to find table 'nosuch' referenced by track-sc0.",
    ),
    (
        "peers sections are refused with a pointer to the table's Redis option",
        "peers p\n    peer a 127.0.0.1:1000\n",
        1,
        "section 'peers' : 'peers' is not supported by gatehouse: stick tables are shared between instances through Redis instead, with the stick-table option 'redis redis://HOST:PORT/DB' (see docs/persistence.md).",
    ),
    (
        "real HAProxy action gatehouse does not support yet",
        "frontend f\n    bind 127.0.0.1:8080\n    http-request silent-drop\n",
        3,
        "'http-request silent-drop' in section 'frontend' is a HAProxy action that gatehouse does not support yet.",
    ),
    (
        "a variable without its scope",
        "frontend f\n    bind 127.0.0.1:8080\n    http-request set-var(foo.x) path\n",
        3,
        "error detected in frontend 'f' while parsing 'http-request set-var(foo.x)' rule : invalid variable name 'foo.x'. A variable name must be start by its scope. The scope can be 'proc', 'sess', 'txn', 'req', 'res' or 'check'.",
    ),
    (
        "a set-var expression that does not parse",
        "frontend f\n    mode http\n    bind 127.0.0.1:8080\n    http-request set-var(txn.x) nosuchfetch\n",
        4,
        "error detected in frontend 'f' while parsing 'http-request set-var(txn.x)' rule : unknown fetch method 'nosuchfetch'.",
    ),
    (
        "server in a frontend",
        "frontend f\n    bind 127.0.0.1:8080\n    server s 127.0.0.1:80\n",
        3,
        "'server' not allowed because frontend 'f' has no backend capability.",
    ),
    (
        "server in defaults",
        "defaults\n    server s 127.0.0.1:80\n",
        2,
        "'server' not allowed in 'defaults' section.",
    ),
    (
        "duplicate proxy",
        "backend b\n    server s 127.0.0.1:80\nbackend b\n    server s 127.0.0.1:81\n",
        3,
        "backend 'b' has the same name as backend 'b' declared at t.cfg:1.",
    ),
    (
        "duplicate server",
        "backend b\n    server s 127.0.0.1:80\n    server s 127.0.0.1:81\n",
        3,
        "'server' in section 'backend' : backend 'b', another server named 's' was already defined at line 2, please use distinct names.",
    ),
    (
        "server without address",
        "backend b\n    server s\n",
        2,
        "'server' in section 'backend' expects <name> and <addr>[:<port>] as arguments.",
    ),
    (
        "port out of range",
        "backend b\n    server s 127.0.0.1:70000\n",
        2,
        "'server b/s' in section 'backend' : invalid port '70000'",
    ),
    (
        "bad timeout value",
        "defaults\n    timeout client 10parsecs\n",
        2,
        "'timeout client' in section 'defaults' : unexpected character 'p' in 'timeout client'",
    ),
    (
        "http frontend using a tcp backend: blamed on the frontend, as HAProxy does",
        "defaults\n    mode http\nfrontend f\n    bind 127.0.0.1:8080\n    default_backend b\nbackend b\n    mode tcp\n    server s 127.0.0.1:80\n",
        3,
        "http frontend 'f' (t.cfg:3) tries to use incompatible tcp backend 'b' (t.cfg:6) as its default backend (see 'mode').",
    ),
    (
        "missing use_backend target: gatehouse adds the rule's line",
        "frontend f\n    mode http\n    bind 127.0.0.1:8080\n    use_backend nope if { path / }\n",
        4,
        "Proxy 'f': unable to find required use_backend: 'nope'.",
    ),
    (
        "missing default_backend target",
        "frontend f\n    bind 127.0.0.1:8080\n    default_backend nowhere\n",
        3,
        "Proxy 'f': unable to find required default_backend: 'nowhere'.",
    ),
    (
        "userlist reference in a condition",
        "frontend f\n    mode http\n    bind 127.0.0.1:8080\n    http-request deny if !{ http_auth(nolist) }\n",
        4,
        "unable to find userlist 'nolist' referenced in arg 1 of ACL keyword 'http_auth' in proxy 'f'.",
    ),
    (
        "unknown ACL in a condition",
        "frontend f\n    mode http\n    bind 127.0.0.1:8080\n    http-request deny if nosuchacl\n",
        4,
        "error detected while parsing an 'http-request deny' condition : no such ACL : 'nosuchacl'.",
    ),
    (
        "unterminated quote",
        "frontend f\n    bind \"127.0.0.1:8080\n",
        2,
        "unmatched quote at position 10:\n  bind \"127.0.0.1:8080\n       ^",
    ),
    (
        ".if without .endif",
        ".if defined(HOME)\nglobal\n    maxconn 10\n",
        3,
        "non-terminated '.if' block.",
    ),
    (
        "unknown option, with a suggestion",
        "defaults\n    option httplogg\n",
        2,
        "unknown option 'httplogg'; did you mean 'httplog' maybe ?",
    ),
    (
        "unknown balance algorithm",
        "backend b\n    balance roundrobbin\n",
        2,
        "'balance' in section 'backend' : balance only supports 'roundrobin', 'static-rr', 'leastconn', 'source', 'uri', 'url_param', 'hdr(name)' and 'rdp-cookie(name)' options.",
    ),
    (
        "unknown bind option",
        "frontend f\n    bind 127.0.0.1:8080 fancy-opt\n",
        2,
        "'bind 127.0.0.1:8080' in section 'frontend': unknown keyword 'fancy-opt'.",
    ),
    (
        "errorfile status code",
        "defaults\n    errorfile 299 /etc/hostname\n",
        2,
        "'errorfile' in section 'defaults' : status code '299' not handled.",
    ),
    (
        "errorfile that cannot be read",
        "defaults\n    errorfile 503 /nonexistent/503.http\n",
        2,
        "'errorfile' in section 'defaults' : error opening file '/nonexistent/503.http'.",
    ),
    (
        "log facility",
        "global\n    log 127.0.0.1 local9\n",
        2,
        "'log' in section 'global' : unknown log facility 'local9'",
    ),
    (
        "setenv without a value",
        "global\n    setenv ONLY_NAME\n",
        2,
        "'setenv' in section 'global' expects a name and a value.",
    ),
    (
        "setenv takes effect on the next line",
        "global\n    setenv PORT 99999\nfrontend f\n    bind \"127.0.0.1:${PORT}\"\n",
        4,
        "'bind' in section 'frontend' : invalid port '99999'",
    ),
    (
        "unsetenv hides a variable from .if",
        "global\n    unsetenv HOME\n.if defined(HOME)\n    maxconn 10\n.else\n    nosuchkeyword\n.endif\n",
        6,
        "unknown keyword 'nosuchkeyword' in 'global' section",
    ),
    (
        "default-path mode",
        "global\n    default-path nowhere\n",
        2,
        "'default-path' in section 'global' : unsupported default-path mode 'nowhere' for 'default-path', supported modes include 'current', 'config', 'parent', and 'origin'.",
    ),
    (
        "unknown http-request action, with a suggestion",
        "frontend f\n    bind 127.0.0.1:8080\n    http-request denny\n",
        3,
        "'http-request' in section 'frontend' expects 'add-acl', 'add-header', 'allow', 'auth', 'cache-use', 'capture', 'del-acl', 'del-header', 'del-map', 'deny', 'disable-l7-retry', 'do-resolve', 'early-hint', 'normalize-uri', 'redirect', 'reject', 'replace-header', 'replace-path', 'replace-pathq', 'replace-uri', 'replace-value', 'return', 'sc-inc-gpc', 'sc-inc-gpc0', 'sc-inc-gpc1', 'sc-set-gpt', 'sc-set-gpt0', 'send-spoe-group', 'set-dst', 'set-dst-port', 'set-header', 'set-log-level', 'set-map', 'set-mark', 'set-method', 'set-nice', 'set-path', 'set-pathq', 'set-priority-class', 'set-priority-offset', 'set-query', 'set-src', 'set-src-port', 'set-timeout', 'set-tos', 'set-uri', 'set-var', 'set-var-fmt', 'silent-drop', 'strict-mode', 'tarpit', 'track-sc0', 'track-sc1', 'track-sc2', 'unset-var', 'use-service', 'wait-for-body', 'wait-for-handshake', but got 'denny' (did you mean 'deny' ?).",
    ),
    (
        "tcp-request connection in a backend",
        "backend b\n    tcp-request connection reject\n",
        2,
        "'tcp-request' in section 'backend' : tcp-request connection is not allowed because backend b is not a frontend",
    ),
    (
        "missing named defaults",
        "frontend f from nodefs\n    bind 127.0.0.1:8080\n",
        1,
        "defaults section 'nodefs' not found for frontend 'f'.",
    ),
    (
        "character not permitted in an ACL name",
        "frontend f\n    bind 127.0.0.1:8080\n    acl b/d path /\n",
        3,
        "'acl' in section 'frontend' : character '/' is not permitted in acl name 'b/d'.",
    ),
    (
        "a keyword ignored in this section still has its arguments checked",
        "backend b\n    timeout client 10parsecs\n",
        2,
        "'timeout client' in section 'backend' : unexpected character 'p' in 'timeout client'",
    ),
    (
        "option ssl-hello-chk takes no argument",
        "backend b\n    option ssl-hello-chk extra\n",
        2,
        "'option ssl-hello-chk' in section 'backend' cannot handle unexpected argument 'extra'.",
    ),
    (
        "option pgsql-check user takes one name",
        "backend b\n    option pgsql-check user x extra\n",
        2,
        "'option pgsql-check' in section 'backend' cannot handle unexpected argument 'extra'.",
    ),
    (
        "tcp-check send-binary takes hex digits",
        "backend b\n    tcp-check send-binary ZZZZ\n",
        2,
        "'tcp-check send-binary' in section 'backend' : 'ZZZZ' invalid binary string (an hex digit is expected (found 'Z')).",
    ),
    (
        "tcp-check connect port range",
        "backend b\n    tcp-check connect port 99999\n",
        2,
        "'tcp-check connect' in section 'backend' : expects a valid TCP port (from range 1 to 65535) or a sample expression, got 99999.",
    ),
    (
        "http-check expect status takes a list of codes",
        "backend b\n    mode http\n    option httpchk\n    http-check expect status 2xx\n",
        4,
        "'http-check expect' in section 'backend' : invalid character 'x' in the list of status codes.",
    ),
    (
        "http-check send options",
        "backend b\n    mode http\n    http-check send meth GET hdr Host\n",
        3,
        "'http-check send' in section 'backend' : 'hdr' expects <name> and <value> as arguments.",
    ),
    (
        "default-server in a frontend",
        "frontend f\n    bind 127.0.0.1:8080\n    default-server inter 1s\n",
        3,
        "'default-server' not allowed because frontend 'f' has no backend capability.",
    ),
    (
        "a backend's ignored default_backend must still name a backend (HAProxy)",
        "backend b\n    default_backend nowhere\n    server s 127.0.0.1:80\n",
        2,
        "Proxy 'b': unable to find required default_backend: 'nowhere'.",
    ),
    (
        "a listen section routing to itself",
        "listen l\n    bind 127.0.0.1:8080\n    default_backend l\n    server s 127.0.0.1:80\n",
        3,
        "Proxy 'l': loop detected for default_backend: 'l'.",
    ),
    (
        "stick rules need a stick-table",
        "backend b\n    stick on src\n    server s 127.0.0.1:80\n",
        2,
        "Proxy 'b': unable to find stick-table 'b'.",
    ),
    (
        "stick-table needs a size",
        "backend b\n    stick-table type ip\n",
        2,
        "'stick-table' in section 'backend' : missing size.",
    ),
    (
        "stick-table store types",
        "backend b\n    stick-table type ip size 1k store conn_cur,nope\n",
        2,
        "'stick-table' in section 'backend' : unknown store option 'nope'.",
    ),
    (
        "a stick-table Redis URL must be redis://",
        "backend b\n    stick-table type ip size 1k redis http://10.0.0.5:6379\n",
        2,
        "'stick-table' in section 'backend' : 'http://10.0.0.5:6379' is not a Redis URL (expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]).",
    ),
    (
        "stick-table Redis over TLS is not supported yet",
        "backend b\n    stick-table type ip size 1k redis rediss://10.0.0.5:6380\n",
        2,
        "'stick-table' in section 'backend' : Redis URL 'rediss://10.0.0.5:6380': only redis:// (plain TCP) is supported yet by gatehouse.",
    ),
    (
        "stick-table Redis Sentinel needs a redis URL naming the master",
        "backend b\n    stick-table type ip size 1k redis-sentinel 10.0.0.5:26379\n",
        2,
        "'stick-table' in section 'backend' : 'redis-prefix', 'redis-sync-interval' and 'redis-sentinel' need 'redis <url>'.",
    ),
    (
        "stick-table Redis Sentinel address without a port",
        "backend b\n    stick-table type ip size 1k redis redis://m redis-sentinel 10.0.0.5:26379,10.0.0.6\n",
        2,
        "'stick-table' in section 'backend' : 'redis-sentinel': '10.0.0.6' is not HOST:PORT.",
    ),
    (
        "stick-table redis-sync-interval needs redis",
        "backend b\n    stick-table type ip size 1k redis-sync-interval 50ms\n",
        2,
        "'stick-table' in section 'backend' : 'redis-prefix', 'redis-sync-interval' and 'redis-sentinel' need 'redis <url>'.",
    ),
    (
        "cookie modes",
        "backend b\n    cookie SRV rewrite insert\n",
        2,
        "'cookie' in section 'backend' : cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.",
    ),
    (
        "cookie options",
        "backend b\n    cookie SRV insert nocookie\n",
        2,
        "'cookie' in section 'backend' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', 'postonly', 'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr' options.",
    ),
    (
        "server check address",
        "backend b\n    server s 127.0.0.1:80 check addr foo..\n",
        2,
        "'server b/s' in section 'backend' : 'addr' : invalid address: 'foo..' in 'foo..'.",
    ),
    (
        "a user in a group the userlist does not declare",
        "userlist L\n    group admins\n    user u insecure-password x groups nogroup\n",
        3,
        "userlist 'L': no such group 'nogroup' specified in user 'u'",
    ),
    (
        "ca-base given twice",
        "global\n    ca-base /etc/ssl\nglobal\n    ca-base /etc/ssl\n",
        4,
        "'ca-base' in section 'global' already specified.",
    ),
    (
        "balance uri path-only is refused, not dropped",
        "backend b\n    balance uri path-only\n",
        2,
        "'balance uri path-only' in section 'backend' is not supported yet by gatehouse.",
    ),
    (
        "a three-word keyword is found whole, with HAProxy's usage message",
        "frontend f\n    bind 127.0.0.1:8080\n    capture request header Host len\n",
        3,
        "'capture request' in section 'frontend' expects 'header' <header_name> 'len' <len>.",
    ),
    (
        "close-spread-time is refused, not ignored",
        "global\n    close-spread-time 30s\n",
        2,
        "'close-spread-time' in section 'global' is a HAProxy keyword that gatehouse does not support yet.",
    ),
    (
        "a real HAProxy tuning keyword is not yet, not unknown",
        "global\n    tune.rcvbuf.client 65536\n",
        2,
        "'tune.rcvbuf.client' in section 'global' is a HAProxy keyword that gatehouse does not support yet.",
    ),
    (
        "a real HAProxy bind option is not yet, not unknown",
        "frontend f\n    bind 127.0.0.1:8080 accept-netscaler-cip 1234\n",
        2,
        "'bind 127.0.0.1:8080' in section 'frontend': keyword 'accept-netscaler-cip' is a HAProxy keyword that gatehouse does not support yet.",
    ),
    (
        "a real HAProxy server option is not yet, not unknown",
        "backend b\n    server s 127.0.0.1:80 no-tfo\n",
        2,
        "'server b/s' in section 'backend' : keyword 'no-tfo' is a HAProxy keyword that gatehouse does not support yet.",
    ),
    (
        "stats socket mode must be octal",
        "global\n    stats socket /tmp/gatehouse-test.sock mode abc\n",
        2,
        "'stats socket' in section 'global' : ''mode' : missing or invalid mode 'abc' (octal integer expected)'",
    ),
    (
        "master-worker option",
        "global\n    master-worker foo\n",
        2,
        "'master-worker' in section 'global' only supports 'no-exit-on-failure' option.",
    ),
    (
        "an integer argument, with the section named",
        "global\n    maxconn lots\n",
        2,
        "'maxconn' in section 'global' expects an integer argument, got 'lots'",
    ),
];

#[test]
fn every_broken_config_is_refused_at_the_right_line_with_the_right_message() {
    let mut problems = Vec::new();
    for (case, text, line, msg) in CASES {
        let l = load(text);
        match alerts(&l).first() {
            Some(d)
                if d.span.as_ref().map(|s| (&*s.file, s.line)) == Some((FILE, *line))
                    && d.message == *msg => {}
            _ => problems.push(format!(
                "{case}: expected alert at {FILE}:{line}: {msg:?}, got:\n{}",
                show(&l)
            )),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn every_error_is_reported_not_only_the_first() {
    let text = "global\n    maxconnn 10\nfrontend f\n    bind 127.0.0.1:99999\n    timeout client 5x\n    default_backend b\nbackend b\n    balance nope\n    server s\n";
    let l = load(text);
    let lines: Vec<u32> = alerts(&l)
        .iter()
        .filter_map(|d| d.span.as_ref().map(|s| s.line))
        .collect();
    assert_eq!(lines, [2, 4, 5, 8, 9], "{}", show(&l));
    assert_eq!(l.files_with_errors, [FILE]);
}

#[test]
fn errors_in_several_files_each_name_their_file() {
    let sources = [
        ("a.cfg".to_string(), "global\n    nbthread 0\n".to_string()),
        (
            "b.cfg".to_string(),
            "backend b\n    server s 127.0.0.1:0x\n".to_string(),
        ),
    ];
    let l = load_sources(&sources, &env);
    let at: Vec<String> = alerts(&l)
        .iter()
        .filter_map(|d| d.span.as_ref().map(ToString::to_string))
        .collect();
    assert_eq!(at, ["a.cfg:2", "b.cfg:2"], "{}", show(&l));
    assert_eq!(l.files_with_errors, ["a.cfg", "b.cfg"]);
}

#[test]
fn missing_timeouts_is_a_warning_not_an_error() {
    let l = load(
        "frontend f\n    bind 127.0.0.1:8080\n    default_backend b\nbackend b\n    server s 127.0.0.1:80\n",
    );
    assert!(!l.has_errors(), "{}", show(&l));
    let warned: Vec<u32> = l
        .diags
        .iter()
        .filter(|d| d.level == Level::Warning && d.message.contains("missing timeouts"))
        .filter_map(|d| d.span.as_ref().map(|s| s.line))
        .collect();
    assert_eq!(warned, [1, 4], "{}", show(&l));
}

/// A fresh directory under the system temp dir for one test.
fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gatehouse-cfgerr-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

#[test]
fn default_path_config_resolves_relative_files_next_to_the_config() {
    let dir = temp_dir("defpath");
    std::fs::write(
        dir.join("503.http"),
        "HTTP/1.0 503 Service Unavailable\r\n\r\ndown\n",
    )
    .expect("write errorfile");
    let name = dir.join("t.cfg").display().to_string();
    let body = "defaults\n    errorfile 503 503.http\n";
    let with = format!("global\n    default-path config\n{body}");
    let l = load_sources(&[(name.clone(), with)], &env);
    assert!(l.diags.is_empty(), "{}", show(&l));
    // Without default-path, the name is relative to the working directory.
    let l = load_sources(&[(name, body.to_string())], &env);
    let first = alerts(&l).first().map(|d| d.message.clone());
    assert_eq!(
        first.as_deref(),
        Some("'errorfile' in section 'defaults' : error opening file '503.http'."),
        "{}",
        show(&l)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `gatehouse -c -f FILE`: (exit code, stdout, stderr).
fn check(path: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("-c")
        .arg("-f")
        .arg(path)
        .output()
        .expect("run gatehouse");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_binary_exits_1_and_locates_every_alert() {
    let dir = temp_dir("bin");
    let picks = [0usize, 8, 13, 14, 15, 18, 19];
    for i in picks {
        let (case, text, line, _) = CASES[i];
        let path = dir.join(format!("case{i}.cfg"));
        std::fs::write(&path, text).expect("write config");
        let (code, stdout, stderr) = check(&path);
        assert_eq!(code, 1, "{case}: exit {code}\n{stdout}{stderr}");
        assert!(!stdout.contains("Configuration file is valid"), "{case}");
        let located = format!("[{}:", path.display());
        let first = format!("[{}:{line}]", path.display());
        let alerts: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("[ALERT]"))
            .filter(|l| {
                !l.contains("Error(s) found in configuration file")
                    && !l.contains("Fatal errors found")
            })
            .collect();
        assert!(!alerts.is_empty(), "{case}: no alert\n{stderr}");
        assert!(
            alerts[0].contains(&first),
            "{case}: first alert not at {first}\n{stderr}"
        );
        for a in &alerts {
            assert!(
                a.contains(&located),
                "{case}: alert without file:line: {a}\n{stderr}"
            );
        }
        assert!(
            stderr.contains("Fatal errors found in configuration."),
            "{case}\n{stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_binary_accepts_a_config_with_warnings_only() {
    let dir = temp_dir("warn");
    let path = dir.join("warn.cfg");
    std::fs::write(
        &path,
        "frontend f\n    bind 127.0.0.1:8080\n    default_backend b\nbackend b\n    server s 127.0.0.1:80\n",
    )
    .expect("write config");
    let (code, stdout, stderr) = check(&path);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("Configuration file is valid"), "{stdout}");
    assert!(
        stderr.contains("[WARNING]") && stderr.contains("missing timeouts"),
        "{stderr}"
    );
    assert!(!stderr.contains("[ALERT]"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// (case, configuration, line, exact warning): configurations that load, with a
/// warning saying what does not happen — never silently ignored.
const WARNINGS: &[(&str, &str, u32, &str)] = &[
    (
        "http-request rules in a tcp frontend (HAProxy's warning)",
        "frontend f\n    mode tcp\n    bind 127.0.0.1:8080\n    http-request deny\n",
        4,
        "'http-request' rules ignored for frontend 'f' as they require HTTP mode.",
    ),
    (
        "http-response rules in a tcp backend (HAProxy's warning)",
        "backend b\n    http-response del-header x\n    server s 127.0.0.1:80\n",
        2,
        "'http-response' rules ignored for backend 'b' as they require HTTP mode.",
    ),
    (
        "stats in a tcp backend (HAProxy's warning)",
        "backend b\n    stats enable\n    server s 127.0.0.1:80\n",
        1,
        "'stats' statement ignored for backend 'b' as it requires HTTP mode.",
    ),
    (
        "a second maxconn in another global section",
        "global\n    maxconn 10\nglobal\n    maxconn 20\n",
        4,
        "'maxconn' already specified. Continuing.",
    ),
    (
        "a keyword with no effect in this section",
        "backend b\n    timeout client 10s\n    server s 127.0.0.1:80\n",
        2,
        "'timeout client' ignored because backend 'b' has no frontend capability.",
    ),
];

#[test]
fn harmless_or_inactive_keywords_load_with_a_warning_saying_so() {
    let mut problems = Vec::new();
    for (case, text, line, msg) in WARNINGS {
        let l = load(text);
        let found = l.diags.iter().any(|d| {
            d.level == Level::Warning
                && d.span.as_ref().map(|s| (&*s.file, s.line)) == Some((FILE, *line))
                && d.message == *msg
        });
        if l.has_errors() || !found {
            problems.push(format!(
                "{case}: expected no alert and a warning at {FILE}:{line}: {msg:?}, got:\n{}",
                show(&l)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
