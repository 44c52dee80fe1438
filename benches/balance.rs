//! Benchmarks of `Balancer::pick_ex` for the common algorithms.

use criterion::{Criterion, criterion_group, criterion_main};
use gatehouse::balance::{BalanceInput, Balancer};
use gatehouse::config::model::{Balance, HashType};
use gatehouse::runtime::server::ServerState;
use std::hint::black_box;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;

struct Req {
    src: IpAddr,
    uri: &'static [u8],
}

impl BalanceInput for Req {
    fn src(&self) -> Option<IpAddr> {
        Some(self.src)
    }
    fn uri(&self) -> Option<&[u8]> {
        Some(self.uri)
    }
    fn header(&self, _name: &str) -> Option<&[u8]> {
        None
    }
}

fn farm(n: usize) -> Vec<Arc<ServerState>> {
    (0..n)
        .map(|i| {
            let addr: SocketAddr = ([127, 0, 0, 1], 9000 + i as u16).into();
            Arc::new(ServerState::new(
                format!("s{i}"),
                i,
                addr,
                1 + (i as u32 % 3),
            ))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let req = Req {
        src: IpAddr::from([192, 0, 2, 33]),
        uri: b"/static/img/logo.png?v=3",
    };
    let map = HashType::default();
    let consistent = HashType {
        consistent: true,
        ..HashType::default()
    };
    let cases = [
        ("roundrobin/2", Balance::RoundRobin, &map, 2),
        ("roundrobin/16", Balance::RoundRobin, &map, 16),
        ("leastconn/16", Balance::LeastConn, &map, 16),
        ("source/16", Balance::Source, &map, 16),
        (
            "uri-consistent/16",
            Balance::Uri {
                whole: false,
                len: 0,
                depth: 0,
            },
            &consistent,
            16,
        ),
    ];
    for (name, balance, hash_type, n) in cases {
        let b = Balancer::new(&balance, hash_type, false, farm(n));
        for (i, s) in b.servers().iter().enumerate() {
            s.cur_conns.store((i * 7 % 5) as u32, Ordering::Relaxed);
        }
        c.bench_function(&format!("pick/{name}"), |bench| {
            bench.iter(|| black_box(b.pick_ex(black_box(&req), &[])))
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
