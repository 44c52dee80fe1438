//! Chunked body validation: end detection at any read boundary, and refusal of bad framing.

use crate::proxy::h1::{ChunkedDecoder, H1ErrorKind};

/// Feeds `body` in two pieces split at `cut`; returns bytes consumed and doneness.
fn feed_split(body: &[u8], cut: usize) -> (usize, bool) {
    let mut d = ChunkedDecoder::for_request();
    let a = d.feed(&body[..cut]).expect("first piece");
    let b = d.feed(&body[cut..]).expect("second piece");
    (a + b, d.is_done())
}

#[test]
fn finds_the_end_at_every_split_point() {
    let body: &[u8] =
        b"5;name=val\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Trailer: t\r\n\r\n";
    let mut with_next = body.to_vec();
    with_next.extend_from_slice(b"GET /next HTTP/1.1\r\n\r\n");
    for cut in 0..=with_next.len() {
        assert_eq!(
            feed_split(&with_next, cut),
            (body.len(), true),
            "cut at {cut}"
        );
    }
}

#[test]
fn byte_by_byte_and_payload_length() {
    let body: &[u8] = b"3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n";
    let mut d = ChunkedDecoder::for_response();
    let mut used = 0;
    for b in body {
        used += d.feed(std::slice::from_ref(b)).expect("valid");
    }
    assert!(d.is_done());
    assert_eq!((used, d.payload_len()), (body.len(), 19));
    assert_eq!(d.feed(b"more"), Ok(0));
    d.reset();
    assert!(!d.is_done());
}

#[test]
fn accepts_bare_lf_and_whitespace_like_haproxy() {
    for body in [
        &b"2\nok\n0\n\n"[..],
        b"2 \r\nok\r\n0\r\n\r\n",
        b"2 ;a=b\r\nok\r\n0\r\n\r\n",
        b"000\r\n\r\n",
    ] {
        let mut d = ChunkedDecoder::for_request();
        assert_eq!(
            d.feed(body),
            Ok(body.len()),
            "{:?}",
            String::from_utf8_lossy(body)
        );
        assert!(d.is_done());
    }
}

#[test]
fn refuses_bad_framing_with_400_or_502() {
    let bad: &[&[u8]] = &[
        b"Z\r\n",                   // non-hex size
        b"\r\n",                    // empty size
        b"-1\r\n",                  // sign
        b"2\r\nokX\r\n",            // data not followed by CRLF
        b"2\r\nok\rX",              // CR not followed by LF
        b"2\rX",                    // size line CR without LF
        b"1000000000000000000\r\n", // overflows
        b"2 x\r\n",                 // junk after size
        b"0\r\n bad-fold\r\n\r\n",  // trailer starting with whitespace
        b"0\r\nX: a\x00b\r\n\r\n",  // NUL in trailer
        b"1;ext\x01\r\n",           // control byte in extension
    ];
    for body in bad {
        let mut d = ChunkedDecoder::for_request();
        let e = d.feed(body).expect_err(&String::from_utf8_lossy(body));
        assert_eq!((e.kind(), e.status()), (H1ErrorKind::BadChunk, 400));
        let e = ChunkedDecoder::for_response().feed(body).unwrap_err();
        assert_eq!(e.status(), 502);
    }
}

#[test]
fn huge_but_valid_chunk_is_skipped_without_scanning() {
    let mut d = ChunkedDecoder::for_request();
    assert_eq!(d.feed(b"FFFFFFFF\r\n"), Ok(10));
    assert_eq!(d.feed(&[b'x'; 1000]), Ok(1000));
    assert!(!d.is_done());
}

#[test]
fn reencoding_writes_only_crlf_framing_at_every_split_point() {
    let body: &[u8] = b"3;ext=1\r\nabc\n4\nDEFG\r\n0A\r\n0123456789\r\n0;x\r\nX-Sum:  7 \r\nTransfer-Encoding: chunked\r\n\r\nNEXT";
    for cut in 0..=body.len() {
        let mut d = ChunkedDecoder::for_request();
        let mut out = Vec::new();
        let a = d.reencode(&body[..cut], &mut out).expect("first piece");
        let b = d.reencode(&body[a..], &mut out).expect("second piece");
        assert_eq!(a + b, body.len() - 4, "cut {cut}");
        assert!(d.is_done());
        // The output is well-formed for a strict reader and carries the same payload.
        let mut check = ChunkedDecoder::for_request();
        assert_eq!(
            check.feed(&out),
            Ok(out.len()),
            "cut {cut}: {}",
            out.escape_ascii()
        );
        assert_eq!(check.payload_len(), 17);
        assert!(!out.contains(&b';'), "cut {cut}");
        assert!(
            out.windows(2)
                .filter(|w| w[1] == b'\n')
                .all(|w| w[0] == b'\r')
        );
        assert!(
            out.ends_with(b"0\r\nx-sum: 7\r\n\r\n"),
            "{}",
            out.escape_ascii()
        );
    }
    let mut d = ChunkedDecoder::for_request();
    let mut out = Vec::new();
    d.reencode(b"2E\r\n", &mut out).expect("size line");
    assert!(out.is_empty(), "no empty chunk may be written");
    d.reencode(&[b'x'; 0x2e], &mut out).expect("data");
    assert!(out.starts_with(b"2E\r\n"));
}

#[test]
fn frames_then_encoding_give_the_bytes_reencoding_gives_at_every_split_point() {
    // What reaches the server through the neutral frames (decode, then encode) is what
    // HAProxy-style re-encoding wrote before the seam: same chunks, trailers, end.
    use crate::proxy::h1::encode_chunked;
    use crate::proxy::message::Frames;
    let body: &[u8] = b"3;ext=1\r\nabc\n4\nDEFG\r\n0A\r\n0123456789\r\n0;x\r\nX-Sum:  7 \r\nTransfer-Encoding: chunked\r\n\r\nNEXT";
    for cut in 0..=body.len() {
        let mut old = ChunkedDecoder::for_request();
        let mut want = Vec::new();
        let a = old.reencode(&body[..cut], &mut want).expect("first piece");
        old.reencode(&body[a..], &mut want).expect("second piece");

        let mut d = ChunkedDecoder::for_request();
        let (mut data, mut trailers, mut got) = (Vec::new(), Vec::new(), Vec::new());
        let mut at = 0;
        for end in [cut, body.len()] {
            if d.is_done() {
                // The exchange reads no more once the end came.
                break;
            }
            data.clear();
            let k = d.decode(&body[at..end.max(at)], &mut data, &mut trailers);
            at += k.expect("decodes");
            let done = d.is_done();
            let frames = Frames {
                data: &data,
                trailers: if done { &trailers } else { &[] },
                end: done,
                wire: 0,
                end_of_trailers: false,
            };
            encode_chunked(&frames, &mut got);
        }
        assert_eq!(at, body.len() - 4, "cut {cut}");
        assert_eq!(
            got.escape_ascii().to_string(),
            want.escape_ascii().to_string(),
            "cut {cut}"
        );
    }
}
