//! `bind` in every address form serves traffic: IPv4, IPv6, port ranges, several binds,
//! unix and abstract sockets, inherited descriptors (`fd@N`), and `nbthread`.

mod support;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use support::*;

const DEFAULTS: &str =
    "defaults\n  mode http\n  timeout client 5s\n  timeout server 5s\n  timeout connect 5s\n";

fn ok_frontend(binds: &str) -> String {
    format!(
        "{DEFAULTS}frontend f\n{binds}  http-request return status 200 content-type text/plain string served\n"
    )
}

fn raw_get(mut s: impl Read + Write) -> String {
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn ipv4_ipv6_and_several_binds() {
    let (p1, p2) = (free_port(), free_port());
    let cfg = ok_frontend(&format!("  bind 127.0.0.1:{p1}\n  bind [::1]:{p2}\n"));
    let _g = Gatehouse::start(&cfg, &[p1]);
    assert!(raw_get(std::net::TcpStream::connect(("127.0.0.1", p1)).unwrap()).ends_with("served"));
    let v6 = std::net::TcpStream::connect(("::1", p2)).expect("IPv6 listener");
    assert!(raw_get(v6).ends_with("served"));
}

#[test]
fn a_port_range_listens_on_every_port() {
    // Three consecutive free ports, none of them given to another test.
    let base = free_ports(3);
    let cfg = ok_frontend(&format!("  bind 127.0.0.1:{base}-{}\n", base + 2));
    let _g = Gatehouse::start(&cfg, &[base, base + 1, base + 2]);
    for p in base..=base + 2 {
        assert!(
            raw_get(std::net::TcpStream::connect(("127.0.0.1", p)).unwrap()).ends_with("served"),
            "port {p}"
        );
    }
}

#[test]
fn unix_and_abstract_sockets() {
    let dir = TempDir::new("bind-unix");
    let path = dir.path().join("gh.sock");
    let port = free_port();
    let name = format!("gatehouse-test-{}", std::process::id());
    let cfg = ok_frontend(&format!(
        "  bind 127.0.0.1:{port}\n  bind unix@{} mode 600\n  bind abns@{name}\n",
        path.display()
    ));
    let _g = Gatehouse::start(&cfg, &[port]);
    // The TCP port answers first: wait for the unix socket to accept too.
    let mut unix = None;
    wait_until(std::time::Duration::from_secs(5), || {
        unix = UnixStream::connect(&path).ok();
        unix.is_some()
    });
    let unix = unix.unwrap_or_else(|| panic!("unix socket {} never accepted", path.display()));
    assert!(raw_get(unix).ends_with("served"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    assert!(raw_get(UnixStream::connect_addr(&addr).unwrap()).ends_with("served"));
}

#[test]
fn an_inherited_listening_descriptor_is_served() {
    use std::os::fd::AsRawFd;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let fd = listener.as_raw_fd();
    // Let the child inherit it, as systemd or a supervisor would hand it over.
    // SAFETY: clearing FD_CLOEXEC on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFD);
        libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC);
    }
    let cfg = ok_frontend(&format!("  bind fd@{fd}\n"));
    let _g = Gatehouse::start(&cfg, &[port]);
    assert!(
        raw_get(std::net::TcpStream::connect(("127.0.0.1", port)).unwrap()).ends_with("served")
    );
    drop(listener);
}

#[test]
fn nbthread_serves_with_several_threads() {
    let port = free_port();
    let cfg = format!(
        "global\n  nbthread 2\n{}",
        ok_frontend(&format!("  bind 127.0.0.1:{port}\n"))
    );
    let g = Gatehouse::start(&cfg, &[port]);
    let handles: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(move || {
                (0..20).all(|_| http_get(local(port), "/", &[]).unwrap().status == 200)
            })
        })
        .collect();
    assert!(handles.into_iter().all(|h| h.join().unwrap()));
    let threads = std::fs::read_dir(format!("/proc/{}/task", g.pid()))
        .unwrap()
        .count();
    assert!(
        threads >= 2,
        "nbthread 2 runs worker threads ({threads} threads)"
    );
}

/// Threads of a process (its main thread included).
fn thread_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .count()
}

#[test]
fn nbthread_defaults_to_the_cpus_the_process_may_use() {
    use std::os::unix::process::CommandExt;
    let cpus = std::thread::available_parallelism().unwrap().get();
    let port = free_port();
    let dir = TempDir::new("nbthread-default");
    let cfg = dir.write("g.cfg", ok_frontend(&format!("  bind 127.0.0.1:{port}\n")));
    // Without `nbthread`: one worker per CPU of the affinity mask (HAProxy's default),
    // so bound to CPU 0 the process serves from its one thread.
    for pin in [false, true] {
        let mut cmd = std::process::Command::new(gatehouse_bin());
        cmd.arg("-db").arg("-f").arg(&cfg);
        if pin {
            // SAFETY: only sched_setaffinity on the child between fork and exec.
            unsafe {
                cmd.pre_exec(|| {
                    let mut set: libc::cpu_set_t = std::mem::zeroed();
                    libc::CPU_SET(0, &mut set);
                    if libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let mut child = cmd
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        assert!(
            wait_until(std::time::Duration::from_secs(10), || {
                std::net::TcpStream::connect(local(port)).is_ok()
            }),
            "gatehouse did not listen"
        );
        assert_eq!(http_get(local(port), "/", &[]).unwrap().status, 200);
        let threads = thread_count(child.id());
        let _ = child.kill();
        let _ = child.wait();
        if pin {
            assert_eq!(threads, 1, "bound to one CPU: one thread");
        } else if cpus > 1 {
            assert!(
                threads > cpus,
                "{cpus} CPUs: main thread plus {cpus} workers, got {threads} threads"
            );
        }
    }
}
