//! What a `bind … ssl` handshake offers, seen by `openssl s_client`: the OCSP response
//! stapled from `FILE.ocsp` (compared with HAProxy 2.6 on the same files).

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

#[test]
fn an_ocsp_file_that_is_not_a_successful_response_is_a_config_error() {
    let pki = Pki::get();
    let dir = TempDir::new("tls-ocsp");
    std::fs::copy(pki.path("site.pem"), dir.path().join("site.pem")).unwrap();
    // An OCSP "tryLater" response, then bytes that are no response at all.
    for (bytes, says) in [
        (&[0x30u8, 0x03, 0x0a, 0x01, 0x03][..], "not successful"),
        (&b"not der"[..], "cannot parse the OCSP response"),
    ] {
        dir.write("site.pem.ocsp", bytes);
        let cfg = dir.write(
            "bad.cfg",
            stapling_cfg(
                free_port(),
                &dir.path().join("site.pem").display().to_string(),
            ),
        );
        let (code, _, err) = check(&gatehouse_bin(), &[&cfg]);
        assert_ne!(code, 0);
        assert!(
            err.contains(says) && err.contains("site.pem.ocsp") && err.contains("bad.cfg:7"),
            "{err}"
        );
    }
}
