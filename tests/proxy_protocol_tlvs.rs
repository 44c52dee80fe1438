//! PROXY v2 TLVs, against HAProxy 2.6 both ways: `server … send-proxy-v2
//! proxy-v2-options authority,unique-id,crc32c` read by the other side's
//! `fc_pp_authority` and `fc_pp_unique_id` (a wrong CRC32C refused); and the bytes of
//! `send-proxy-v2-ssl-cn` with `ssl-cipher` for a TLS client with a certificate.

mod support;
use std::io::{Read, Write};
use support::pki::{Pki, curl};
use support::*;

const DEFAULTS: &str =
    "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n";

/// A TLS front door (client certificates optional) relaying to `server` with
/// `server_opts`, and the reader behind it answering what it received.
fn chain(front: u16, back: u16, server_opts: &str) -> String {
    let pki = Pki::get();
    format!(
        "{DEFAULTS}frontend front\n  bind 127.0.0.1:{front} ssl crt {} ca-file {} verify optional alpn http/1.1\n  \
         unique-id-format req-%[ssl_fc_sni]-42\n  default_backend relay\n\
         backend relay\n  server s 127.0.0.1:{back} {server_opts}\n",
        pki.p("site.pem"),
        pki.p("ca.pem")
    )
}

fn reader(back: u16) -> String {
    format!(
        "{DEFAULTS}frontend reader\n  bind 127.0.0.1:{back} accept-proxy\n  \
         http-request return status 200 content-type text/plain lf-string \"auth=%[fc_pp_authority] uid=%[fc_pp_unique_id] src=%[src]\"\n"
    )
}

fn get(front: u16) -> Option<String> {
    let pki = Pki::get();
    curl(&[
        "--cacert",
        &pki.p("ca.pem"),
        "--resolve",
        &format!("www.site.test:{front}:127.0.0.1"),
        &format!("https://www.site.test:{front}/"),
    ])
}

#[test]
fn authority_and_unique_id_tlvs_cross_to_and_from_haproxy() {
    let opts = "send-proxy-v2 proxy-v2-options authority,unique-id,crc32c";
    let have_haproxy = haproxy_bin().is_some();
    // (sender, reader): gatehouse → gatehouse, gatehouse → haproxy, haproxy → gatehouse.
    for (send_h, read_h) in [(false, false), (false, true), (true, false)] {
        if (send_h || read_h) && !have_haproxy {
            continue;
        }
        let (front, back) = (free_port(), free_port());
        let start = |haproxy: bool, cfg: &str, port: u16| -> Daemon {
            if haproxy {
                Haproxy::start(cfg, &[port]).0
            } else {
                Gatehouse::start(cfg, &[port]).0
            }
        };
        let _r = start(read_h, &reader(back), back);
        let _s = start(send_h, &chain(front, back, opts), front);
        assert_eq!(
            get(front).as_deref(),
            Some("auth=www.site.test uid=req-www.site.test-42 src=127.0.0.1"),
            "sender haproxy={send_h}, reader haproxy={read_h}"
        );
    }
}

/// Reads one PROXY v2 header from a connection to `l`, answers an HTTP request, and
/// returns the header.
fn capture(l: std::net::TcpListener) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut head = [0u8; 16];
        s.read_exact(&mut head).unwrap();
        let len = u16::from_be_bytes([head[14], head[15]]) as usize;
        let mut body = vec![0u8; len];
        s.read_exact(&mut body).unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 4096];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).unwrap();
            assert!(n > 0);
            req.extend_from_slice(&buf[..n]);
        }
        s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
            .unwrap();
        [&head[..], &body].concat()
    })
}

/// The TLVs after the IPv4 address block.
fn tlvs(h: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut at = 16 + 12;
    let mut out = Vec::new();
    while at < h.len() {
        let len = u16::from_be_bytes([h[at + 1], h[at + 2]]) as usize;
        out.push((h[at], h[at + 3..at + 3 + len].to_vec()));
        at += 3 + len;
    }
    out
}

#[test]
fn send_proxy_v2_ssl_cn_carries_the_client_tls_facts_like_haproxy() {
    let pki = Pki::get();
    let mut seen = Vec::new();
    for haproxy in [false, true] {
        if haproxy && haproxy_bin().is_none() {
            continue;
        }
        let l = bind_local();
        let back = l.local_addr().unwrap().port();
        let got = capture(l);
        let front = free_port();
        let cfg = chain(
            front,
            back,
            "send-proxy-v2-ssl-cn proxy-v2-options ssl-cipher",
        );
        let _d = if haproxy {
            Haproxy::start(&cfg, &[front]).0
        } else {
            Gatehouse::start(&cfg, &[front]).0
        };
        let body = curl(&[
            "--cacert",
            &pki.p("ca.pem"),
            "--cert",
            &pki.p("alice.crt"),
            "--key",
            &pki.p("alice.key"),
            "--tls-max",
            "1.2",
            "--ciphers",
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "--resolve",
            &format!("www.site.test:{front}:127.0.0.1"),
            &format!("https://www.site.test:{front}/"),
        ]);
        assert_eq!(body.as_deref(), Some("ok"), "haproxy={haproxy}");
        let h = got.join().unwrap();
        assert_eq!(
            &h[12..14],
            &[0x21, 0x11],
            "haproxy={haproxy}: PROXY, TCP over IPv4"
        );
        let t = tlvs(&h);
        // ALPN (always), then the SSL TLV: client flags SSL|CERT_CONN|CERT_SESS, verify 0,
        // then version, CN, cipher.
        let ssl = t
            .iter()
            .find(|(k, _)| *k == 0x20)
            .expect("an SSL TLV")
            .1
            .clone();
        assert_eq!(&ssl[..5], &[0x07, 0, 0, 0, 0], "haproxy={haproxy}");
        let mut sub = Vec::new();
        let mut at = 5;
        while at < ssl.len() {
            let len = u16::from_be_bytes([ssl[at + 1], ssl[at + 2]]) as usize;
            sub.push((
                ssl[at],
                String::from_utf8_lossy(&ssl[at + 3..at + 3 + len]).into_owned(),
            ));
            at += 3 + len;
        }
        assert_eq!(
            sub,
            [
                (0x21, "TLSv1.2".to_string()),
                (0x22, "alice".to_string()),
                (0x23, "ECDHE-ECDSA-AES128-GCM-SHA256".to_string())
            ],
            "haproxy={haproxy}"
        );
        seen.push(t.iter().map(|(k, _)| *k).collect::<Vec<_>>());
    }
    // Both proxies send the same TLVs in the same order.
    if seen.len() == 2 {
        assert_eq!(seen[0], seen[1]);
    }
    assert_eq!(seen[0], [0x01, 0x20]);
}

#[test]
fn a_header_whose_crc32c_does_not_match_is_refused_like_haproxy() {
    for haproxy in [false, true] {
        if haproxy && haproxy_bin().is_none() {
            continue;
        }
        let port = free_port();
        let _d = if haproxy {
            Haproxy::start(&reader(port), &[port]).0
        } else {
            Gatehouse::start(&reader(port), &[port]).0
        };
        // 203.0.113.7:4242 → 198.51.100.1:443, then a CRC32C TLV and an AUTHORITY one.
        let header = |crc: u32| {
            let mut h = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
            h.extend_from_slice(&[0x21, 0x11, 0, 12 + 7 + 6, 203, 0, 113, 7, 198, 51, 100, 1]);
            h.extend_from_slice(&4242u16.to_be_bytes());
            h.extend_from_slice(&443u16.to_be_bytes());
            h.extend_from_slice(&[0x03, 0, 4]);
            h.extend_from_slice(&crc.to_be_bytes());
            h.extend_from_slice(&[0x02, 0, 3, b'a', b'.', b't']);
            h
        };
        let mut good = header(0);
        let crc = crc32c::crc32c(&good);
        good[16 + 12 + 3..16 + 12 + 7].copy_from_slice(&crc.to_be_bytes());
        let get = |h: &[u8]| {
            let mut req = h.to_vec();
            req.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            String::from_utf8_lossy(&send_raw_with(
                local(port),
                &req,
                std::time::Duration::from_secs(3),
                false,
            ))
            .into_owned()
        };
        let ok = get(&good);
        assert!(
            ok.ends_with("auth=a.t uid= src=203.0.113.7"),
            "haproxy={haproxy}: {ok}"
        );
        let bad = get(&header(crc ^ 1));
        assert_eq!(bad, "", "haproxy={haproxy}: refused");
    }
}
