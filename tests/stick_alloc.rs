//! The hot path of `track-sc0 src` with an `ip` key allocates nothing once the entry
//! exists: encoding the key, tracking the entry, counting the request, reading its rate
//! and letting it go at the end of the request. A counting global allocator wraps the
//! system one; the first request (which creates the entry) is not counted.

use gatehouse::config::model::{StickData, StickKeyType, StickTableDef, StoreItem};
use gatehouse::runtime::stick::track::{count_bytes, count_request, count_status};
use gatehouse::runtime::stick::{KeyIn, Table, Trackers};
use std::sync::Arc;

#[path = "support/alloc.rs"]
mod alloc_count;
use alloc_count::allocations;

#[global_allocator]
static GLOBAL: alloc_count::Counting = alloc_count::Counting;

/// One request: track the source, count it, read the rate, end.
fn request(t: &Arc<Table>, trk: &mut Trackers, src: std::net::IpAddr) -> i64 {
    let key = t.key(KeyIn::Ip(src)).expect("an ip key");
    trk.track(0, t, key.bytes(), true).expect("tracked");
    let rate = t
        .read(&trk.get(0).unwrap().entry, StickData::HttpReqRate, 0)
        .unwrap();
    count_request(None, None);
    count_status(Some(trk), None, 200);
    count_bytes(Some(trk), None, 120, 300);
    trk.clear();
    rate
}

#[test]
fn tracking_an_ip_key_allocates_nothing_once_the_entry_exists() {
    let def = StickTableDef {
        key: StickKeyType::Ip,
        key_size: 4,
        size: 1024,
        expire_ms: Some(60_000),
        nopurge: false,
        store: [
            (StickData::HttpReqRate, 10_000),
            (StickData::HttpReqCnt, 0),
            (StickData::ConnCur, 0),
            (StickData::BytesOutCnt, 0),
        ]
        .into_iter()
        .map(|(data, period_ms)| StoreItem {
            data,
            count: 1,
            period_ms,
        })
        .collect(),
        redis: None,
    };
    let t = Arc::new(Table::new("fe", def));
    let mut trk = Trackers::default();
    let src = "192.0.2.7".parse().unwrap();
    assert_eq!(request(&t, &mut trk, src), 1);
    let n = allocations(|| {
        for _ in 0..1000 {
            request(&t, &mut trk, src);
        }
    });
    assert_eq!(n, 0, "allocations in 1000 tracked requests");
    assert_eq!(t.used(), 1);
    let dump = t.dump(&[], None);
    assert!(dump.contains(" conn_cur=0 http_req_cnt=1001 "), "{dump}");
}
