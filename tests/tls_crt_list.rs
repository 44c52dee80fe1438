//! `crt-list FILE` lines with `[options]` (`alpn`, `ssl-min-ver`, `ssl-max-ver`,
//! `verify`, `ca-file`, `ciphers`) and SNI filters (`!name` too), probed by SNI with
//! `openssl s_client` on gatehouse and on HAProxy 2.6 with the same files; an
//! unsupported per-line option is refused with `FILE:LINE`.

mod support;
use support::pki::{Pki, s_client};
use support::*;

const DEFAULTS: &str =
    "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n";

fn cfg(port: u16, list: &str) -> String {
    format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:{port} ssl crt-list {list} alpn http/1.1\n  \
         http-request return status 200 content-type text/plain lf-string \"ok %[ssl_fc_sni] %[ssl_fc_protocol] %[ssl_c_used] end\"\n"
    )
}

/// What a client saw: `None` when the handshake failed, else the certificate's CN, the
/// ALPN protocol and the answer's body line (empty when there was none: refused after
/// a TLSv1.3 handshake, or HTTP/2 spoken).
fn probe(port: u16, args: &[&str]) -> Option<(String, String, String)> {
    let mut all = vec!["-ign_eof"];
    all.extend(args);
    let s = s_client(port, &all, "GET / HTTP/1.0\r\n\r\n");
    if !s.ok {
        return None;
    }
    let body = s
        .out
        .lines()
        .find_map(|l| Some(l.strip_prefix("ok ")?.split(" end").next()?.to_string()))
        .unwrap_or_default();
    let alpn = s
        .out
        .lines()
        .find_map(|l| l.strip_prefix("ALPN protocol: "))
        .unwrap_or("none")
        .to_string();
    Some((s.subject_cn()?, alpn, body))
}

#[test]
fn crt_list_line_options_apply_to_the_certificate_the_sni_picks() {
    let pki = Pki::get();
    let dir = TempDir::new("crt-list-opts");
    let list = dir.write(
        "list.txt",
        format!(
            "# the first line is the default certificate\n\
             {default} [ssl-max-ver TLSv1.2]\n\
             {site} [alpn h2 ssl-min-ver TLSv1.3] www.site.test\n\
             {wild} [verify required ca-file {ca}] *.wild.test !secret.wild.test\n",
            default = pki.p("default.pem"),
            site = pki.p("site.pem"),
            wild = pki.p("wild.pem"),
            ca = pki.p("ca.pem"),
        ),
    );
    let list = list.display().to_string();
    let mut proxies = Vec::new();
    let port = free_port();
    proxies.push((
        "gatehouse",
        port,
        Gatehouse::start(&cfg(port, &list), &[port]).0,
    ));
    if haproxy_bin().is_some() {
        let hp = free_port();
        proxies.push(("haproxy", hp, Haproxy::start(&cfg(hp, &list), &[hp]).0));
    }
    let alice = ["-cert", &pki.p("alice.crt"), "-key", &pki.p("alice.key")];
    for (who, port, _d) in &proxies {
        let p = |args: &[&str]| probe(*port, args);
        let s = |v: &str, cn: &str, alpn: &str, body: &str| {
            Some((cn.to_string(), alpn.to_string(), body.to_string())).filter(|_| !v.is_empty())
        };
        // www.site.test: its line's alpn h2 replaces the bind's, TLSv1.2 is refused.
        assert_eq!(
            p(&[
                "-servername",
                "www.site.test",
                "-alpn",
                "h2,http/1.1",
                "-tls1_3"
            ])
            .map(|x| x.1),
            Some("h2".into()),
            "{who}"
        );
        assert_eq!(
            p(&["-servername", "www.site.test", "-tls1_2"]),
            None,
            "{who}"
        );
        // *.wild.test needs a client certificate from the CA.
        assert_eq!(
            p(&["-servername", "a.wild.test"]).map(|x| x.2),
            Some(String::new()),
            "{who}: refused after the handshake"
        );
        let mut with_cert = vec!["-servername", "a.wild.test"];
        with_cert.extend(alice);
        assert_eq!(
            p(&with_cert),
            s("y", "*.wild.test", "none", "a.wild.test TLSv1.3 1"),
            "{who}"
        );
        // Unknown names get the default certificate; its line's ssl-max-ver applies only
        // to names it matches (HAProxy keeps the bind's versions on the fallback).
        assert_eq!(
            p(&["-servername", "other.test"]),
            s("y", "default.test", "none", "other.test TLSv1.3 0"),
            "{who}"
        );
        // `!secret.wild.test` keeps the wildcard of its line from answering for it.
        assert_eq!(
            p(&["-servername", "secret.wild.test"]),
            s("y", "default.test", "none", "secret.wild.test TLSv1.3 0"),
            "{who}"
        );
    }
}

#[test]
fn an_unsupported_or_unknown_line_option_is_refused_with_file_and_line() {
    let pki = Pki::get();
    let dir = TempDir::new("crt-list-bad");
    for (opt, says) in [
        (
            "npn h2",
            "'npn' is a HAProxy keyword that gatehouse does not support yet",
        ),
        (
            "allow-0rtt",
            "'allow-0rtt' is a HAProxy keyword that gatehouse does not support yet",
        ),
        ("bogus 1", "unknown ssl keyword 'bogus'"),
        (
            "ciphers DHE-RSA-AES128-GCM-SHA256",
            "DHE-RSA-AES128-GCM-SHA256",
        ),
    ] {
        let list = dir.write(
            "list.txt",
            format!(
                "{}\n# a comment\n{} [{opt}] www.site.test\n",
                pki.p("default.pem"),
                pki.p("site.pem")
            ),
        );
        let bad = dir.write("bad.cfg", cfg(free_port(), &list.display().to_string()));
        let (code, _, err) = check(&gatehouse_bin(), &[&bad]);
        assert_ne!(code, 0, "{opt}");
        assert!(err.contains(says), "{opt}: {err}");
        assert!(err.contains("bad.cfg:7"), "{opt}: {err}");
        assert!(err.contains("list.txt:3"), "{opt}: {err}");
    }
}
