//! Seeded differential test of HTTP/1.1 request handling: a generator of realistic and
//! hostile requests (methods, request-target forms, versions, `Host` variants,
//! header-name case, duplicates, whitespace, folding, control bytes, `Content-Length` and
//! `Transfer-Encoding` forms, chunk sizes and extensions, trailers, `Expect`, `Connection`
//! and `Upgrade`) sends each request through Debian's haproxy 2.6 and through gatehouse
//! with the same config, each in front of its own raw-recording server, and compares
//! the status the client got and the exact bytes the server received, case by case.
//!
//! Cases carrying one of the [`DELIBERATE`] differences (gatehouse is stricter) are not
//! compared with haproxy: gatehouse must answer them 400 without contacting the server.

mod support;

use support::*;

/// Seed of the generator: a fixed seed keeps the cases the same from run to run.
const SEED: u64 = 0x6761_7465_686f_7573;
/// Number of generated requests.
const CASES: usize = 300;

const CFG: &str = "defaults\n  mode http\n  timeout connect 2s\n  timeout client 5s\n  \
timeout server 5s\n\
frontend fe
  bind 127.0.0.1:{port}
  option forwardfor
  default_backend be
backend be
  server s {srv}
";

/// The deliberate differences: (tag, reason). A generated request carrying a tag is
/// refused (400) by gatehouse where haproxy 2.6 forwards it. Also in docs/compat.md.
const DELIBERATE: &[(&str, &str)] = &[
    (
        "nul",
        "NUL in a header value: haproxy 2.6 forwards it; RFC 9110 forbids it and it is a \
         header-injection vector, gatehouse answers 400",
    ),
    (
        "obs-fold",
        "obs-fold line folding (headers or trailers): haproxy unfolds it into spaces; RFC \
         9112 allows refusing it, which is safer, gatehouse answers 400",
    ),
    (
        "te+cl",
        "Transfer-Encoding with Content-Length: haproxy drops the length and reads chunked; \
         RFC 9112 allows refusing the ambiguous framing (classic smuggling vector), \
         gatehouse answers 400",
    ),
];

/// splitmix64: small, deterministic, good enough to pick among alternatives.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }

    fn word(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| b"abcdefghijklmnopqrstuvwxyz0123456789"[self.below(36)] as char)
            .collect()
    }

    /// `name` with each letter's case flipped at random.
    fn mixed_case(&mut self, name: &str) -> String {
        name.chars()
            .map(|c| {
                if self.chance(30) {
                    c.to_ascii_uppercase()
                } else {
                    c
                }
            })
            .collect()
    }
}

/// One generated request, what it exercises and its deliberate-difference tag, if any.
struct Case {
    label: Vec<String>,
    raw: Vec<u8>,
    deliberate: Option<&'static str>,
}

const WS_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

fn generate(rng: &mut Rng) -> Case {
    let hostile = rng.below(3) == 0;
    let mut label = Vec::new();
    let mut deliberate = None;
    let tag = |label: &mut Vec<String>, l: &str| label.push(l.to_string());

    let method = if hostile && rng.chance(25) {
        rng.pick(&["get", "PURGE", "CONNECT", "CONNECT", "M-SEARCH"])
    } else {
        rng.pick(&[
            "GET", "GET", "GET", "POST", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH",
        ])
    };
    let version = if hostile && rng.chance(15) {
        rng.pick(&["HTTP/1.2", "HTTP/1.0"])
    } else if rng.chance(12) {
        "HTTP/1.0"
    } else {
        "HTTP/1.1"
    };
    let target = if method == "CONNECT" {
        rng.pick(&[
            "example.com:443",
            "example.com:8443",
            "example.com",
            "/path",
            "http://example.com:443",
        ])
    } else if hostile && rng.chance(40) {
        rng.pick(&[
            "http://example.com/p",
            "http://example.com:80/p?x=1",
            "https://example.com:443/p",
            "http://user@example.com/p",
            "http://other.example/p",
            "HTTP://Example.com:80",
            "example.com:443",
            "example.com/p",
            "a/b",
            "ab",
            "//double/slash",
            "/p?next=http://x/y",
            "*",
        ])
    } else if method == "OPTIONS" && rng.chance(30) {
        "*"
    } else {
        rng.pick(&[
            "/",
            "/index.html",
            "/a/b?x=1&y=2",
            "/search?q=a%20b",
            "/api/v1/items/42",
            "/static/app.js?v=3",
        ])
    };
    tag(&mut label, &format!("{method} {target} {version}"));
    let mut head = format!("{method} {target} {version}\r\n");
    let header = |head: &mut String, name: &str, value: &str| {
        head.push_str(&format!("{name}: {value}\r\n"));
    };

    // Host.
    let host = if target.contains("example.com") {
        "example.com"
    } else {
        "www.example.com"
    };
    let host_form = if hostile { rng.below(9) } else { rng.below(3) };
    match host_form {
        0 | 1 => header(&mut head, "Host", host),
        2 => header(&mut head, &rng.mixed_case("host"), host),
        3 => header(&mut head, "Host", &format!("{host}:80")),
        4 => header(&mut head, "Host", &format!("{host}:443")),
        5 => {
            header(&mut head, "Host", host);
            header(&mut head, "host", &host.to_ascii_uppercase());
        }
        6 => {
            header(&mut head, "Host", host);
            header(&mut head, "Host", "other.example");
        }
        7 => head.push_str("Host:\r\n"),
        _ => {}
    }
    tag(&mut label, &format!("host#{host_form}"));

    // Ordinary headers, in varied case, spacing and repetition.
    header(&mut head, &rng.mixed_case("user-agent"), "gen/1.0 (test)");
    if rng.chance(60) {
        header(&mut head, "Accept", "*/*");
    }
    for _ in 0..rng.below(3) {
        let name = format!("X-{}", rng.word(4));
        let value = rng.word(6);
        let name = rng.mixed_case(&name);
        match rng.below(4) {
            0 => head.push_str(&format!("{name}:{value}\r\n")),
            1 => head.push_str(&format!("{name}:   {value}  \r\n")),
            2 => head.push_str(&format!("{name}:\t{value}\t\r\n")),
            _ => header(&mut head, &name, &value),
        }
    }
    if rng.chance(20) {
        header(&mut head, "X-Dup", "1");
        header(&mut head, "x-dup", "2");
    }
    if hostile {
        match rng.below(10) {
            0 => {
                head.push_str("X-Folded: a\r\n  b\r\n");
                deliberate = Some("obs-fold");
                tag(&mut label, "obs-fold");
            }
            1 => {
                head.push_str("X-Nul: a\0b\r\n");
                deliberate = Some("nul");
                tag(&mut label, "nul");
            }
            2 => {
                head.push_str("X-Ctl: a\x01b\x7fc\r\n");
                tag(&mut label, "ctl");
            }
            3 => {
                head.push_str("X-Space : v\r\n");
                tag(&mut label, "space-before-colon");
            }
            4 => {
                head.push_str("No colon here\r\n");
                tag(&mut label, "no-colon");
            }
            5 => {
                head.push_str("X-Bare: a\rb\r\n");
                tag(&mut label, "bare-cr");
            }
            6 => {
                head.push_str("X-Utf8: caf\u{e9}\r\n");
                tag(&mut label, "utf8-value");
            }
            _ => {}
        }
    }

    // Connection and Upgrade.
    let upgrade = rng.chance(12) && method == "GET";
    if upgrade {
        header(
            &mut head,
            "Connection",
            rng.pick(&["Upgrade", "keep-alive, Upgrade"]),
        );
        match rng.below(3) {
            0 => {
                header(&mut head, "Upgrade", "websocket");
                header(&mut head, "Sec-WebSocket-Key", WS_KEY);
                header(&mut head, "Sec-WebSocket-Version", "13");
                tag(&mut label, "websocket");
            }
            1 => {
                header(&mut head, "Upgrade", "h2c");
                tag(&mut label, "upgrade-h2c");
            }
            _ => {
                header(&mut head, "Upgrade", "foo/2");
                tag(&mut label, "upgrade-foo");
            }
        }
    } else {
        match rng.below(6) {
            0 => header(&mut head, "Connection", "close"),
            1 => header(&mut head, "Connection", "keep-alive"),
            2 => {
                header(&mut head, "Connection", "Keep-Alive, X-Hop");
                header(&mut head, "X-Hop", "1");
            }
            _ => {}
        }
    }

    // Body.
    let wants_body = matches!(method, "POST" | "PUT" | "PATCH")
        || (upgrade && rng.chance(30))
        || (method == "DELETE" && rng.chance(20));
    let len = 1 + rng.below(60);
    let payload = rng.word(len);
    let mut body = Vec::new();
    if wants_body {
        if rng.chance(20) {
            header(&mut head, "Expect", "100-continue");
            tag(&mut label, "expect");
        }
        let n = payload.len();
        let framing = if hostile { rng.below(12) } else { rng.below(3) };
        tag(&mut label, &format!("body#{framing}"));
        match framing {
            0 | 1 => header(&mut head, "Content-Length", &n.to_string()),
            3 => header(&mut head, "Content-Length", &format!("{n}, {n}")),
            4 => {
                header(&mut head, "Content-Length", &n.to_string());
                header(&mut head, "content-length", &n.to_string());
            }
            5 => header(&mut head, "Content-Length", &format!("00{n}")),
            6 => header(&mut head, "Content-Length", &format!("+{n}")),
            7 => {
                header(&mut head, "Transfer-Encoding", "chunked");
                header(&mut head, "Content-Length", &n.to_string());
                deliberate = Some("te+cl");
            }
            8 => header(&mut head, "Transfer-Encoding", "gzip, chunked"),
            9 => header(&mut head, "Transfer-Encoding", "chunked, gzip"),
            10 => header(&mut head, "transfer-encoding", "Chunked"),
            _ => header(&mut head, "Transfer-Encoding", "chunked"),
        }
        if matches!(framing, 2 | 7 | 8 | 9 | 10 | 11) {
            let (chunks, note, fold) = chunked_body(rng, payload.as_bytes(), hostile);
            body = chunks;
            tag(&mut label, &note);
            if fold {
                deliberate = Some("obs-fold");
            }
        } else {
            body = payload.into_bytes();
        }
    }
    head.push_str("\r\n");
    let mut raw = head.into_bytes();
    raw.extend_from_slice(&body);
    if method == "CONNECT" {
        // Nothing may reach the server before the tunnel is established.
        raw.extend_from_slice(b"early tunnel bytes");
    }
    Case {
        label,
        raw,
        deliberate,
    }
}

/// A chunked encoding of `payload`: varied chunk sizes, hex case, leading zeros,
/// extensions, trailers; when `hostile`, bare-LF framing, a bad size or a folded
/// trailer. Returns the bytes, a label and whether a trailer is folded.
fn chunked_body(rng: &mut Rng, payload: &[u8], hostile: bool) -> (Vec<u8>, String, bool) {
    let mut out = Vec::new();
    let bare_lf = hostile && rng.chance(25);
    let eol: &[u8] = if bare_lf { b"\n" } else { b"\r\n" };
    let mut note = String::from(if bare_lf { "chunks-lf" } else { "chunks" });
    let mut rest = payload;
    let mut first = true;
    while !rest.is_empty() {
        let n = (1 + rng.below(24)).min(rest.len());
        let size = match rng.below(4) {
            0 => format!("{n:X}"),
            1 => format!("0{n:x}"),
            _ => format!("{n:x}"),
        };
        out.extend_from_slice(size.as_bytes());
        if first && hostile && rng.chance(15) {
            out.extend_from_slice(b"g");
            note.push_str("+badsize");
        }
        if rng.chance(20) {
            out.extend_from_slice(b";name=value");
            note.push_str("+ext");
        }
        out.extend_from_slice(eol);
        out.extend_from_slice(&rest[..n]);
        out.extend_from_slice(eol);
        rest = &rest[n..];
        first = false;
    }
    out.extend_from_slice(b"0");
    out.extend_from_slice(eol);
    let mut fold = false;
    if rng.chance(25) {
        out.extend_from_slice(b"X-Checksum: abc");
        out.extend_from_slice(eol);
        out.extend_from_slice(rng.mixed_case("x-trailer:  t  ").as_bytes());
        out.extend_from_slice(eol);
        note.push_str("+trailers");
        if hostile && rng.chance(20) {
            out.extend_from_slice(b" folded");
            out.extend_from_slice(eol);
            fold = true;
        }
    }
    out.extend_from_slice(eol);
    (out, note, fold)
}

fn show(b: &[u8]) -> String {
    b.escape_ascii()
        .to_string()
        .replace("\\r\\n", "\\r\\n\n    ")
}

#[test]
fn generated_requests_get_the_same_status_and_forwarding_as_haproxy() {
    require_haproxy();
    let reference = RawSide::start(CFG, true);
    let subject = RawSide::start(CFG, false);
    let mut rng = Rng(SEED);
    let mut diffs = Vec::new();
    let mut pinned = Vec::new();
    let (mut compared, mut agreed) = (0, 0);
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..CASES {
        let case = generate(&mut rng);
        let label = case.label.join(" ");
        let (sstatus, sbytes) = subject.run(&case.raw);
        if let Some(tag) = case.deliberate {
            assert!(
                DELIBERATE.iter().any(|(t, _)| *t == tag),
                "tag {tag} is not in the table"
            );
            if sstatus != 400 || !sbytes.is_empty() {
                pinned.push(format!(
                    "#{i} [{label}] deliberate '{tag}': gatehouse gave {sstatus} and the \
                     server got:\n    {}\n  request:\n    {}",
                    show(&sbytes),
                    show(&case.raw)
                ));
            }
            continue;
        }
        compared += 1;
        let (rstatus, rbytes) = reference.run(&case.raw);
        *statuses.entry(rstatus).or_insert(0) += 1;
        if (rstatus, &rbytes) == (sstatus, &sbytes) {
            agreed += 1;
        } else {
            diffs.push(format!(
                "#{i} [{label}] status haproxy {rstatus} / gatehouse {sstatus}\n  request:\n    \
                 {}\n  haproxy's server got:\n    {}\n  gatehouse's server got:\n    {}",
                show(&case.raw),
                show(&rbytes),
                show(&sbytes)
            ));
        }
    }
    assert!(
        compared > CASES / 2,
        "too few comparable cases ({compared})"
    );
    assert!(
        diffs.is_empty() && pinned.is_empty(),
        "agreement {agreed}/{compared}; {} difference(s), {} deliberate case(s) not \
         refused:\n\n{}\n\n{}",
        diffs.len(),
        pinned.len(),
        diffs.join("\n\n"),
        pinned.join("\n\n")
    );
    eprintln!(
        "agreement {agreed}/{compared} (+{} deliberate); haproxy's statuses {statuses:?}",
        CASES - compared
    );
}
