//! What a `bind … ssl` handshake offers, seen by `openssl s_client`: the OCSP response
//! stapled from `FILE.ocsp` (checked against the certificate at load as HAProxy does:
//! ignored with a warning when it is about another one, refused without an issuer) and the key-exchange groups of `curves`, `ecdhe` and
//! `ssl-default-bind-curves` (compared with HAProxy 2.6 on the same files);
//! `ssl-dh-param-file` accepted with a warning.

mod support;
use support::pki::{Pki, s_client};
use support::*;

const DEFAULTS: &str =
    "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n";

fn stapling_cfg(port: u16, crt: &str) -> String {
    format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:{port} ssl crt {crt}\n  http-request return status 200\n"
    )
}

/// `openssl s_client -status` to `port` with `version` (`-tls1_2`/`-tls1_3`).
fn status(port: u16, version: &str) -> String {
    let pki = Pki::get();
    let s = s_client(
        port,
        &[
            version,
            "-status",
            "-servername",
            "www.site.test",
            "-CAfile",
            &pki.p("ca.pem"),
        ],
        "",
    );
    assert!(s.ok, "handshake failed: {}", s.out);
    s.out
}

#[test]
fn an_ocsp_file_beside_the_certificate_is_stapled_like_haproxy() {
    let pki = Pki::get();
    let mut proxies: Vec<(&str, u16, Daemon)> = Vec::new();
    let port = free_port();
    let g = Gatehouse::start(&stapling_cfg(port, &pki.p("stapled/site.pem")), &[port]);
    proxies.push(("gatehouse", port, g.0));
    if haproxy_bin().is_some() {
        let hp = free_port();
        let h = Haproxy::start(&stapling_cfg(hp, &pki.p("stapled/site.pem")), &[hp]);
        proxies.push(("haproxy", hp, h.0));
    }
    for (who, port, _d) in &proxies {
        for v in ["-tls1_2", "-tls1_3"] {
            let out = status(*port, v);
            assert!(
                out.contains("OCSP Response Status: successful"),
                "{who} {v}: {out}"
            );
            assert!(out.contains("Cert Status: good"), "{who} {v}: {out}");
            assert!(out.contains("Serial Number: 1002"), "{who} {v}: {out}");
        }
    }
    // Without a .ocsp file, nothing is stapled.
    let plain = free_port();
    let _p = Gatehouse::start(&stapling_cfg(plain, &pki.p("site.pem")), &[plain]);
    let out = status(plain, "-tls1_3");
    assert!(out.contains("OCSP response: no response sent"), "{out}");
}

/// `gatehouse -c` and `haproxy -c` on `cfg`: each one's exit code and output.
fn both_check(cfg: &std::path::Path) -> Vec<(&'static str, i32, String)> {
    let mut out = Vec::new();
    let (code, o, e) = check(&gatehouse_bin(), &[cfg]);
    out.push(("gatehouse", code, o + &e));
    if let Some(h) = haproxy_bin() {
        let (code, o, e) = check(&h, &[cfg]);
        out.push(("haproxy", code, o + &e));
    }
    out
}

#[test]
fn an_ocsp_file_about_another_certificate_or_unusable_is_ignored_with_haproxys_warning() {
    let pki = Pki::get();
    let dir = TempDir::new("tls-ocsp");
    // default.pem (serial 1001) with the response made for site.pem (serial 1002).
    std::fs::copy(pki.path("default.pem"), dir.path().join("default.pem")).unwrap();
    std::fs::copy(pki.path("ca.pem"), dir.path().join("default.pem.issuer")).unwrap();
    let stapled = std::fs::read(pki.path("stapled/site.pem.ocsp")).unwrap();
    let crt = dir.path().join("default.pem").display().to_string();
    let port = free_port();
    let cfg = dir.write("ocsp.cfg", stapling_cfg(port, &crt));
    for (bytes, says) in [
        (
            &stapled[..],
            "Loading: OCSP single response: Certificate ID does not match certificate and issuer. Content will be ignored.",
        ),
        (
            &[0x30u8, 0x03, 0x0a, 0x01, 0x03][..],
            "Loading: OCSP response status not successful. Content will be ignored.",
        ),
        (
            &b"not der"[..],
            "Loading: Unable to parse OCSP response. Content will be ignored.",
        ),
    ] {
        dir.write("default.pem.ocsp", bytes);
        for (who, code, out) in both_check(&cfg) {
            assert_eq!(code, 0, "{who}: {out}");
            assert!(
                out.contains("[WARNING]") && out.contains(says),
                "{who}: {out}"
            );
        }
    }
    // The mismatching response is not stapled.
    dir.write("default.pem.ocsp", &stapled);
    let _g = Gatehouse::start(&stapling_cfg(port, &crt), &[port]);
    let s = s_client(
        port,
        &["-tls1_3", "-status", "-servername", "default.test"],
        "",
    );
    assert!(s.ok, "{}", s.out);
    assert!(
        s.out.contains("OCSP response: no response sent"),
        "{}",
        s.out
    );
}

#[test]
fn an_ocsp_file_without_its_issuer_is_a_config_error_as_in_haproxy() {
    let pki = Pki::get();
    let dir = TempDir::new("tls-ocsp-issuer");
    // site.pem holds no chain and no site.pem.issuer is beside it.
    std::fs::copy(pki.path("site.pem"), dir.path().join("site.pem")).unwrap();
    std::fs::copy(
        pki.path("stapled/site.pem.ocsp"),
        dir.path().join("site.pem.ocsp"),
    )
    .unwrap();
    let crt = dir.path().join("site.pem").display().to_string();
    let cfg = dir.write("bad.cfg", stapling_cfg(free_port(), &crt));
    let says = "site.pem.ocsp' is present and activates OCSP but it is impossible to compute the OCSP certificate ID (maybe the issuer could not be found)'.";
    for (who, code, out) in both_check(&cfg) {
        assert_ne!(code, 0, "{who}: {out}");
        assert!(
            out.contains(says) && out.contains("bad.cfg:7"),
            "{who}: {out}"
        );
    }
}

/// Whether a TLSv1.3 handshake offering only `group` succeeds, and the key it used.
fn with_group(port: u16, version: &str, group: &str) -> Option<String> {
    let s = s_client(
        port,
        &[version, "-groups", group, "-servername", "www.site.test"],
        "",
    );
    if !s.ok {
        return None;
    }
    s.out
        .lines()
        .find_map(|l| l.strip_prefix("Server Temp Key: "))
        .map(str::to_owned)
}

fn curves_cfg(p: [u16; 3], crt: &str) -> String {
    format!(
        "global\n  ssl-default-bind-curves X25519\n{DEFAULTS}\
         frontend a\n  bind 127.0.0.1:{} ssl crt {crt} curves P-384:P-256\n  http-request return status 200\n\
         frontend b\n  bind 127.0.0.1:{} ssl crt {crt} ecdhe prime256v1\n  http-request return status 200\n\
         frontend c\n  bind 127.0.0.1:{} ssl crt {crt}\n  http-request return status 200\n",
        p[0], p[1], p[2]
    )
}

#[test]
fn curves_ecdhe_and_the_global_default_restrict_the_key_exchange_like_haproxy() {
    let pki = Pki::get();
    // An RSA certificate: in TLSv1.2 the client's groups also bound an ECDSA key's curve.
    let crt = pki.p("default.pem");
    let mut proxies = Vec::new();
    let g = [free_port(), free_port(), free_port()];
    proxies.push(("gatehouse", g, Gatehouse::start(&curves_cfg(g, &crt), &g).0));
    if haproxy_bin().is_some() {
        let h = [free_port(), free_port(), free_port()];
        proxies.push(("haproxy", h, Haproxy::start(&curves_cfg(h, &crt), &h).0));
    }
    for (who, [a, b, c], _d) in &proxies {
        for v in ["-tls1_2", "-tls1_3"] {
            // curves P-384:P-256: X25519 alone is refused; P-384 is used.
            assert_eq!(with_group(*a, v, "X25519"), None, "{who} {v}");
            let k = with_group(*a, v, "P-384").unwrap_or_default();
            assert!(k.contains("384"), "{who} {v}: {k}");
            assert!(with_group(*a, v, "P-256").is_some(), "{who} {v}");
            // The global ssl-default-bind-curves X25519 applies to c, which has none.
            assert_eq!(with_group(*c, v, "P-256"), None, "{who} {v}");
            let k = with_group(*c, v, "X25519").unwrap_or_default();
            assert!(k.contains("X25519"), "{who} {v}: {k}");
            // b's ecdhe prime256v1 is not used: a curves list (here the global one)
            // wins over ecdhe, as in HAProxy.
            assert!(with_group(*b, v, "X25519").is_some(), "{who} {v}");
            assert_eq!(with_group(*b, v, "P-256"), None, "{who} {v}");
        }
    }
    // Without a curves list, ecdhe names the one curve.
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend e\n  bind 127.0.0.1:{port} ssl crt {crt} ecdhe prime256v1\n  http-request return status 200\n"
    );
    let _e = Gatehouse::start(&cfg, &[port]);
    for v in ["-tls1_2", "-tls1_3"] {
        assert_eq!(with_group(port, v, "X25519"), None, "{v}");
        assert!(with_group(port, v, "P-256").is_some(), "{v}");
    }
}

#[test]
fn an_unknown_curve_is_a_config_error_and_ssl_dh_param_file_is_accepted_with_a_warning() {
    let pki = Pki::get();
    let dir = TempDir::new("tls-curves");
    let crt = pki.p("site.pem");
    for (opt, says) in [
        ("curves X25519:P-521", "unknown curve name 'P-521'"),
        ("ecdhe secp521r1", "unknown curve name 'secp521r1'"),
    ] {
        let bad = dir.write(
            "bad.cfg",
            format!(
                "{DEFAULTS}frontend f\n  bind 127.0.0.1:{} ssl crt {crt} {opt}\n",
                free_port()
            ),
        );
        let (code, _, err) = check(&gatehouse_bin(), &[&bad]);
        assert_ne!(code, 0, "{opt}");
        assert!(
            err.contains(says) && err.contains("bad.cfg:7"),
            "{opt}: {err}"
        );
    }
    let out = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-genparam",
            "-algorithm",
            "DH",
            "-pkeyopt",
            "group:ffdhe2048",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let dh = dir.write("dh.pem", &out.stdout);
    let port = free_port();
    let cfg = format!(
        "global\n  ssl-dh-param-file {}\n{DEFAULTS}frontend f\n  bind 127.0.0.1:{port} ssl crt {crt}\n  http-request return status 200\n",
        dh.display()
    );
    let file = dir.write("dh.cfg", &cfg);
    let (code, out, err) = check(&gatehouse_bin(), &[&file]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        format!("{out}{err}").contains("'ssl-dh-param-file' has no effect in gatehouse and is ignored: gatehouse's TLS (rustls) negotiates ECDHE key exchanges only"),
        "{out}{err}"
    );
    if let Some(h) = haproxy_bin() {
        let (code, out, err) = check(&h, &[&file]);
        assert_eq!(code, 0, "haproxy: {out}{err}");
    }
    let _g = Gatehouse::start(&cfg, &[port]);
    assert!(s_client(port, &["-servername", "www.site.test"], "").ok);
    // A file without DH parameters is refused, as HAProxy refuses it.
    let bad = dir.write("dh-bad.cfg", cfg.replace(&dh.display().to_string(), &crt));
    let (code, _, err) = check(&gatehouse_bin(), &[&bad]);
    assert_ne!(code, 0);
    assert!(
        err.contains("unable to load DH parameters") && err.contains("dh-bad.cfg:2"),
        "{err}"
    );
}

#[test]
fn server_curves_limit_the_groups_offered_to_a_tls_server() {
    let pki = Pki::get();
    let (front, back) = (free_port(), free_port());
    let cfg = format!(
        "{DEFAULTS}frontend tls\n  bind 127.0.0.1:{back} ssl crt {} curves P-384\n  http-request return status 200\n\
         frontend f\n  bind 127.0.0.1:{front}\n  use_backend ok if {{ path /ok }}\n  default_backend ko\n\
         backend ok\n  server s 127.0.0.1:{back} ssl verify none curves secp384r1:X25519\n\
         backend ko\n  server s 127.0.0.1:{back} ssl verify none curves X25519\n",
        pki.p("site.pem")
    );
    let _g = Gatehouse::start(&cfg, &[front, back]);
    let code = |path: &str| {
        support::pki::curl(&[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("http://127.0.0.1:{front}{path}"),
        ])
    };
    assert_eq!(code("/ok").as_deref(), Some("200"));
    assert_eq!(code("/ko").as_deref(), Some("503"));
}

fn failures_cfg(p: [u16; 3], crt: &str) -> String {
    format!(
        "global\n  log stdout format raw local0\n{DEFAULTS}  log global\n  option httplog\n\
         frontend web\n  bind 127.0.0.1:{} ssl crt {crt}\n  bind 127.0.0.1:{} ssl crt {crt} name secure\n  http-request return status 200\n\
         frontend quiet\n  option dontlognull\n  bind 127.0.0.1:{} ssl crt {crt}\n  http-request return status 200\n",
        p[0], p[1], p[2]
    )
}

/// Connects and closes without a byte.
fn connect_and_close(port: u16) {
    drop(std::net::TcpStream::connect(("127.0.0.1", port)).unwrap());
}

#[test]
fn a_failed_handshake_is_logged_as_haproxy_logs_it() {
    let pki = Pki::get();
    let crt = pki.p("site.pem");
    let mut proxies = Vec::new();
    let g = [free_port(), free_port(), free_port()];
    proxies.push((
        "gatehouse",
        g,
        Gatehouse::start(&failures_cfg(g, &crt), &g).0,
    ));
    if haproxy_bin().is_some() {
        let h = [free_port(), free_port(), free_port()];
        proxies.push(("haproxy", h, Haproxy::start(&failures_cfg(h, &crt), &h).0));
    }
    let tls10 = ["-tls1", "-cipher", "DEFAULT@SECLEVEL=0"];
    let wait = std::time::Duration::from_secs(10);
    for (who, [a, b, c], d) in &proxies {
        assert!(!s_client(*a, &tls10, "").ok);
        let l = d.wait_stdout_lines("web/1: SSL", 1, wait);
        assert_eq!(l.len(), 1, "{who}: {}", d.stdout());
        // `127.0.0.1:<port> [06/Dec/2026:20:52:17.037] web/1: SSL handshake failure`
        let (addr, rest) = l[0].split_once(" [").unwrap();
        assert!(addr.starts_with("127.0.0.1:"), "{who}: {}", l[0]);
        assert!(
            rest.ends_with("] web/1: SSL handshake failure"),
            "{who}: {}",
            l[0]
        );
        assert_eq!(rest.find(']'), Some(24), "{who}: date: {}", l[0]);
        // The start-up probe of the test harness closed one connection already.
        connect_and_close(*b);
        let closed = "web/secure: Connection closed during SSL handshake";
        assert_eq!(
            d.wait_stdout_lines(closed, 2, wait).len(),
            2,
            "{who}: {}",
            d.stdout()
        );
        // dontlognull: a client that closed is not logged, a failure is.
        connect_and_close(*c);
        assert!(!s_client(*c, &tls10, "").ok);
        let l = d.wait_stdout_lines("quiet/1: SSL", 1, wait);
        assert!(
            l.first()
                .is_some_and(|l| l.ends_with("quiet/1: SSL handshake failure")),
            "{who}: {l:?}"
        );
        assert!(
            s_client(*c, &["-ign_eof"], "GET / HTTP/1.0\r\n\r\n")
                .out
                .contains("200")
        );
        assert_eq!(
            d.wait_stdout_lines("quiet~", 1, wait).len(),
            1,
            "{who}: {}",
            d.stdout()
        );
        assert!(
            !d.stdout().contains("quiet/1: Connection closed"),
            "{who}: {}",
            d.stdout()
        );
    }
}
