//! What the runtime API changes takes effect for new traffic at once and survives an
//! in-place reload (`SIGUSR2`): maintenance, weights, a server's address, servers
//! added and removed without a reload, map entries; levels are enforced on every
//! socket (unix and TCP, several at once); a reload forgets the servers it removed
//! once their in-flight work ended.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use support::socat::{socat, unix_cmd};
use support::{Daemon, Gatehouse, HttpBackend, HttpClient, free_port, local, wait_until};

/// `n` fresh requests to `GET path`; how many each server (its body) answered.
fn spread(port: u16, path: &str, n: usize) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for _ in 0..n {
        let mut c = HttpClient::connect(local(port)).expect("connect");
        let r = c.get(path, &[]).expect("response");
        *seen.entry(r.body_str()).or_default() += 1;
    }
    seen
}

fn only(name: &str, n: usize) -> BTreeMap<String, usize> {
    BTreeMap::from([(name.to_owned(), n)])
}

/// Sends SIGUSR2 after writing `cfg` (when given) and waits for the `reloads`-th
/// "Loading success.".
fn reload(d: &mut Daemon, cfg: Option<&str>, reloads: usize) {
    if let Some(text) = cfg {
        std::fs::write(d.config_path(), text).expect("rewrite config");
    }
    d.signal(libc::SIGUSR2);
    assert!(
        wait_until(Duration::from_secs(10), || d
            .stderr()
            .matches("Loading success.")
            .count()
            >= reloads),
        "reload {reloads} failed:\n{}",
        d.stderr()
    );
}

struct Setup {
    d: Gatehouse,
    port: u16,
    sock: PathBuf,
    cfg: String,
}

fn setup(servers: &str, extra_global: &str) -> Setup {
    let port = free_port();
    let cfg = format!(
        "global\n    stats socket unix@admin.sock level admin\n{extra_global}\
         defaults\n    mode http\n    timeout connect 1s\n    timeout client 5s\n    timeout server 5s\n\
         \x20   timeout queue 10s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n\
         \x20   http-request set-header X-M %[path,map(m.map,none)]\n\
         \x20   default_backend app\n\
         backend app\n    balance roundrobin\n{servers}"
    );
    let d = Gatehouse(
        Gatehouse::builder(&cfg)
            .file("m.map", "/a alpha\n")
            .wait_port(port)
            .start(),
    );
    let sock = d.dir().join("admin.sock");
    Setup { d, port, sock, cfg }
}

#[test]
fn socket_changes_steer_new_traffic_and_survive_reload() {
    let (one, two, three) = (
        HttpBackend::start("one"),
        HttpBackend::start("two"),
        HttpBackend::start("three"),
    );
    let mut s = setup(
        &format!(
            "    server s1 {} \n    server s2 {}\n",
            one.addr(),
            two.addr()
        ),
        "",
    );
    let cmd = |c: &str| unix_cmd(&s.sock, c);
    assert_eq!(spread(s.port, "/", 4).len(), 2);

    // Maintenance takes a server out of the rotation; ready puts it back.
    assert_eq!(cmd("set server app/s1 state maint"), "\n");
    assert_eq!(spread(s.port, "/", 4), only("two", 4));
    assert_eq!(cmd("set server app/s1 state ready"), "\n");
    assert_eq!(spread(s.port, "/", 4).len(), 2);
    // So does a health set down by hand.
    assert_eq!(cmd("set server app/s1 health down"), "\n");
    assert_eq!(spread(s.port, "/", 4), only("two", 4));
    assert_eq!(cmd("set server app/s1 health up"), "\n");
    assert_eq!(spread(s.port, "/", 4).len(), 2);

    // A new address: new connections go there.
    assert_eq!(
        cmd(&format!(
            "set server app/s2 addr 127.0.0.1 port {}",
            three.port()
        )),
        format!(
            "no need to change the addr, port changed from '{}' to '{}' by 'stats socket command'\n\n",
            two.port(),
            three.port()
        )
    );
    // Weight 0: out of the rotation.
    assert_eq!(cmd("set server app/s1 weight 0"), "\n");
    assert_eq!(spread(s.port, "/", 4), only("three", 4));

    // A map entry set through the socket reaches the next request.
    assert_eq!(cmd("add map m.map /b bravo"), "\n");
    spread(s.port, "/b", 1);
    assert_eq!(
        three.requests().last().unwrap().header("x-m"),
        Some("bravo")
    );

    // The same configuration reloaded: every runtime change stays.
    reload(&mut s.d, None, 1);
    assert_eq!(spread(s.port, "/b", 4), only("three", 4));
    assert_eq!(
        three.requests().last().unwrap().header("x-m"),
        Some("bravo")
    );
    assert_eq!(cmd("get weight app/s1"), "0 (initial 1)\n\n");
    let state = cmd("show servers state app");
    assert!(
        state.contains(" s2 127.0.0.1 2 0 1 1 ")
            && state.contains(&format!(" {} - 0 0 - - 0\n", three.port())),
        "{state}"
    );

    // A server added without a reload starts in maintenance, then serves.
    assert_eq!(
        cmd(&format!("add server app/s3 {} weight 5", one.addr())),
        "New server registered.\n\n"
    );
    assert_eq!(spread(s.port, "/", 4), only("three", 4));
    assert_eq!(cmd("set server app/s3 state ready"), "\n");
    let seen = spread(s.port, "/", 12);
    assert!(seen.get("one").copied().unwrap_or(0) >= 8, "{seen:?}");
    // It survives a reload, in service.
    reload(&mut s.d, None, 2);
    let seen = spread(s.port, "/", 12);
    assert!(seen.get("one").copied().unwrap_or(0) >= 8, "{seen:?}");

    // Removal needs maintenance first; then it is gone for new traffic.
    assert_eq!(
        cmd("del server app/s3"),
        "Only servers in maintenance mode can be deleted.\n"
    );
    assert_eq!(cmd("set server app/s3 state maint"), "\n");
    assert_eq!(cmd("del server app/s3"), "Server deleted.\n");
    assert_eq!(spread(s.port, "/", 4), only("three", 4));
    assert!(!cmd("show servers state app").contains(" s3 "));
    reload(&mut s.d, None, 3);
    assert!(!cmd("show servers state app").contains(" s3 "));

    // A reload that configures another address for s2 takes it over.
    let cfg = s
        .cfg
        .replace(&two.addr().to_string(), &one.addr().to_string());
    reload(&mut s.d, Some(&cfg), 4);
    let seen = spread(s.port, "/", 4);
    assert_eq!(seen, only("one", 4));
}

#[test]
fn reload_forgets_removed_servers_once_their_work_ends() {
    let slow = HttpBackend::builder("slow")
        .delay(Duration::from_secs(3))
        .start();
    let other = HttpBackend::start("other");
    let with = format!("    server s2 {}\n", slow.addr());
    let mut s = setup(&with, "");
    let without = s
        .cfg
        .replace(&with, &format!("    server s9 {}\n", other.addr()));
    let full = s.cfg.clone();
    let cmd = |sock: &PathBuf, c: &str| unix_cmd(sock, c);

    // A request in flight on s2 while a reload removes it and another brings it back:
    // its live state is still in use, so s2 comes back with it.
    let port = s.port;
    let inflight = std::thread::spawn(move || spread(port, "/", 1));
    slow.wait_requests(1);
    assert_eq!(cmd(&s.sock, "set server app/s2 weight 7"), "\n");
    reload(&mut s.d, Some(&without), 1);
    reload(&mut s.d, Some(&full), 2);
    assert_eq!(cmd(&s.sock, "get weight app/s2"), "7 (initial 1)\n\n");
    assert_eq!(inflight.join().unwrap(), only("slow", 1));

    // Its work ended: removed again, it is forgotten, and comes back fresh.
    let mut n = 2;
    let fresh = wait_until(Duration::from_secs(10), || {
        reload(&mut s.d, Some(&without), n + 1);
        reload(&mut s.d, Some(&full), n + 2);
        n += 2;
        cmd(&s.sock, "get weight app/s2") == "1 (initial 1)\n\n"
    });
    assert!(fresh, "s2 kept its runtime weight after its work ended");
}

#[test]
fn levels_hold_on_every_socket() {
    let one = HttpBackend::start("one");
    let tcp = free_port();
    let s = setup(
        &format!("    server s1 {}\n", one.addr()),
        &format!(
            "    stats socket unix@oper.sock\n    stats socket ipv4@127.0.0.1:{tcp} level user\n"
        ),
    );
    let user = |c: &str| socat(&format!("TCP:127.0.0.1:{tcp}"), &format!("{c}\n"));
    let oper = |c: &str| unix_cmd(&s.d.dir().join("oper.sock"), c);
    assert_eq!(user("show cli level"), "user\n\n");
    assert_eq!(oper("show cli level"), "operator\n\n");
    assert_eq!(unix_cmd(&s.sock, "show cli level"), "admin\n\n");
    // `user` changes nothing, maps included (HAProxy 2.6 lets it change maps).
    for c in [
        "set server app/s1 state maint",
        "set server app/s1 weight 0",
        "add map m.map /z zulu",
        "set map m.map /a changed",
        "del map m.map /a",
        "clear map m.map",
        "clear counters",
        "add server app/s9 127.0.0.1:1",
    ] {
        assert_eq!(user(c), "Permission denied\n\n", "{c}");
    }
    assert_eq!(user("show map m.map"), "0x1 /a alpha\n\n");
    // `operator` may clear the maxima and change maps, not servers.
    assert_eq!(oper("clear counters"), "\n");
    assert_eq!(oper("clear counters all"), "Permission denied\n\n");
    assert_eq!(
        oper("set server app/s1 state maint"),
        "Permission denied\n\n"
    );
    assert_eq!(oper("add map m.map /o oscar"), "\n");
    assert_eq!(spread(s.port, "/", 2), only("one", 2));
    spread(s.port, "/o", 1);
    assert_eq!(one.requests().last().unwrap().header("x-m"), Some("oscar"));
    // A session may lower its level, never raise it.
    assert_eq!(
        socat(
            &format!("UNIX-CONNECT:{}", s.sock.display()),
            "operator;show cli level;user;show cli level;operator\n"
        ),
        "\noperator\n\n\nuser\n\nPermission denied\n\n"
    );
}

#[test]
fn drain_through_the_socket_takes_a_server_out_of_new_traffic_and_ready_brings_it_back() {
    let one = HttpBackend::builder("one")
        .delay(Duration::from_millis(700))
        .start();
    let two = HttpBackend::start("two");
    let s = setup(
        &format!(
            "    server s1 {}\n    server s2 {}\n",
            one.addr(),
            two.addr()
        ),
        "",
    );
    // Two requests at once: round robin sends one to s1, in flight when s1 drains.
    let port = s.port;
    let clients: Vec<_> = (0..2)
        .map(|_| std::thread::spawn(move || spread(port, "/", 1)))
        .collect();
    one.wait_requests(1);
    assert_eq!(unix_cmd(&s.sock, "set server app/s1 state drain"), "\n");
    let mut answered = BTreeMap::new();
    for c in clients {
        for (k, v) in c.join().expect("client") {
            *answered.entry(k).or_insert(0) += v;
        }
    }
    assert_eq!(
        answered,
        BTreeMap::from([("one".to_owned(), 1), ("two".to_owned(), 1)]),
        "the session in flight on the drained server was cut"
    );
    assert_eq!(spread(s.port, "/", 4), only("two", 4));
    let stat = unix_cmd(&s.sock, "show stat");
    let s1 = stat
        .lines()
        .find(|l| l.starts_with("app,s1,"))
        .expect("s1 line");
    assert_eq!(s1.split(',').nth(17), Some("DRAIN"), "{stat}");
    assert_eq!(unix_cmd(&s.sock, "set server app/s1 state ready"), "\n");
    assert_ne!(spread(s.port, "/", 4), only("two", 4));
}

#[test]
fn maint_and_drain_set_over_the_socket_survive_a_reload() {
    let (one, two, three) = (
        HttpBackend::start("one"),
        HttpBackend::start("two"),
        HttpBackend::start("three"),
    );
    let mut s = setup(
        &format!(
            "    server s1 {}\n    server s2 {}\n    server s3 {}\n",
            one.addr(),
            two.addr(),
            three.addr()
        ),
        "",
    );
    assert_eq!(unix_cmd(&s.sock, "set server app/s1 state maint"), "\n");
    assert_eq!(unix_cmd(&s.sock, "set server app/s2 state drain"), "\n");
    let statuses = |sock: &PathBuf| {
        let stat = unix_cmd(sock, "show stat");
        ["s1", "s2", "s3"].map(|n| {
            stat.lines()
                .find(|l| l.starts_with(&format!("app,{n},")))
                .and_then(|l| l.split(',').nth(17))
                .unwrap_or("")
                .to_owned()
        })
    };
    assert_eq!(statuses(&s.sock), ["MAINT", "DRAIN", "no check"]);
    assert_eq!(spread(s.port, "/", 4), only("three", 4));
    // The same configuration, then one that changes something else (a new server):
    // the states set by hand stay.
    reload(&mut s.d, None, 1);
    assert_eq!(statuses(&s.sock), ["MAINT", "DRAIN", "no check"]);
    assert_eq!(spread(s.port, "/", 4), only("three", 4));
    let cfg = format!("{}    server s4 {}\n", s.cfg, three.addr());
    reload(&mut s.d, Some(&cfg), 2);
    assert_eq!(statuses(&s.sock), ["MAINT", "DRAIN", "no check"]);
    let state = unix_cmd(&s.sock, "show servers state app");
    // srv_admin_state: 1 (forced maintenance), 8 (forced drain).
    assert!(state.contains(" s1 127.0.0.1 0 1 "), "{state}");
    assert!(state.contains(" s2 127.0.0.1 2 8 "), "{state}");
    assert_eq!(spread(s.port, "/", 4), only("three", 4));
    // And `ready` after the reloads brings them back.
    assert_eq!(unix_cmd(&s.sock, "set server app/s1 state ready"), "\n");
    assert_eq!(unix_cmd(&s.sock, "set server app/s2 state ready"), "\n");
    assert_eq!(spread(s.port, "/", 8).len(), 3);
}

/// How long `n` concurrent one-shot requests to `GET /` take together.
fn concurrent(port: u16, n: usize) -> Duration {
    let start = std::time::Instant::now();
    let clients: Vec<_> = (0..n)
        .map(|_| {
            std::thread::spawn(move || {
                support::http_get_until_close(local(port), "/", &[])
                    .expect("response")
                    .body_str()
            })
        })
        .collect();
    for c in clients {
        assert_eq!(c.join().unwrap(), "slow");
    }
    start.elapsed()
}

/// An HTTP server that counts the requests it holds at once (read, not yet answered)
/// and keeps the most. Each round expects `gather` requests: with more than one it
/// answers none until all of them are in at once (so overlap is an event, not a
/// timing); with one it answers each after `delay`. It answers `slow`.
struct Overlap {
    acceptor: support::acceptor::Acceptor,
    state: std::sync::Arc<(std::sync::Mutex<Round>, std::sync::Condvar)>,
}

#[derive(Default)]
struct Round {
    gather: usize,
    arrived: usize,
    held: usize,
    peak: usize,
}

impl Overlap {
    fn start(delay: Duration) -> Overlap {
        use std::io::{BufRead, BufReader, Write};
        let state = std::sync::Arc::new((
            std::sync::Mutex::new(Round::default()),
            std::sync::Condvar::new(),
        ));
        let st = std::sync::Arc::clone(&state);
        let acceptor = support::acceptor::Acceptor::start(move |stream, _, _| {
            let mut out = stream.try_clone().expect("clone");
            let mut lines = BufReader::new(stream);
            loop {
                let mut head = String::new();
                while !head.ends_with("\r\n\r\n") {
                    match lines.read_line(&mut head) {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                }
                let (lock, cv) = &*st;
                let mut r = lock.lock().unwrap();
                r.arrived += 1;
                r.held += 1;
                r.peak = r.peak.max(r.held);
                cv.notify_all();
                let gather = r.gather;
                let (mut r, _) = cv
                    .wait_timeout_while(r, support::DEFAULT_TIMEOUT, |r| r.arrived < gather)
                    .unwrap();
                if gather <= 1 {
                    drop(r);
                    std::thread::sleep(delay);
                    r = lock.lock().unwrap();
                }
                // Counted out before the answer leaves: the proxy cannot send the
                // next request before this one is no longer held.
                r.held -= 1;
                drop(r);
                let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow";
                if out.write_all(reply).is_err() {
                    return;
                }
            }
        });
        Overlap { acceptor, state }
    }

    /// Starts a round of `gather` requests.
    fn round(&self, gather: usize) {
        *self.state.0.lock().unwrap() = Round {
            gather,
            ..Round::default()
        };
    }

    /// The most requests held at once in this round.
    fn peak(&self) -> usize {
        self.state.0.lock().unwrap().peak
    }
}

#[test]
fn runtime_maxconn_limits_servers_and_frontends() {
    let delay = Duration::from_millis(400);
    let be = Overlap::start(delay);
    let s = setup(&format!("    server s1 {}\n", be.acceptor.addr()), "");
    // Unlimited: three requests are at the server at once.
    let overlap = |n: usize| {
        be.round(n);
        concurrent(s.port, n);
        be.peak()
    };
    assert_eq!(overlap(3), 3);
    // One at a time on the server: they queue and take turns.
    let one_at_a_time = |what: &str| {
        be.round(1);
        let took = concurrent(s.port, 3);
        assert_eq!(be.peak(), 1, "{what}");
        assert!(took >= delay * 3, "{what}: {took:?}");
    };
    assert_eq!(unix_cmd(&s.sock, "set maxconn server app/s1 1"), "\n");
    one_at_a_time("server maxconn 1");
    assert_eq!(unix_cmd(&s.sock, "set maxconn server app/s1 0"), "\n");
    assert_eq!(overlap(3), 3);
    // One connection at a time on the frontend.
    assert_eq!(unix_cmd(&s.sock, "set maxconn frontend fe 1"), "\n");
    one_at_a_time("frontend maxconn 1");
    assert_eq!(unix_cmd(&s.sock, "set maxconn frontend fe 100"), "\n");
    assert_eq!(overlap(3), 3);
}

#[test]
fn idle_sessions_close_after_stats_timeout() {
    use std::io::{Read, Write};
    let one = HttpBackend::start("one");
    let s = setup(
        &format!("    server s1 {}\n", one.addr()),
        "    stats timeout 500ms\n",
    );
    let mut c = std::os::unix::net::UnixStream::connect(&s.sock).expect("connect");
    c.write_all(b"prompt\n").unwrap();
    let start = std::time::Instant::now();
    let mut got = Vec::new();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.read_to_end(&mut got)
        .expect("the socket closes the idle session");
    assert_eq!(got, b"\n> ");
    let idle = start.elapsed();
    assert!(
        idle >= Duration::from_millis(400) && idle < Duration::from_secs(5),
        "{idle:?}"
    );
}

#[test]
fn sockets_follow_the_configuration_across_reloads() {
    let one = HttpBackend::start("one");
    let tcp = free_port();
    let mut s = setup(
        &format!("    server s1 {}\n", one.addr()),
        "    stats socket unix@oper.sock level operator\n",
    );
    let oper = s.d.dir().join("oper.sock");
    assert_eq!(unix_cmd(&oper, "show cli level"), "operator\n\n");
    // admin.sock now at level user, oper.sock gone, a TCP socket added.
    let cfg = s
        .cfg
        .replace(
            "    stats socket unix@admin.sock level admin\n",
            &format!(
                "    stats socket unix@admin.sock level user\n    stats socket ipv4@127.0.0.1:{tcp} level admin\n"
            ),
        )
        .replace("    stats socket unix@oper.sock level operator\n", "");
    reload(&mut s.d, Some(&cfg), 1);
    assert_eq!(unix_cmd(&s.sock, "show cli level"), "user\n\n");
    assert!(!oper.exists(), "the removed socket's file is still there");
    assert!(std::os::unix::net::UnixStream::connect(&oper).is_err());
    assert_eq!(
        socat(&format!("TCP:127.0.0.1:{tcp}"), "show cli level\n"),
        "admin\n\n"
    );
    // Traffic went on throughout.
    assert_eq!(spread(s.port, "/", 2), only("one", 2));
}

#[test]
fn show_sess_lists_client_connections() {
    let one = HttpBackend::start("one");
    let s = setup(&format!("    server s1 {}\n", one.addr()), "");
    let sock = s.sock.clone();
    let sess = move |arg: &str| unix_cmd(&sock, &format!("show sess {arg}"));
    assert_eq!(sess(""), "\n");
    let mut c = HttpClient::connect(local(s.port)).expect("connect");
    assert_eq!(c.get("/", &[]).expect("response").body_str(), "one");
    let me = c.stream().local_addr().unwrap();
    let list = sess("");
    let line = list.lines().next().unwrap_or_default().to_owned();
    assert!(
        line.ends_with(&format!(": proto=tcpv4 src={me} fe=fe age=0s"))
            || line.contains(&format!(": proto=tcpv4 src={me} fe=fe age=")),
        "{list}"
    );
    assert_eq!(list.lines().count(), 2, "{list}");
    // One session by its id; an unknown id.
    let id = line.split(':').next().unwrap().to_owned();
    assert_eq!(sess(&id), format!("{line}\n\n"));
    assert_eq!(sess("0xffffff"), "Session not found.\n\n");
    drop(c);
    assert!(wait_until(Duration::from_secs(5), || sess("") == "\n"));
}

#[test]
fn no_server_is_added_while_soft_stopping() {
    let one = HttpBackend::start("one");
    let mut s = setup(&format!("    server s1 {}\n", one.addr()), "");
    // A client connection keeps the soft-stopping process alive.
    let mut c = HttpClient::connect(local(s.port)).expect("connect");
    assert_eq!(c.get("/", &[]).expect("response").body_str(), "one");
    s.d.signal(libc::SIGUSR1);
    assert!(wait_until(Duration::from_secs(5), || {
        std::net::TcpStream::connect(local(s.port)).is_err()
    }));
    assert_eq!(
        unix_cmd(&s.sock, &format!("add server app/s2 {}", one.addr())),
        "The proxy is stopping.\n\n"
    );
    // The listeners stay closed.
    assert!(std::net::TcpStream::connect(local(s.port)).is_err());
    drop(c);
    assert!(s.d.wait_exit(Duration::from_secs(10)).is_some());
}
