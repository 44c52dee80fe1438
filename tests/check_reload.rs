//! Checks keep running through a reload: a server that remains keeps its health (a DOWN
//! server stays DOWN, its checker goes on counting), a new server starts being checked,
//! a removed one stops. The proxy runs in this process so the live state can be read.

mod support;

use gatehouse::proxy::running::Running;
use gatehouse::runtime::health::CheckStatus;
use std::net::TcpListener;
use std::sync::atomic::Ordering;
use std::time::Duration;
use support::free_port;

fn load(text: &str) -> gatehouse::config::model::Config {
    let loaded = gatehouse::load::load_str("checks.cfg", text);
    assert!(!loaded.has_errors(), "{:?}", loaded.diags);
    loaded.config
}

fn config(port: u16, servers: &str) -> String {
    format!(
        "defaults\n    mode tcp\n    timeout connect 500ms\n    timeout client 5s\n    timeout server 5s\n\
         listen be\n    bind 127.0.0.1:{port}\n{servers}"
    )
}

async fn until(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[test]
fn check_state_survives_a_reload_and_checkers_follow_the_servers() {
    let port = free_port();
    let dead = free_port();
    let alive = TcpListener::bind("127.0.0.1:0").unwrap();
    let alive = alive.local_addr().unwrap();
    // Accepts and drops, so connect checks pass.
    let l = TcpListener::bind(alive).ok();
    std::thread::spawn(move || {
        if let Some(l) = l {
            for s in l.incoming() {
                drop(s);
            }
        }
    });
    let first = config(
        port,
        &format!(
            "    server down 127.0.0.1:{dead} check inter 50 fall 1 rise 1\n    server gone 127.0.0.1:{dead} check inter 50 fall 1 rise 1\n"
        ),
    );
    let second = config(
        port,
        &format!(
            "    server down 127.0.0.1:{dead} check inter 50 fall 1 rise 1\n    server fresh {alive} check inter 50 fall 1 rise 1\n"
        ),
    );
    let quiet = true;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut r = Running::new(&load(&first)).unwrap();
        r.set_quiet(quiet);
        r.start();
        let be = r.store().find_backend("be").unwrap();
        let down = be.find_server("down").unwrap();
        let gone = be.find_server("gone").unwrap();
        assert!(
            until(|| !down.up.load(Ordering::Relaxed) && !gone.up.load(Ordering::Relaxed)).await
        );
        assert_eq!(down.health.get().last.status, CheckStatus::L4Con);
        assert_eq!(down.health.get().chkdown, 1);

        r.reload(&load(&second)).unwrap();
        // Still DOWN right after the reload: the state was kept, not reset to UP.
        assert!(!down.up.load(Ordering::Relaxed));
        let fresh = be.find_server("fresh").unwrap();
        assert!(until(|| fresh.health.get().last.status == CheckStatus::L4Ok).await);
        assert!(fresh.up.load(Ordering::Relaxed));
        // The removed server's checker has stopped; the remaining one's goes on and
        // sees its server come back.
        let gone_fails = gone.health.get().chkfail;
        let back = TcpListener::bind(("127.0.0.1", dead)).unwrap();
        assert!(until(|| down.up.load(Ordering::Relaxed)).await);
        let h = down.health.get();
        assert_eq!((h.last.status, h.chkdown), (CheckStatus::L4Ok, 1));
        assert_eq!(gone.health.get().chkfail, gone_fails);
        drop(back);
        r.stop_accepting();
    });
}
