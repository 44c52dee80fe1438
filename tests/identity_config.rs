//! The `identity` section and `http-request authenticate` in `gatehouse -c`: the whole
//! block of the issue loads; an unknown keyword, a bad value, a keyword not supported
//! yet, a section without keys, and `authenticate` naming no section are each an
//! error at their file:line.

mod support;

use support::*;

const BLOCK: &str = r#"identity corp
    issuer https://idp.example.com
    client-id gatehouse
    client-secret "${OIDC_CLIENT_SECRET}"
    audience gatehouse-api
    scopes openid email profile groups
    groups-claim groups
    callback-path /.gatehouse/callback
    logout-path /.gatehouse/logout
    cookie-name gh_session
    cookie-secret "${GH_COOKIE_SECRET}"
    session-lifetime 8h
    allowed-algs RS256 ES256 EdDSA
    clock-skew 60s
    jwks-file /etc/gatehouse/jwks.json
    audit-log /var/log/gatehouse/audit.log
    keys-refresh 5m
    keys-min-interval 10s

frontend public
    mode http
    bind 127.0.0.1:8080
    timeout client 5s
    http-request authenticate corp if !{ path_beg /public/ }
    acl admins identity_groups -m str admins
    http-request deny deny_status 403 if { path_beg /admin/ } !admins
    http-request set-header X-Auth-Email %[identity_email]
    http-request set-header X-Claim %[identity_claim(realm.roles)]
    http-request set-header X-Via %[identity_method]-%[identity_name]-%[identity_sub]
    http-request deny if !{ identity_valid } { path_beg /api/ }
    use_backend admin_be if admins
    default_backend app

backend app
    mode http
    timeout connect 1s
    timeout server 5s
    server s 127.0.0.1:9000

backend admin_be
    mode http
    timeout connect 1s
    timeout server 5s
    server s 127.0.0.1:9001
"#;

fn check_text(text: &str) -> (i32, String) {
    let dir = std::env::temp_dir().join(format!("gh-idcfg-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("haproxy.cfg");
    std::fs::write(&p, text).unwrap();
    let out = std::process::Command::new(gatehouse_bin())
        .arg("-c")
        .arg("-f")
        .arg(&p)
        .env("OIDC_CLIENT_SECRET", "client-secret-value")
        .env("GH_COOKIE_SECRET", "a-cookie-secret-of-32-characters!")
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn the_issues_configuration_block_loads() {
    let (code, out) = check_text(BLOCK);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Configuration file is valid"), "{out}");
}

#[test]
fn mistakes_in_the_section_are_errors_at_their_line() {
    for (bad, line, needle) in [
        (
            "    isuer https://x",
            2,
            "unknown keyword 'isuer' in 'identity' section; did you mean 'issuer' maybe ?",
        ),
        (
            "    clock-skew soon",
            2,
            "'clock-skew' in section 'identity'",
        ),
        (
            "    allowed-algs RS256 HS256",
            2,
            "unsupported algorithm 'HS256'",
        ),
        ("    allowed-algs none", 2, "unsupported algorithm 'none'"),
        ("    cookie-secret short", 2, "at least 16 characters"),
        (
            "    callback-path cb",
            2,
            "expects a path starting with '/'",
        ),
        (
            "    assertion-header X:Assert",
            2,
            "invalid header name 'X:Assert'",
        ),
        (
            "    audit-required extra",
            2,
            "cannot handle unexpected argument 'extra'",
        ),
    ] {
        let text = BLOCK.replacen("    issuer https://idp.example.com", bad, 1);
        let (code, out) = check_text(&text);
        assert_ne!(code, 0, "{bad}: {out}");
        assert!(
            out.contains(&format!("haproxy.cfg:{line}]")),
            "{bad}: {out}"
        );
        assert!(out.contains(needle), "{bad}: {out}");
    }
}

#[test]
fn a_section_needs_keys_and_authenticate_needs_a_section() {
    let text = BLOCK
        .replace("    jwks-file /etc/gatehouse/jwks.json\n", "")
        .replace("    issuer https://idp.example.com\n", "");
    let (code, out) = check_text(&text);
    assert_ne!(code, 0);
    assert!(
        out.contains("haproxy.cfg:1]") && out.contains("needs 'issuer' or 'jwks-file'"),
        "{out}"
    );
    let text = BLOCK.replace("authenticate corp if", "authenticate corp partners if");
    let (code, out) = check_text(&text);
    assert_ne!(code, 0);
    assert!(out.contains("no such identity section 'partners'"), "{out}");
    assert!(out.contains("haproxy.cfg:24]"), "{out}");
    let text = BLOCK.replace("authenticate corp if", "authenticate if");
    let (code, _) = check_text(&text);
    assert_ne!(code, 0);
}
