//! `option pgsql-audit-statements`: the client's bytes pass through unchanged while a
//! small state machine follows the message framing (`crate::pgwire::frame`) and hands
//! each simple-protocol `Query` (`Q`) and extended-protocol `Parse` (`P`) statement,
//! cut at the configured length, to a callback.

use crate::pgwire::frame::{Framing, Piece};

/// Follows the framing of a client's message stream and keeps its statements.
#[derive(Debug)]
pub struct Framer {
    max: usize,
    framing: Framing,
    /// The current message's type.
    tag: u8,
    /// The current statement's text so far (a `Query` or `Parse` whose text has not
    /// ended yet).
    capture: Option<Vec<u8>>,
    /// `Parse`: the statement name before the text is skipped.
    skip_name: bool,
}

impl Framer {
    /// A framer keeping at most `max` bytes of each statement.
    pub fn new(max: usize) -> Framer {
        Framer {
            max,
            framing: Framing::default(),
            tag: 0,
            capture: None,
            skip_name: false,
        }
    }

    /// Feeds bytes; calls `done(kind, text)` for each complete `Query`/`Parse`.
    pub fn feed(&mut self, b: &[u8], done: &mut dyn FnMut(u8, &[u8])) {
        let Framer {
            max,
            framing,
            tag,
            capture,
            skip_name,
        } = self;
        framing.feed(b, |piece| match piece {
            Piece::Start(t, _) => {
                *tag = t;
                *capture = matches!(t, b'Q' | b'P').then(Vec::new);
                *skip_name = t == b'P';
            }
            Piece::Body(mut chunk) => {
                let Some(c) = capture else { return };
                if *skip_name {
                    match memchr::memchr(0, chunk) {
                        Some(z) => {
                            *skip_name = false;
                            chunk = &chunk[z + 1..];
                        }
                        None => return,
                    }
                }
                let room = max.saturating_sub(c.len());
                let nul = memchr::memchr(0, chunk);
                let text = nul.map_or(chunk, |z| &chunk[..z]);
                c.extend_from_slice(&text[..text.len().min(room)]);
                if nul.is_some() {
                    // The statement's text ended; the rest of the message is not kept.
                    done(*tag, c.as_slice());
                    *capture = None;
                }
            }
            Piece::End => {
                if let Some(c) = capture.take() {
                    done(*tag, &c);
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![tag];
        m.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn queries_and_parses_are_seen_whatever_the_read_boundaries() {
        let mut stream = msg(b'Q', b"SELECT 1\0");
        stream.extend(msg(b'P', b"s1\0SELECT $1::int\0\0\0"));
        stream.extend(msg(b'B', b"\0s1\0\0\0\0\0\0\0"));
        stream.extend(msg(b'Q', b"SELECT 'a very long statement'\0"));
        for step in [1, 2, 3, 7, stream.len()] {
            let mut f = Framer::new(10);
            let mut seen = Vec::new();
            for c in stream.chunks(step) {
                f.feed(c, &mut |k, t| {
                    seen.push((k, String::from_utf8_lossy(t).into_owned()))
                });
            }
            assert_eq!(
                seen,
                vec![
                    (b'Q', "SELECT 1".to_owned()),
                    (b'P', "SELECT $1:".to_owned()),
                    (b'Q', "SELECT 'a ".to_owned()),
                ],
                "step {step}"
            );
        }
    }
}
