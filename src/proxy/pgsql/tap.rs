//! `option pgsql-audit-statements`: the client's bytes pass through unchanged while a
//! small state machine follows the message framing and hands each simple-protocol
//! `Query` (`Q`) and extended-protocol `Parse` (`P`) statement, cut at the configured
//! length, to a callback.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

/// Follows the framing of a client's message stream.
#[derive(Debug)]
pub struct Framer {
    max: usize,
    head: [u8; 5],
    have: usize,
    left: usize,
    capture: Option<Vec<u8>>,
    /// `Parse`: the statement name before the text is skipped.
    skip_name: bool,
}

impl Framer {
    /// A framer keeping at most `max` bytes of each statement.
    pub fn new(max: usize) -> Framer {
        Framer {
            max,
            head: [0; 5],
            have: 0,
            left: 0,
            capture: None,
            skip_name: false,
        }
    }

    /// Feeds bytes; calls `done(kind, text)` for each complete `Query`/`Parse`.
    pub fn feed(&mut self, mut b: &[u8], done: &mut dyn FnMut(u8, &[u8])) {
        while !b.is_empty() {
            if self.left == 0 && self.have < 5 {
                let n = (5 - self.have).min(b.len());
                self.head[self.have..self.have + n].copy_from_slice(&b[..n]);
                self.have += n;
                b = &b[n..];
                if self.have == 5 {
                    let len = u32::from_be_bytes([
                        self.head[1],
                        self.head[2],
                        self.head[3],
                        self.head[4],
                    ]) as usize;
                    self.left = len.saturating_sub(4);
                    let kind = self.head[0];
                    self.capture = matches!(kind, b'Q' | b'P').then(Vec::new);
                    self.skip_name = kind == b'P';
                    if self.left == 0 {
                        self.finish(done);
                    }
                }
                continue;
            }
            let n = self.left.min(b.len());
            let mut chunk = &b[..n];
            if self.skip_name {
                match memchr::memchr(0, chunk) {
                    Some(z) => {
                        self.skip_name = false;
                        chunk = &chunk[z + 1..];
                    }
                    None => chunk = &[],
                }
            }
            if let Some(c) = &mut self.capture {
                let room = self.max.saturating_sub(c.len());
                let text = match memchr::memchr(0, chunk) {
                    Some(z) => &chunk[..z],
                    None => chunk,
                };
                c.extend_from_slice(&text[..text.len().min(room)]);
                if memchr::memchr(0, chunk).is_some() {
                    // The statement's text ended; the rest of the message is not kept.
                    let text = std::mem::take(c);
                    done(self.head[0], &text);
                    self.capture = None;
                }
            }
            self.left -= n;
            b = &b[n..];
            if self.left == 0 {
                self.finish(done);
            }
        }
    }

    fn finish(&mut self, done: &mut dyn FnMut(u8, &[u8])) {
        if let Some(c) = self.capture.take() {
            done(self.head[0], &c);
        }
        self.have = 0;
        self.skip_name = false;
    }
}

/// A reader that shows every byte read to a [`Framer`].
pub struct Tap<R, F> {
    /// The client's reading half.
    pub inner: R,
    /// The framer.
    pub framer: Framer,
    /// Called with each statement.
    pub on_statement: F,
}

impl<R: AsyncRead + Unpin, F: FnMut(u8, &[u8]) + Unpin> AsyncRead for Tap<R, F> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut me.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            let new = &buf.filled()[before..];
            me.framer.feed(new, &mut me.on_statement);
        }
        r
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
