//! The framing of PostgreSQL's regular messages (protocol 3), in one place for both
//! directions: a type byte, a 4-byte big-endian length that counts itself but not the
//! type, then the body. [`encode`] writes one, [`read_message`] reads one whole,
//! [`Framing`] follows a stream of them piece by piece as it passes through (the front
//! door's statement audit and its `57P01` between two messages), and the backend
//! reader of [`super::message`] checks lengths with [`body_len`].
//! (Startup packets have no type byte: the front door reads those itself.)

use tokio::io::{AsyncRead, AsyncReadExt};

/// A message's header: the type byte and the length.
pub const HEADER_LEN: usize = 5;

/// The body length that `header`'s length field announces, `None` when the field is
/// below its own 4 bytes or the body above `max`.
pub fn body_len(header: &[u8; HEADER_LEN], max: usize) -> Option<usize> {
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    len.checked_sub(4).filter(|n| *n <= max)
}

/// One message: `tag`, the length, `body`.
pub fn encode(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + HEADER_LEN);
    out.push(tag);
    out.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Reads one whole message (type byte, length, body) of at most `max` body bytes: its
/// type and body. A length out of bounds is `InvalidData`.
pub async fn read_message<R: AsyncRead + Unpin + ?Sized>(
    r: &mut R,
    max: usize,
) -> std::io::Result<(u8, Vec<u8>)> {
    let mut head = [0u8; HEADER_LEN];
    r.read_exact(&mut head).await?;
    let Some(n) = body_len(&head, max) else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "invalid message length",
        ));
    };
    let mut body = vec![0u8; n];
    r.read_exact(&mut body).await?;
    Ok((head[0], body))
}

/// A piece of the message stream, as [`Framing::feed`] hands it out.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// A message starts: its type and body length (its header is complete).
    Start(u8, usize),
    /// Bytes of the current message's body.
    Body(&'a [u8]),
    /// The current message is complete.
    End,
}

/// Follows the message boundaries of a byte stream cut anywhere (what one read or one
/// write carries), without copying it.
#[derive(Clone, Debug, Default)]
pub struct Framing {
    /// The current message's header bytes seen so far (`have` of them).
    head: [u8; HEADER_LEN],
    have: usize,
    /// Bytes of the current message's body still to come.
    left: usize,
}

impl Framing {
    /// Follows `b`, the next bytes of the stream, calling `each` with its pieces.
    pub fn feed(&mut self, mut b: &[u8], mut each: impl FnMut(Piece<'_>)) {
        while !b.is_empty() {
            if self.left > 0 {
                let n = self.left.min(b.len());
                self.left -= n;
                each(Piece::Body(&b[..n]));
                b = &b[n..];
                if self.left == 0 {
                    each(Piece::End);
                }
                continue;
            }
            // The common case, a whole header in hand: no copy.
            let head: [u8; HEADER_LEN] = match (self.have, b.first_chunk()) {
                (0, Some(h)) => {
                    b = &b[HEADER_LEN..];
                    *h
                }
                _ => {
                    let n = (HEADER_LEN - self.have).min(b.len());
                    self.head[self.have..self.have + n].copy_from_slice(&b[..n]);
                    self.have += n;
                    b = &b[n..];
                    if self.have < HEADER_LEN {
                        continue;
                    }
                    self.have = 0;
                    self.head
                }
            };
            // A length below 4 counts as an empty body: the stream is followed, not
            // judged (the server and the client judge it).
            self.left = body_len(&head, usize::MAX).unwrap_or(0);
            each(Piece::Start(head[0], self.left));
            if self.left == 0 {
                each(Piece::End);
            }
        }
    }

    /// Whether the stream stands between two messages.
    pub fn at_boundary(&self) -> bool {
        self.have == 0 && self.left == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_and_boundaries_come_whatever_the_cuts() {
        let mut stream = encode(b'Z', b"I");
        stream.extend(encode(b'S', b"a\0b\0"));
        stream.extend(encode(b'c', b""));
        stream.extend(encode(b'E', b"SFATAL\0\0"));
        // The offsets where a message ends.
        let ends = [6, 6 + 9, 6 + 9 + 5, stream.len()];
        for step in 1..=stream.len() {
            let mut f = Framing::default();
            let mut at = 0;
            let mut seen = Vec::new();
            let mut body = Vec::new();
            for c in stream.chunks(step) {
                f.feed(c, |p| match p {
                    Piece::Start(t, n) => seen.push((t, n)),
                    Piece::Body(b) => body.extend_from_slice(b),
                    Piece::End => seen.push((0, 0)),
                });
                at += c.len();
                assert_eq!(f.at_boundary(), ends.contains(&at), "step {step} at {at}");
            }
            assert_eq!(
                seen,
                [(b'Z', 1), (0, 0), (b'S', 4), (0, 0), (b'c', 0), (0, 0)]
                    .into_iter()
                    .chain([(b'E', 8), (0, 0)])
                    .collect::<Vec<_>>(),
                "step {step}"
            );
            assert_eq!(body, b"Ia\0b\0SFATAL\0\0", "step {step}");
        }
    }

    #[tokio::test]
    async fn read_message_takes_one_and_refuses_bad_lengths() {
        let mut two = encode(b'p', b"tok\0");
        two.extend(encode(b'X', b""));
        let mut r = &two[..];
        assert_eq!(
            read_message(&mut r, 16).await.unwrap(),
            (b'p', b"tok\0".to_vec())
        );
        assert_eq!(read_message(&mut r, 16).await.unwrap(), (b'X', vec![]));
        for bad in [&b"p\0\0\0\x03"[..], &b"p\0\0\0\x20"[..]] {
            let mut r = bad;
            let e = read_message(&mut r, 16).await.unwrap_err();
            assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        }
    }
}
