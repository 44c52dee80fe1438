//! The errors of wrong `http-request`/`http-response` action arguments, word for word
//! as HAProxy 2.6 prints them: `gatehouse -c` and `haproxy -c` check the same file and
//! their first `[ALERT]` lines must be equal once the pid is masked (`parsing
//! [file:line] : error detected in frontend 'fe' while parsing 'http-request ACT' rule :
//! MESSAGE.`, no extra `'http-request' in section 'frontend' :` prefix).

mod support;

use support::{TempDir, check, gatehouse_bin, require_haproxy};

/// Wrong rules, each alone on line 8 of a small config.
const RULES: &[&str] = &[
    "http-request set-header X-A",
    "http-request add-header X-A",
    "http-request replace-header X-A",
    "http-request set-path",
    "http-request del-header",
    "http-request del-header X-A -m foo",
    "http-request redirect",
    "http-request redirect location",
    "http-request redirect location /x code 999",
    "http-request deny deny_status abc",
    "http-request return status 999",
    "http-request set-var(x) str(a)",
    "http-request set-var(txn.x)",
    "http-request set-var(txn.x",
    "http-request set-log-level bogus",
    "http-request track-sc0",
    "http-response set-status",
    "http-response set-status abc",
];

#[test]
fn wrong_action_arguments_are_reported_in_haproxys_words() {
    let haproxy = require_haproxy();
    let dir = TempDir::new("rule-errors");
    let mut differ = Vec::new();
    for (i, rule) in RULES.iter().enumerate() {
        let cfg = format!(
            "defaults\n    mode http\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\nfrontend fe\n    bind 127.0.0.1:1\n    {rule}\n    default_backend be\nbackend be\n    server s 127.0.0.1:1\n"
        );
        let path = dir.write(&format!("r{i}.cfg"), cfg);
        let (hc, _, he) = check(&haproxy, &[&path]);
        let (gc, _, ge) = check(&gatehouse_bin(), &[&path]);
        assert_eq!(hc, 1, "haproxy accepted {rule}: {he}");
        assert_eq!(gc, 1, "gatehouse accepted {rule}: {ge}");
        let (h, g) = (
            support::cfgcheck::first_alert_text(&he),
            support::cfgcheck::first_alert_text(&ge),
        );
        assert!(h.contains(":8] : "), "{h}");
        if h != g {
            differ.push(format!("{rule}\n  haproxy:   {h}\n  gatehouse: {g}"));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}
