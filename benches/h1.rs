//! Benchmarks of the HTTP/1 hot path: parsing a typical browser request head, writing it
//! back out with edits, and validating a 64 KiB chunked body.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gatehouse::proxy::h1::{
    ChunkedDecoder, HeadEdits, Limits, RequestHead, parse_request_into, write_request_head,
};
use std::hint::black_box;

const BROWSER_REQUEST: &[u8] = b"GET /static/app/main.3f2a9c.js?v=20240101 HTTP/1.1\r\n\
Host: www.example.com\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
Accept: */*\r\n\
Accept-Language: en-US,en;q=0.5\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Referer: https://www.example.com/products/list?page=2\r\n\
Connection: keep-alive\r\n\
Cookie: session=6f1c2a9b8e7d4c3b2a1f0e9d8c7b6a5f; theme=dark; consent=1\r\n\
Sec-Fetch-Dest: script\r\n\
Sec-Fetch-Mode: no-cors\r\n\
Sec-Fetch-Site: same-origin\r\n\
Priority: u=1\r\n\
\r\n";

fn parse(c: &mut Criterion) {
    let limits = Limits::default();
    let mut head = RequestHead::default();
    let mut g = c.benchmark_group("h1");
    g.throughput(Throughput::Bytes(BROWSER_REQUEST.len() as u64));
    g.bench_function("parse_browser_request", |b| {
        b.iter(|| parse_request_into(&mut head, black_box(BROWSER_REQUEST), &limits))
    });
    let _ = parse_request_into(&mut head, BROWSER_REQUEST, &limits);
    let mut out = Vec::with_capacity(1024);
    let add: &[(&[u8], &[u8])] = &[(b"x-forwarded-for", b"192.0.2.10")];
    let edits = HeadEdits {
        add,
        ..HeadEdits::default()
    };
    g.bench_function("write_browser_request", |b| {
        b.iter(|| {
            out.clear();
            write_request_head(&head, black_box(BROWSER_REQUEST), &edits, &mut out);
        })
    });
    g.finish();
}

fn chunked(c: &mut Criterion) {
    // 64 KiB of payload in 4 KiB chunks with a trailer-less end.
    let mut body = Vec::new();
    for _ in 0..16 {
        body.extend_from_slice(b"1000\r\n");
        body.extend(std::iter::repeat_n(b'x', 4096));
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let mut g = c.benchmark_group("h1");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("chunked_64k_in_16k_reads", |b| {
        b.iter(|| {
            let mut d = ChunkedDecoder::for_request();
            for piece in black_box(&body).chunks(16384) {
                let _ = d.feed(piece);
            }
            d.is_done()
        })
    });
    g.finish();
}

criterion_group!(benches, parse, chunked);
criterion_main!(benches);
