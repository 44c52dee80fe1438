//! A condition may only read data available where its rule is evaluated: connection
//! fetches (`src`, `dst_port`…) everywhere, request fetches (`path`, `hdr()`,
//! `method`…) in request rules (`tcp-request content`, `http-request`, `use_backend`),
//! response fetches (`status`) in `http-response` rules only.
//!
//! HAProxy 2.6.12 accepts a misplaced fetch with a warning (`anonymous acl will never
//! match because it uses keyword 'path_beg' which is incompatible with 'frontend
//! http-response header rule'`) and the rule then never matches; gatehouse refuses it
//! at load, at the rule's line. Each refused case below is checked to draw that
//! warning from `haproxy -c`, and each accepted one to be valid without it.

mod support;

use gatehouse::load::load_sources;
use std::process::Command;

const FILE: &str = "t.cfg";

/// A frontend with `rule` on line 8, in `mode http`.
fn config(rule: &str) -> String {
    format!(
        "defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n\
         frontend f\n  bind 127.0.0.1:18080\n  {rule}\n  default_backend b\n\
         backend b\n  server s 127.0.0.1:1\n"
    )
}

/// (rule, the prefix of gatehouse's message naming the rule)
const REFUSED: &[(&str, &str)] = &[
    (
        "tcp-request connection reject if { path_beg /x }",
        "'tcp-request connection reject' : error detected in frontend 'f' while parsing 'if' condition",
    ),
    (
        "tcp-request connection reject if { method GET }",
        "'tcp-request connection reject' : error detected in frontend 'f' while parsing 'if' condition",
    ),
    (
        "tcp-request connection reject if { src 10.0.0.0/8 } || { hdr(host) -i a }",
        "'tcp-request connection reject' : error detected in frontend 'f' while parsing 'if' condition",
    ),
    (
        "tcp-request content reject if { status 200 }",
        "'tcp-request content reject' : error detected in frontend 'f' while parsing 'if' condition",
    ),
    (
        "http-request deny if { status 200 }",
        "error detected while parsing an 'http-request deny' condition",
    ),
    (
        "use_backend b if { status 200 }",
        "error detected while parsing switching rule",
    ),
    (
        "http-response deny if { path_beg /x }",
        "error detected while parsing an 'http-response deny' condition",
    ),
    (
        "http-response deny if { hdr(host) -i a }",
        "error detected while parsing an 'http-response deny' condition",
    ),
    (
        "http-response deny unless { status 200 } { url_param(x) 1 }",
        "error detected while parsing an 'http-response deny' condition",
    ),
    (
        "http-response deny if { status 200 } || { base -m beg a }",
        "error detected while parsing an 'http-response deny' condition",
    ),
];

const ACCEPTED: &[&str] = &[
    "tcp-request connection reject if { src 10.0.0.0/8 }",
    "tcp-request connection reject if { dst_port 81 } !{ src 127.0.0.1 }",
    "tcp-request content reject if { path_beg /x }",
    "tcp-request content reject if { src 10.0.0.0/8 } { method POST }",
    "http-request deny if { src 10.0.0.0/8 } { method POST }",
    "http-request deny if { hdr(host) -i a } || { url_param(x) 1 }",
    "use_backend b if { path_end .png }",
    "http-response deny if { status 500 }",
    "http-response deny if { src 10.0.0.0/8 } || { status 404 }",
    // HAProxy keeps the method for the whole transaction.
    "http-response deny if { method GET } { status 404 }",
];

fn env(_: &str) -> Option<String> {
    None
}

/// `haproxy -c` output (stdout and stderr) for `text`.
fn haproxy_check(text: &str) -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("gh-acl-stages-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(FILE);
    std::fs::write(&path, text).expect("write");
    let out = Command::new(support::require_haproxy())
        .arg("-c")
        .arg("-f")
        .arg(&path)
        .output()
        .expect("haproxy -c");
    assert!(out.status.success(), "haproxy refused:\n{text}");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn fetches_unavailable_at_the_rules_stage_are_refused_at_its_line() {
    for (rule, prefix) in REFUSED {
        let text = config(rule);
        let loaded = load_sources(&[(FILE.to_string(), text.clone())], &env);
        let alerts: Vec<_> = loaded.diags.iter().filter(|d| d.is_alert()).collect();
        assert_eq!(alerts.len(), 1, "{rule}: {:?}", loaded.diags);
        assert_eq!(alerts[0].span.as_ref().map(|s| s.line), Some(8), "{rule}");
        assert_eq!(
            alerts[0].message,
            format!("{prefix} : condition uses data that is not available at this stage."),
            "{rule}"
        );
        let reference = haproxy_check(&text);
        assert!(
            reference.contains(&format!("/{FILE}:8]"))
                && reference.contains("will never match")
                && reference.contains("incompatible with"),
            "{rule}: haproxy did not warn:\n{reference}"
        );
    }
}

#[test]
fn fetches_available_at_the_rules_stage_are_accepted() {
    for rule in ACCEPTED {
        let text = config(rule);
        let loaded = load_sources(&[(FILE.to_string(), text.clone())], &env);
        assert!(
            loaded.diags.iter().all(|d| !d.is_alert()),
            "{rule}: {:?}",
            loaded.diags
        );
        let reference = haproxy_check(&text);
        assert!(
            reference.contains("Configuration file is valid") && !reference.contains("WARNING"),
            "{rule}: haproxy warned:\n{reference}"
        );
    }
}

/// A named ACL is judged by all its lines: one line reading the request makes it
/// unusable in `http-response` (HAProxy: "acl 'p' involves keywords 'path_beg' which
/// is incompatible with 'frontend http-response header rule'").
#[test]
fn a_named_acl_is_judged_by_every_line_with_its_name() {
    let text = config("acl p status 200\n  acl p path_beg /x\n  http-response deny if p");
    let loaded = load_sources(&[(FILE.to_string(), text.clone())], &env);
    let alerts: Vec<_> = loaded.diags.iter().filter(|d| d.is_alert()).collect();
    assert_eq!(alerts.len(), 1, "{:?}", loaded.diags);
    assert_eq!(alerts[0].span.as_ref().map(|s| s.line), Some(10));
    let reference = haproxy_check(&text);
    assert!(
        reference.contains(&format!(
            "/{FILE}:10] : acl 'p' involves keywords 'path_beg'"
        )),
        "{reference}"
    );
}

/// `haproxy -c` on `text`: whether it accepted it, and its output.
fn haproxy_verdict(text: &str) -> (bool, String) {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("gh-acl-be-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(FILE);
    std::fs::write(&path, text).expect("write");
    let out = Command::new(support::require_haproxy())
        .arg("-c")
        .arg("-f")
        .arg(&path)
        .output()
        .expect("haproxy -c");
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// What a configuration check says about one rule: refused, accepted with a warning,
/// accepted silently.
#[derive(Debug, PartialEq)]
enum Verdict {
    Refused,
    Warned,
    Valid,
}

/// (rule in a `frontend`, the verdict, a part of gatehouse's message at line 8)
const BACKEND_FETCHES: &[(&str, Verdict, &str)] = &[
    // A frontend's request rules run before the backend is chosen.
    (
        "http-request set-header X %[be_name]",
        Verdict::Refused,
        "needs 'backend' which is not available here",
    ),
    (
        "http-request set-header X %[be_name,lower]",
        Verdict::Refused,
        "needs 'backend'",
    ),
    (
        "http-request redirect location /%[be_name]",
        Verdict::Refused,
        "'http-request redirect' rule : sample fetch <be_name]>",
    ),
    (
        "http-request set-var(txn.a) be_name",
        Verdict::Refused,
        "needs 'backend'",
    ),
    (
        "http-request capture be_name len 10",
        Verdict::Refused,
        "needs 'backend'",
    ),
    (
        "unique-id-format %[be_name]",
        Verdict::Refused,
        "needs 'backend'",
    ),
    // A backend fetch without its argument means the frontend itself.
    (
        "http-request set-header X %[nbsrv]",
        Verdict::Refused,
        "'nbsrv' left out means this proxy, which has not backend capability",
    ),
    (
        "http-response set-header X %[be_conn]",
        Verdict::Refused,
        "'be_conn' left out means this proxy",
    ),
    // Responses know their backend.
    ("http-response set-header X %[be_name]", Verdict::Valid, ""),
    (
        "http-after-response set-header X %[be_name]",
        Verdict::Valid,
        "",
    ),
    ("http-request set-header X %[nbsrv(b)]", Verdict::Valid, ""),
    ("http-request set-header X %[fe_name]", Verdict::Valid, ""),
    // In conditions HAProxy only warns.
    (
        "use_backend b if { be_name fe }",
        Verdict::Warned,
        "anonymous acl will never match because it uses keyword 'be_name' which is incompatible with 'frontend use-backend rule'",
    ),
    (
        "tcp-request content reject if { be_name foo }",
        Verdict::Warned,
        "anonymous acl will never match in 'tcp-request content' because it uses keyword 'be_name'",
    ),
    (
        "acl a be_name foo\n  http-request deny if a",
        Verdict::Warned,
        "acl 'a' will never match because it only involves keywords that are incompatible with 'frontend http-request header rule'",
    ),
];

/// Backend fetches in a frontend: refused, warned about or accepted exactly where
/// `haproxy -c` does, at the same line; a `listen` section has its backend.
#[test]
fn backend_fetches_in_a_frontend_are_judged_as_haproxy_judges_them() {
    for (rule, verdict, part) in BACKEND_FETCHES {
        let text = config(rule);
        let loaded = load_sources(&[(FILE.to_string(), text.clone())], &env);
        let alerts: Vec<_> = loaded.diags.iter().filter(|d| d.is_alert()).collect();
        let ours = if !alerts.is_empty() {
            Verdict::Refused
        } else if loaded.diags.is_empty() {
            Verdict::Valid
        } else {
            Verdict::Warned
        };
        assert_eq!(&ours, verdict, "{rule}: {:?}", loaded.diags);
        if let Some(d) = loaded.diags.first() {
            let last = 7 + rule.lines().count() as u32;
            assert_eq!(d.span.as_ref().map(|s| s.line), Some(last), "{rule}");
            assert!(d.message.contains(part), "{rule}: {}", d.message);
        }
        let (ok, out) = haproxy_verdict(&text);
        let theirs = if !ok {
            Verdict::Refused
        } else if out.contains("WARNING") {
            Verdict::Warned
        } else {
            Verdict::Valid
        };
        assert_eq!(&theirs, verdict, "{rule}: haproxy said\n{out}");
    }
    let listen = "defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\n\
        listen l\n  bind 127.0.0.1:18080\n  http-request set-header X %[be_name]\n  unique-id-format %[be_name]\n  http-request set-header Y %[nbsrv]\n  server s 127.0.0.1:1\n";
    let loaded = load_sources(&[(FILE.to_string(), listen.to_string())], &env);
    assert!(loaded.diags.is_empty(), "{:?}", loaded.diags);
    assert!(haproxy_verdict(listen).0);
}
