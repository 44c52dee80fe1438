//! Streaming validator for `Transfer-Encoding: chunked` bodies. The proxy forwards chunked
//! bodies verbatim; this only checks the framing and finds where the body ends.

use super::error::{H1Error, H1ErrorKind, Side};

/// Longest chunk-size line (size, extensions) accepted, in bytes.
const MAX_SIZE_LINE: u32 = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading hex digits of a chunk size.
    Size,
    /// After the digits: optional whitespace, then `;`, CR or LF.
    SizeWs,
    /// Inside chunk extensions, up to the line end.
    Ext,
    /// Saw CR ending the size line, need LF.
    SizeLf,
    /// Inside chunk data.
    Data,
    /// After data: CR (or a bare LF, which HAProxy accepts).
    DataCr,
    /// After data and CR: LF.
    DataLf,
    /// Start of a trailer line or of the final empty line.
    TrailerStart,
    /// Inside a trailer line.
    TrailerLine,
    /// Saw CR ending a trailer line.
    TrailerLf,
    /// Saw CR of the final empty line.
    EndLf,
    /// Body complete.
    Done,
}

/// Incremental chunked-body validator: feed it the bytes that follow the head, in any
/// pieces; it says how many belong to the body and when the body (last chunk, trailers,
/// final CRLF) is complete. Chunk extensions and trailers are accepted; bare LF line ends
/// are accepted like HAProxy. Invalid framing is an [`H1Error`] of kind `BadChunk`
/// (status 400 for a request, 502 for a response).
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    side: Side,
    /// Chunk size being read, then bytes of data left in the chunk.
    remaining: u64,
    digits: u32,
    line_len: u32,
    /// Bytes consumed so far (for error positions).
    offset: u64,
    /// Payload bytes seen (sum of chunk sizes).
    payload: u64,
}

impl ChunkedDecoder {
    /// A decoder for a request body (errors map to 400).
    pub fn for_request() -> Self {
        Self::new(Side::Request)
    }

    /// A decoder for a response body (errors map to 502).
    pub fn for_response() -> Self {
        Self::new(Side::Response)
    }

    fn new(side: Side) -> Self {
        Self {
            state: State::Size,
            side,
            remaining: 0,
            digits: 0,
            line_len: 0,
            offset: 0,
            payload: 0,
        }
    }

    /// Starts over for the next message on the same connection.
    pub fn reset(&mut self) {
        *self = Self::new(self.side);
    }

    /// Whether the whole body (through the final CRLF) has been seen.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Sum of the chunk sizes seen so far (the decoded payload length).
    pub fn payload_len(&self) -> u64 {
        self.payload
    }

    /// Consumes bytes of the body from `data`; returns how many belong to the body. A
    /// return smaller than `data.len()` means the body ended there (the rest is the next
    /// message); after the end it returns 0.
    pub fn feed(&mut self, data: &[u8]) -> Result<usize, H1Error> {
        let mut i = 0;
        while i < data.len() {
            if self.state == State::Data {
                let take = self.remaining.min((data.len() - i) as u64) as usize;
                i += take;
                self.remaining -= take as u64;
                if self.remaining == 0 {
                    self.state = State::DataCr;
                }
                continue;
            }
            if self.state == State::Done {
                break;
            }
            let c = data[i];
            if let Err(()) = self.step(c) {
                let pos = self.offset + i as u64;
                self.offset += i as u64;
                return Err(H1Error::new(H1ErrorKind::BadChunk, self.side, pos as usize));
            }
            i += 1;
        }
        self.offset += i as u64;
        Ok(i)
    }

    /// One framing byte (never called in `Data` or `Done`).
    fn step(&mut self, c: u8) -> Result<(), ()> {
        match self.state {
            State::Size => {
                self.line_len += 1;
                if self.line_len > MAX_SIZE_LINE {
                    return Err(());
                }
                if let Some(d) = hex(c) {
                    if self.remaining >> 59 != 0 {
                        return Err(()); // overflow
                    }
                    self.remaining = self.remaining << 4 | u64::from(d);
                    self.digits += 1;
                } else if self.digits == 0 {
                    return Err(());
                } else {
                    self.state = State::SizeWs;
                    return self.size_ws(c);
                }
            }
            State::SizeWs => {
                self.line_len += 1;
                self.size_ws(c)?;
            }
            State::Ext => {
                self.line_len += 1;
                if self.line_len > MAX_SIZE_LINE {
                    return Err(());
                }
                match c {
                    b'\r' => self.state = State::SizeLf,
                    b'\n' => self.size_line_done(),
                    b'\t' => {}
                    c if c < 0x20 || c == 0x7f => return Err(()),
                    _ => {}
                }
            }
            State::SizeLf => {
                if c != b'\n' {
                    return Err(());
                }
                self.size_line_done();
            }
            State::DataCr => match c {
                b'\r' => self.state = State::DataLf,
                b'\n' => self.state = State::Size,
                _ => return Err(()),
            },
            State::DataLf => {
                if c != b'\n' {
                    return Err(());
                }
                self.state = State::Size;
            }
            State::TrailerStart => match c {
                b'\r' => self.state = State::EndLf,
                b'\n' => self.state = State::Done,
                c if super::head::is_tchar(c) => self.state = State::TrailerLine,
                _ => return Err(()),
            },
            State::TrailerLine => match c {
                b'\r' => self.state = State::TrailerLf,
                b'\n' => self.state = State::TrailerStart,
                0 => return Err(()),
                _ => {}
            },
            State::TrailerLf | State::EndLf => {
                if c != b'\n' {
                    return Err(());
                }
                self.state = if self.state == State::EndLf {
                    State::Done
                } else {
                    State::TrailerStart
                };
            }
            State::Data | State::Done => {}
        }
        Ok(())
    }

    fn size_ws(&mut self, c: u8) -> Result<(), ()> {
        match c {
            b' ' | b'\t' => {}
            b';' => self.state = State::Ext,
            b'\r' => self.state = State::SizeLf,
            b'\n' => self.size_line_done(),
            _ => return Err(()),
        }
        if self.line_len > MAX_SIZE_LINE {
            return Err(());
        }
        Ok(())
    }

    fn size_line_done(&mut self) {
        self.digits = 0;
        self.line_len = 0;
        if self.remaining == 0 {
            self.state = State::TrailerStart;
        } else {
            self.payload += self.remaining;
            self.state = State::Data;
        }
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}
