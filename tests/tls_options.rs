//! The TLS version, cipher and session options of bind and server lines, each shown
//! taking effect with `openssl s_client` (client side) or against HAProxy 2.6 as the TLS
//! server (server side): `force-tlsv12`/`force-tlsv13`, `no-tlsv12`/`no-tlsv13` (and
//! `no-sslv3`/`no-tlsv10`/`no-tlsv11`, which refuse what is never offered),
//! `no-tls-tickets`, `prefer-client-ciphers`, `crt-base`/`ca-base`, and on servers
//! `ssl-min-ver`/`ssl-max-ver`, `ciphers`, `ssl-default-server-*`, `no-ssl-reuse`,
//! `no-verifyhost`.

mod support;
use support::pki::{Pki, curl, s_client};
use support::*;

const DEFAULTS: &str =
    "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n";

/// One frontend per option string, each on its own port.
fn fronts(global: &str, opts: &[&str]) -> (Gatehouse, Vec<u16>) {
    let pki = Pki::get();
    let ports: Vec<u16> = opts.iter().map(|_| free_port()).collect();
    let mut cfg = format!("global\n{global}{DEFAULTS}");
    for (i, (o, p)) in opts.iter().zip(&ports).enumerate() {
        cfg.push_str(&format!(
            "frontend f{i}\n  bind 127.0.0.1:{p} ssl crt {} {o}\n  http-request return status 200\n",
            pki.p("site.pem")
        ));
    }
    (Gatehouse::start(&cfg, &ports), ports)
}

fn versions(port: u16) -> (bool, bool) {
    (
        s_client(port, &["-tls1_2"], "").ok,
        s_client(port, &["-tls1_3"], "").ok,
    )
}

#[test]
fn force_and_no_version_options_choose_the_versions_offered() {
    let (_g, p) = fronts(
        "",
        &[
            "force-tlsv12",
            "force-tlsv13",
            "no-tlsv12",
            "no-tlsv13",
            "no-sslv3 no-tlsv10 no-tlsv11",
        ],
    );
    assert_eq!(versions(p[0]), (true, false), "force-tlsv12");
    assert_eq!(versions(p[1]), (false, true), "force-tlsv13");
    assert_eq!(versions(p[2]), (false, true), "no-tlsv12");
    assert_eq!(versions(p[3]), (true, false), "no-tlsv13");
    assert_eq!(versions(p[4]), (true, true), "no-sslv3 no-tlsv10 no-tlsv11");
    assert!(!s_client(p[4], &["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"], "").ok);
}

#[test]
fn no_tls_tickets_sends_no_session_ticket() {
    let (_g, p) = fronts("", &["", "no-tls-tickets"]);
    let tickets = |port| {
        s_client(port, &["-tls1_3", "-ign_eof"], "GET / HTTP/1.0\r\n\r\n")
            .out
            .matches("Post-Handshake New Session Ticket")
            .count()
    };
    assert!(tickets(p[0]) > 0);
    assert_eq!(tickets(p[1]), 0);
}

/// TLSv1.3 tickets a client gets from the proxy on `port`: after a full handshake (its
/// session saved in `sess`), then after resuming that session; and whether it resumed.
fn tickets_full_then_resumed(port: u16, sess: &std::path::Path) -> (usize, usize, bool) {
    let count = |out: &str| out.matches("Post-Handshake New Session Ticket").count();
    let sess = sess.to_str().unwrap();
    let full = s_client(
        port,
        &["-tls1_3", "-ign_eof", "-sess_out", sess],
        "GET / HTTP/1.0\r\n\r\n",
    );
    assert!(full.out.contains("HTTP/1.1 200"), "{}", full.out);
    let again = s_client(
        port,
        &["-tls1_3", "-ign_eof", "-sess_in", sess],
        "GET / HTTP/1.0\r\n\r\n",
    );
    assert!(again.out.contains("HTTP/1.1 200"), "{}", again.out);
    (
        count(&full.out),
        count(&again.out),
        again.out.contains("Reused, TLSv1.3"),
    )
}

#[test]
fn two_tickets_after_a_full_handshake_and_one_after_a_resumption_as_haproxy() {
    require_haproxy();
    let dir = TempDir::new("tickets");
    let (_g, p) = fronts("", &[""]);
    let (_h, hp) = tls_server("");
    let ours = tickets_full_then_resumed(p[0], &dir.path().join("g.sess"));
    let theirs = tickets_full_then_resumed(hp, &dir.path().join("h.sess"));
    assert_eq!(ours, (2, 1, true), "gatehouse");
    assert_eq!(ours, theirs, "as haproxy");
}

/// Whether a client resumes on `port` the session it saved in `sess` (`extra`: the
/// version and ticket options of both connections).
fn save_then_resume(port: u16, sess: &std::path::Path, extra: &[&str], between: impl Fn()) -> bool {
    let sess = sess.to_str().unwrap();
    let run = |opt: &str| {
        s_client(
            port,
            &[extra, &["-ign_eof", opt, sess]].concat(),
            "GET / HTTP/1.0\r\n\r\n",
        )
    };
    let first = run("-sess_out");
    assert!(first.out.contains("HTTP/1.1 200"), "{}", first.out);
    between();
    let again = run("-sess_in");
    assert!(again.out.contains("HTTP/1.1 200"), "{}", again.out);
    again.out.contains("Reused, ")
}

#[test]
fn tune_ssl_cachesize_bounds_the_sessions_kept_for_resumption() {
    require_haproxy();
    let dir = TempDir::new("cachesize");
    let sess = dir.path().join("a.sess");
    let tls13 = ["-tls1_3"];
    // The default keeps 20,000 sessions: a client resumes after 150 others each left
    // two tickets (rustls's own default keeps 256).
    let (_g, p) = fronts("", &[""]);
    // Each one a whole exchange, so the proxy has read the client's Finished (and
    // stored the session) before the client closes.
    let full_handshakes = |port: u16, opts: &[&str], n: usize| {
        for _ in 0..n {
            let c = s_client(
                port,
                &[opts, &["-ign_eof"]].concat(),
                "GET / HTTP/1.0\r\n\r\n",
            );
            assert!(c.out.contains("HTTP/1.1 200"), "{}", c.out);
        }
    };
    assert!(save_then_resume(p[0], &sess, &tls13, || {
        full_handshakes(p[0], &tls13, 150)
    }));
    // One session kept: another client's pushes the first one out.
    let (_g1, one) = fronts("  tune.ssl.cachesize 1\n", &[""]);
    assert!(!save_then_resume(one[0], &sess, &tls13, || {
        full_handshakes(one[0], &tls13, 1)
    }));
    assert!(save_then_resume(one[0], &sess, &tls13, || ()));
    // None kept: no TLSv1.3 ticket is issued, nothing resumes.
    let (_g0, none) = fronts("  tune.ssl.cachesize 0\n", &[""]);
    assert!(!save_then_resume(none[0], &sess, &tls13, || ()));
    // TLSv1.2 session ids, beside HAProxy with the same setting.
    let tls12 = ["-tls1_2", "-no_ticket"];
    let hp = free_port();
    let pki = Pki::get();
    let hcfg = format!(
        "global\n  tune.ssl.cachesize 1\n{DEFAULTS}frontend tls\n  bind 127.0.0.1:{hp} ssl crt {}\n  http-request return status 200\n",
        pki.p("site.pem")
    );
    let _h1 = Haproxy::start(&hcfg, &[hp]);
    for (who, port) in [("gatehouse", one[0]), ("haproxy", hp)] {
        assert!(
            save_then_resume(port, &sess, &tls12, || ()),
            "{who}: resumed at once"
        );
        assert!(
            !save_then_resume(port, &sess, &tls12, || full_handshakes(port, &tls12, 1)),
            "{who}: pushed out by another client's session"
        );
    }
}

#[test]
fn prefer_client_ciphers_follows_the_clients_order() {
    let (_g, p) = fronts("", &["", "prefer-client-ciphers"]);
    // The client prefers AES128; the server's own order puts AES256 first.
    let offer = [
        "-tls1_2",
        "-cipher",
        "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384",
    ];
    assert_eq!(
        s_client(p[0], &offer, "").cipher().as_deref(),
        Some("ECDHE-ECDSA-AES256-GCM-SHA384")
    );
    assert_eq!(
        s_client(p[1], &offer, "").cipher().as_deref(),
        Some("ECDHE-ECDSA-AES128-GCM-SHA256")
    );
}

#[test]
fn crt_base_and_ca_base_resolve_relative_names() {
    let pki = Pki::get();
    let port = free_port();
    let cfg = format!(
        "global\n  crt-base {dir}\n  ca-base {dir}\n{DEFAULTS}frontend f\n  bind 127.0.0.1:{port} ssl crt site.pem ca-file ca.pem verify required\n  http-request return status 200\n",
        dir = pki.dir.display()
    );
    let _g = Gatehouse::start(&cfg, &[port]);
    let with = s_client(
        port,
        &[
            "-cert",
            &pki.p("alice.crt"),
            "-key",
            &pki.p("alice.key"),
            "-ign_eof",
        ],
        "GET / HTTP/1.0\r\n\r\n",
    );
    assert!(with.out.contains("HTTP/1.1 200 OK"), "{}", with.out);
}

/// HAProxy terminating TLS, answering the version, cipher and whether the session was
/// resumed.
fn tls_server(bind_opts: &str) -> (Daemon, u16) {
    let pki = Pki::get();
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend tls\n  bind 127.0.0.1:{port} ssl crt {} {bind_opts}\n  \
         http-request return status 200 content-type text/plain lf-string \"%[ssl_fc_protocol] %[ssl_fc_cipher] resumed=%[ssl_fc_is_resumed]\"\n",
        pki.p("site.pem")
    );
    (Haproxy::start(&cfg, &[port]).0, port)
}

/// A gatehouse relaying to one TLS server; each request on a new client connection, and
/// no idle server connection kept, so each request is a new TLS connection.
fn relay(global: &str, server_opts: &str) -> (Gatehouse, u16) {
    let port = free_port();
    let cfg = format!(
        "global\n{global}{DEFAULTS}frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\nbackend b\n  option http-server-close\n  server s1 {server_opts}\n"
    );
    (Gatehouse::start(&cfg, &[port]), port)
}

fn body(port: u16) -> String {
    curl(&["-w", "|%{http_code}", &format!("http://127.0.0.1:{port}/")]).unwrap_or_default()
}

#[test]
fn server_versions_ciphers_and_their_global_defaults_apply() {
    require_haproxy();
    let (_srv, sp) = tls_server("");
    let (_a, a) = relay(
        "",
        &format!(
            "127.0.0.1:{sp} ssl verify none ssl-max-ver TLSv1.2 ciphers ECDHE-ECDSA-AES128-GCM-SHA256"
        ),
    );
    assert_eq!(
        body(a),
        "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 resumed=0|200"
    );
    let (_b, b) = relay(
        "  ssl-default-server-options force-tlsv12\n  ssl-default-server-ciphers ECDHE-ECDSA-CHACHA20-POLY1305\n",
        &format!("127.0.0.1:{sp} ssl verify none"),
    );
    assert_eq!(
        body(b),
        "TLSv1.2 ECDHE-ECDSA-CHACHA20-POLY1305 resumed=0|200"
    );
    let (_c, c) = relay(
        "  ssl-default-server-ciphersuites TLS_AES_128_GCM_SHA256\n",
        &format!("127.0.0.1:{sp} ssl verify none ssl-min-ver TLSv1.3"),
    );
    assert_eq!(body(c), "TLSv1.3 TLS_AES_128_GCM_SHA256 resumed=0|200");
    // A server that only speaks TLSv1.2, to a line that wants TLSv1.3: no connection.
    let (_old, op) = tls_server("ssl-max-ver TLSv1.2");
    let (_d, d) = relay("", &format!("127.0.0.1:{op} ssl verify none force-tlsv13"));
    assert!(body(d).ends_with("|503"));
}

#[test]
fn sessions_are_resumed_unless_no_ssl_reuse() {
    require_haproxy();
    let (_srv, sp) = tls_server("");
    let (_a, a) = relay("", &format!("127.0.0.1:{sp} ssl verify none ssl-reuse"));
    assert!(body(a).contains("resumed=0"));
    assert!(
        body(a).contains("resumed=1"),
        "the second connection resumes"
    );
    let (_b, b) = relay("", &format!("127.0.0.1:{sp} ssl verify none no-ssl-reuse"));
    assert!(body(b).contains("resumed=0"));
    assert!(body(b).contains("resumed=0"));
}

#[test]
fn no_verifyhost_cancels_a_verifyhost_of_default_server() {
    require_haproxy();
    let pki = Pki::get();
    let (_srv, sp) = tls_server("");
    let port = free_port();
    let cfg = format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:{port}\n  default_backend b\nbackend b\n  default-server ssl ca-file {} verifyhost nope.test\n  server s1 127.0.0.1:{sp}\n  server s2 127.0.0.1:{sp} no-verifyhost\n  balance first\n",
        pki.p("ca.pem")
    );
    let _g = Gatehouse::start(&cfg, &[port]);
    // s1 (first) fails its name check.
    let out = body(port);
    assert!(out.ends_with("|503"), "s1 refused: {out}");
    let port2 = free_port();
    let only_s2 = format!(
        "{DEFAULTS}frontend f\n  bind 127.0.0.1:{port2}\n  default_backend b\nbackend b\n  default-server ssl ca-file {} verifyhost nope.test\n  server s2 127.0.0.1:{sp} no-verifyhost\n",
        pki.p("ca.pem")
    );
    let _g2 = Gatehouse::start(&only_s2, &[port2]);
    assert!(body(port2).ends_with("|200"));
}
