//! Fetches a `log-format` cannot read: HAProxy 2.6 builds the log line at the end of
//! the stream, when the request and response buffers and their volatile headers are
//! gone, and refuses those fetches at load (`sample fetch <…> may not be reliably used
//! here because it needs '…' which is not available here`), in a frontend and in
//! `defaults` alike. `gatehouse -c` and `haproxy -c` check the same files: the same
//! refusals, word for word, and the same acceptances.

mod support;

use support::{TempDir, check, gatehouse_bin, require_haproxy};

/// Refused at log time, one of each source HAProxy names.
const REFUSED: &[&str] = &[
    "req.body",
    "req.body_len",
    "req.body_size",
    "req.body_param(a)",
    "res.body",
    "res.body_len",
    "res.hdr(x)",
    "res.hdr_cnt(x)",
    "req.hdr(host)",
    "hdr(host)",
    "path",
    "url",
    "req.cook(a)",
    "res.cook(a)",
    "req.len",
    "req.payload(0,1)",
    "req.ssl_sni",
    "res.len",
];

/// Readable at log time (in `mode tcp`, where gatehouse renders `%[…]` in log lines).
const ACCEPTED: &[&str] = &[
    "src",
    "dst_port",
    "fe_name",
    "be_name",
    "method",
    "status",
    "ssl_fc",
    "unique-id",
    "str(x)",
    "wait_end",
];

/// A config with `log-format "%[fetch]"` in `section` (`frontend` or `defaults`).
fn config(section: &str, mode: &str, fetch: &str) -> String {
    let lf = format!("    log stdout local0\n    log-format \"%[{fetch}]\"\n");
    let (in_defaults, in_frontend) = if section == "defaults" {
        (lf.as_str(), "")
    } else {
        ("", lf.as_str())
    };
    format!(
        "defaults\n    mode {mode}\n    timeout client 1s\n    timeout server 1s\n    timeout connect 1s\n{in_defaults}\
         frontend fe\n    bind 127.0.0.1:1\n{in_frontend}    default_backend be\n\
         backend be\n    server s 127.0.0.1:1\n"
    )
}

#[test]
fn fetches_gone_at_log_time_are_refused_as_haproxy_does() {
    let haproxy = require_haproxy();
    let dir = TempDir::new("lf-validity");
    let mut differ = Vec::new();
    for section in ["frontend", "defaults"] {
        for (i, fetch) in REFUSED.iter().enumerate() {
            let path = dir.write(&format!("{section}{i}.cfg"), config(section, "http", fetch));
            let (hc, _, he) = check(&haproxy, &[&path]);
            let (gc, _, ge) = check(&gatehouse_bin(), &[&path]);
            assert_eq!(hc, 1, "haproxy accepted {fetch} in {section}: {he}");
            assert_eq!(gc, 1, "gatehouse accepted {fetch} in {section}: {ge}");
            let (h, g) = (
                support::cfgcheck::first_alert_text(&he),
                support::cfgcheck::first_alert_text(&ge),
            );
            assert!(h.contains("may not be reliably used here"), "{h}");
            if h != g {
                differ.push(format!(
                    "{fetch} ({section})\n  haproxy:   {h}\n  gatehouse: {g}"
                ));
            }
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

#[test]
fn fetches_kept_until_log_time_are_accepted_by_both() {
    let haproxy = require_haproxy();
    let dir = TempDir::new("lf-validity-ok");
    for (i, fetch) in ACCEPTED.iter().enumerate() {
        let path = dir.write(&format!("ok{i}.cfg"), config("frontend", "tcp", fetch));
        let (hc, _, he) = check(&haproxy, &[&path]);
        let (gc, _, ge) = check(&gatehouse_bin(), &[&path]);
        assert_eq!(
            (hc, gc),
            (0, 0),
            "{fetch}\n  haproxy: {he}\n  gatehouse: {ge}"
        );
    }
}
