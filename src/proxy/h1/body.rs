//! Reading an HTTP/1 body into neutral frames: `Content-Length` bytes handed out of the
//! read buffer as they are, chunked framing decoded (data of one read as one `Data`
//! frame, trailers, end), a body up to the connection's close.

use super::chunked::ChunkedDecoder;
use super::error::H1Error;
use super::head::BodyKind;
use crate::proxy::message::{Field, Frames};

/// A body being read: its framing and progress.
#[derive(Debug)]
pub(super) struct BodyReader {
    kind: BodyKind,
    left: u64,
    decoder: ChunkedDecoder,
    done: bool,
}

impl BodyReader {
    /// A reader for request bodies (malformed chunks: 400).
    pub(super) fn for_request() -> Self {
        Self::new(ChunkedDecoder::for_request())
    }

    /// A reader for response bodies (malformed chunks: 502).
    pub(super) fn for_response() -> Self {
        Self::new(ChunkedDecoder::for_response())
    }

    fn new(decoder: ChunkedDecoder) -> Self {
        BodyReader {
            kind: BodyKind::None,
            left: 0,
            decoder,
            done: true,
        }
    }

    /// Starts the body of a new message.
    pub(super) fn start(&mut self, kind: BodyKind, trailers: &mut Vec<Field>) {
        self.kind = kind;
        trailers.clear();
        (self.left, self.done) = match kind {
            BodyKind::None => (0, true),
            BodyKind::Length(n) => (n, n == 0),
            BodyKind::Chunked => {
                self.decoder.reset();
                (0, false)
            }
            BodyKind::UntilClose => (0, false),
        };
    }

    /// The whole body was read.
    pub(super) fn is_done(&self) -> bool {
        self.done
    }

    /// Bytes of a `Content-Length` body still to come (`None` for other framings, whose
    /// length is not known ahead).
    pub(super) fn length_left(&self) -> Option<u64> {
        match self.kind {
            BodyKind::Length(_) if !self.done => Some(self.left),
            _ => None,
        }
    }

    /// The body ends when the peer closes.
    pub(super) fn ends_at_close(&self) -> bool {
        self.kind == BodyKind::UntilClose
    }

    /// The peer closed: the end of a body delimited by the close.
    pub(super) fn closed(&mut self) -> Frames<'static> {
        self.done = true;
        Frames {
            end: true,
            ..Frames::default()
        }
    }

    /// The frames `input` (bytes after those taken before) holds; their `wire` says how
    /// many of its bytes they took. `decoded` is scratch for chunked data; trailers
    /// collect in `trailers` until the end.
    pub(super) fn frames<'a>(
        &mut self,
        input: &'a [u8],
        decoded: &'a mut Vec<u8>,
        trailers: &'a mut Vec<Field>,
    ) -> Result<Frames<'a>, H1Error> {
        if self.done {
            return Ok(Frames {
                end: true,
                ..Frames::default()
            });
        }
        match self.kind {
            BodyKind::None => Ok(self.closed()),
            BodyKind::Length(_) => {
                let k = (input.len() as u64).min(self.left) as usize;
                self.left -= k as u64;
                self.done = self.left == 0;
                Ok(Frames {
                    data: &input[..k],
                    trailers: &[],
                    end: self.done,
                    wire: k,
                    end_of_trailers: false,
                })
            }
            BodyKind::Chunked => {
                decoded.clear();
                let k = self.decoder.decode(input, decoded, trailers)?;
                self.done = self.decoder.is_done();
                let data: &'a Vec<u8> = decoded;
                let trailers: &'a Vec<Field> = trailers;
                Ok(Frames {
                    data,
                    trailers: if self.done { trailers } else { &[] },
                    end: self.done,
                    wire: k,
                    end_of_trailers: true,
                })
            }
            BodyKind::UntilClose => Ok(Frames {
                data: input,
                trailers: &[],
                end: false,
                wire: input.len(),
                end_of_trailers: false,
            }),
        }
    }
}
