//! Fuzz target: arbitrary bytes as a chunked body through the streaming decoder, fed
//! whole and in pieces. It must never panic, and the pieces must not change the verdict:
//! the same number of body bytes, the same end, payload length and error position.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run h1_chunked` (see ../shared/FUZZING.md).
#![no_main]

use gatehouse::proxy::h1::ChunkedDecoder;
use libfuzzer_sys::fuzz_target;

/// What a decoder said about a whole input: bytes of the body (or the error's
/// position), whether it ended, and the payload length.
fn verdict(d: &mut ChunkedDecoder, pieces: &[&[u8]]) -> (Result<usize, usize>, bool, u64) {
    let mut used = 0;
    for p in pieces {
        match d.feed(p) {
            Ok(n) => {
                assert!(n <= p.len(), "consumed {n} of {} bytes", p.len());
                used += n;
                if n < p.len() {
                    assert!(d.is_done(), "stopped early without reaching the end");
                    break;
                }
            }
            Err(e) => return (Err(e.position()), d.is_done(), d.payload_len()),
        }
    }
    (Ok(used), d.is_done(), d.payload_len())
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks where to cut the rest into pieces.
    let Some((&cut, body)) = data.split_first() else {
        return;
    };
    let step = usize::from(cut % 7) + 1;
    let pieces: Vec<&[u8]> = body.chunks(step).collect();
    // Requests and responses have their own trailer rules: each kind is compared with
    // itself, whole against pieces.
    for new in [ChunkedDecoder::for_request, ChunkedDecoder::for_response] {
        let mut whole = new();
        let one = verdict(&mut whole, &[body]);
        let many = verdict(&mut new(), &pieces);
        assert_eq!(one, many, "feeding in pieces of {step} changed the verdict");
        if one.1 {
            // Once done, the decoder takes nothing more; after a reset it starts over.
            assert_eq!(whole.feed(b"5\r\nhello\r\n0\r\n\r\n").ok(), Some(0));
            whole.reset();
            assert!(!whole.is_done() && whole.payload_len() == 0);
        }
    }
});
