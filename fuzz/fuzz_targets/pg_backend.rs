//! Fuzz target: arbitrary bytes as what a PostgreSQL server sends gatehouse, through the
//! backend-message parser (`gatehouse::pgwire::message::parse_backend`), fed whole and
//! in pieces. It must never panic nor allocate past its bound, and the pieces must not
//! change the messages read or where an error stops them.
//!
//! Run: `RUSTC_BOOTSTRAP=1 cargo fuzz run pg_backend` (see ../shared/FUZZING.md).
#![no_main]

use bytes::BytesMut;
use gatehouse::pgwire::message::{Backend, parse_backend};
use libfuzzer_sys::fuzz_target;

/// The messages read from `pieces` fed one after the other, and whether an error ended
/// them.
fn read_all(pieces: &[&[u8]]) -> (Vec<Backend>, bool) {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for p in pieces {
        buf.extend_from_slice(p);
        loop {
            match parse_backend(&mut buf) {
                Ok(Some(m)) => out.push(m),
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    (out, false)
}

fuzz_target!(|data: &[u8]| {
    let Some((&cut, body)) = data.split_first() else {
        return;
    };
    let step = usize::from(cut % 11) + 1;
    let pieces: Vec<&[u8]> = body.chunks(step).collect();
    let whole = read_all(&[body]);
    let many = read_all(&pieces);
    assert_eq!(whole, many, "feeding in pieces of {step} changed the messages");
});
