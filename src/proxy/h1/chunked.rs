//! `Transfer-Encoding: chunked` bodies: a streaming decoder that validates the framing,
//! finds where the body ends and, for requests, encodes the decoded data again the way
//! HAProxy 2.6 sends it on (CRLF line ends, no chunk extensions, the data of one read as
//! one chunk, trailer names lowercased). Nothing of the client's framing is forwarded.

use super::error::{H1Error, H1ErrorKind, Side};
use super::head::{is_tchar, trim_ows};

/// Longest chunk-size line (size, extensions) accepted, in bytes.
const MAX_SIZE_LINE: u32 = 4096;
/// Longest trailer line accepted, in bytes (HAProxy's default head room).
const MAX_TRAILER_LINE: u32 = 16384 - 1024;

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
    /// Inside a trailer name (requests: token bytes up to the colon).
    TrailerName,
    /// Inside a trailer line's value (or, for responses, anywhere in the line).
    TrailerLine,
    /// Saw CR ending a trailer line.
    TrailerLf,
    /// Saw CR of the final empty line.
    EndLf,
    /// Body complete.
    Done,
}

/// What one framing byte meant, for the re-encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    /// Nothing to write.
    None,
    /// The last-chunk line (`0`) ended.
    LastChunk,
    /// A byte of a trailer line (name or value).
    TrailerByte,
    /// A trailer line ended.
    TrailerEnd,
    /// The final empty line ended: the body is complete.
    End,
}

/// Incremental chunked-body decoder: feed it the bytes that follow the head, in any
/// pieces; it says how many belong to the body and when the body (last chunk, trailers,
/// final CRLF) is complete. Chunk extensions and trailers are accepted; bare LF line ends
/// are accepted like HAProxy. Invalid framing is an [`H1Error`] of kind `BadChunk`
/// (status 400 for a request, 502 for a response).
///
/// [`ChunkedDecoder::feed`] only validates (the bytes are forwarded as they are);
/// [`ChunkedDecoder::reencode`] writes the body as HAProxy forwards it.
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
    /// The trailer line being re-encoded (stays empty, unallocated, without trailers).
    trailer: Vec<u8>,
}

impl ChunkedDecoder {
    /// A decoder for a request body (errors map to 400). Trailer names must be tokens
    /// followed by a colon, like header names.
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
            trailer: Vec::new(),
        }
    }

    /// Starts over for the next message on the same connection.
    pub fn reset(&mut self) {
        let mut trailer = std::mem::take(&mut self.trailer);
        trailer.clear();
        *self = Self {
            trailer,
            ..Self::new(self.side)
        };
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
        self.run(data, None, None)
    }

    /// Like [`ChunkedDecoder::feed`], and appends to `out` the consumed part of the body
    /// encoded again as HAProxy 2.6 forwards it: the data decoded from this call as one
    /// chunk (`<HEX size>CRLF<data>CRLF`, uppercase hex, no extensions), then once the last chunk is
    /// seen `0CRLF`, the trailers (name lowercased, `name: value`, `Transfer-Encoding`
    /// dropped like HAProxy) and the final CRLF. `out` grows by at
    /// most the consumed length plus a few bytes. On an error `out` holds a partial
    /// encoding that must not be sent.
    pub fn reencode(&mut self, data: &[u8], out: &mut Vec<u8>) -> Result<usize, H1Error> {
        self.run(data, Some(out), None)
    }

    /// Like [`ChunkedDecoder::feed`], and appends the decoded data of the consumed part
    /// to `data_out` (the neutral `Data` frame of this read) and, once the body is
    /// complete, its trailer fields to `trailers` (name as sent, value trimmed; lines
    /// without a colon dropped).
    pub fn decode(
        &mut self,
        data: &[u8],
        data_out: &mut Vec<u8>,
        trailers: &mut Vec<crate::proxy::message::Field>,
    ) -> Result<usize, H1Error> {
        self.run(data, None, Some((data_out, trailers)))
    }

    fn run(
        &mut self,
        data: &[u8],
        mut out: Option<&mut Vec<u8>>,
        mut dec: Option<(&mut Vec<u8>, &mut Vec<crate::proxy::message::Field>)>,
    ) -> Result<usize, H1Error> {
        // Start of the chunk being written in `out` and its data length so far.
        let mut mark = out.as_ref().map_or(0, |o| o.len());
        let mut pending: usize = 0;
        let mut i = 0;
        while i < data.len() {
            if self.state == State::Data {
                let take = self.remaining.min((data.len() - i) as u64) as usize;
                if let Some(o) = out.as_deref_mut() {
                    o.extend_from_slice(&data[i..i + take]);
                    pending += take;
                }
                if let Some((d, _)) = dec.as_mut() {
                    d.extend_from_slice(&data[i..i + take]);
                }
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
            let ev = match self.step(c) {
                Ok(ev) => ev,
                Err(()) => {
                    let pos = self.offset + i as u64;
                    self.offset += i as u64;
                    return Err(H1Error::new(H1ErrorKind::BadChunk, self.side, pos as usize));
                }
            };
            if let Some(o) = out.as_deref_mut() {
                match ev {
                    Event::None => {}
                    Event::LastChunk => {
                        close_chunk(o, mark, pending);
                        pending = 0;
                        o.extend_from_slice(b"0\r\n");
                        mark = o.len();
                    }
                    Event::TrailerByte => self.trailer.push(c),
                    Event::TrailerEnd => {
                        write_trailer(&self.trailer, o);
                        self.trailer.clear();
                        mark = o.len();
                    }
                    Event::End => {
                        o.extend_from_slice(b"\r\n");
                        mark = o.len();
                    }
                }
            } else if let Some((_, t)) = dec.as_mut() {
                match ev {
                    Event::TrailerByte => self.trailer.push(c),
                    Event::TrailerEnd => {
                        if let Some(colon) = memchr::memchr(b':', &self.trailer) {
                            let name = self.trailer[..colon].to_vec();
                            let value = trim_ows(&self.trailer[colon + 1..]).to_vec();
                            t.push((name, value));
                        }
                        self.trailer.clear();
                    }
                    Event::None | Event::LastChunk | Event::End => {}
                }
            }
            i += 1;
        }
        if let Some(o) = out {
            close_chunk(o, mark, pending);
        }
        self.offset += i as u64;
        Ok(i)
    }

    /// One framing byte (never called in `Data` or `Done`).
    fn step(&mut self, c: u8) -> Result<Event, ()> {
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
                return self.size_ws(c);
            }
            State::Ext => {
                self.line_len += 1;
                if self.line_len > MAX_SIZE_LINE {
                    return Err(());
                }
                match c {
                    b'\r' => self.state = State::SizeLf,
                    b'\n' => return Ok(self.size_line_done()),
                    b'\t' => {}
                    c if c < 0x20 || c == 0x7f => return Err(()),
                    _ => {}
                }
            }
            State::SizeLf => {
                if c != b'\n' {
                    return Err(());
                }
                return Ok(self.size_line_done());
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
            State::TrailerStart => {
                self.line_len = 1;
                match c {
                    b'\r' => self.state = State::EndLf,
                    b'\n' => {
                        self.state = State::Done;
                        return Ok(Event::End);
                    }
                    // Obs-fold (a line starting with SP/HT) is refused, as in heads.
                    c if is_tchar(c) => {
                        self.state = match self.side {
                            Side::Request => State::TrailerName,
                            Side::Response => State::TrailerLine,
                        };
                        return Ok(Event::TrailerByte);
                    }
                    _ => return Err(()),
                }
            }
            State::TrailerName => {
                self.line_len += 1;
                match c {
                    b':' => self.state = State::TrailerLine,
                    c if is_tchar(c) => {}
                    _ => return Err(()),
                }
                return Ok(Event::TrailerByte);
            }
            State::TrailerLine => {
                self.line_len += 1;
                if self.line_len > MAX_TRAILER_LINE {
                    return Err(());
                }
                match c {
                    b'\r' => self.state = State::TrailerLf,
                    b'\n' => {
                        self.state = State::TrailerStart;
                        return Ok(Event::TrailerEnd);
                    }
                    0 => return Err(()),
                    _ => return Ok(Event::TrailerByte),
                }
            }
            State::TrailerLf | State::EndLf => {
                if c != b'\n' {
                    return Err(());
                }
                if self.state == State::EndLf {
                    self.state = State::Done;
                    return Ok(Event::End);
                }
                self.state = State::TrailerStart;
                return Ok(Event::TrailerEnd);
            }
            State::Data | State::Done => {}
        }
        Ok(Event::None)
    }

    fn size_ws(&mut self, c: u8) -> Result<Event, ()> {
        if self.line_len > MAX_SIZE_LINE {
            return Err(());
        }
        match c {
            b' ' | b'\t' => {}
            b';' => self.state = State::Ext,
            b'\r' => self.state = State::SizeLf,
            b'\n' => return Ok(self.size_line_done()),
            _ => return Err(()),
        }
        Ok(Event::None)
    }

    fn size_line_done(&mut self) -> Event {
        self.digits = 0;
        self.line_len = 0;
        if self.remaining == 0 {
            self.state = State::TrailerStart;
            Event::LastChunk
        } else {
            self.payload += self.remaining;
            self.state = State::Data;
            Event::None
        }
    }
}

/// Turns the `len` data bytes written at `out[mark..]` into one chunk: the size line is
/// put in front (rotated in place, no allocation) and CRLF after. Nothing if `len` is 0.
fn close_chunk(out: &mut Vec<u8>, mark: usize, len: usize) {
    if len == 0 {
        return;
    }
    let mut line = [0u8; 18];
    let mut n = 16;
    let mut v = len;
    loop {
        n -= 1;
        line[n] = b"0123456789ABCDEF"[v & 15];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    line[16] = b'\r';
    line[17] = b'\n';
    let size_line = &line[n..];
    out.extend_from_slice(size_line);
    out[mark..].rotate_right(size_line.len());
    out.extend_from_slice(b"\r\n");
}

/// Appends `frames` to `out` in chunked framing as HAProxy 2.6 writes it: the data as
/// one chunk (uppercase hex size, no extensions), and at the end the last chunk, the
/// trailers (lowercase names, `Transfer-Encoding` dropped) and the final CRLF.
pub fn encode_chunked(frames: &crate::proxy::message::Frames<'_>, out: &mut Vec<u8>) {
    if !frames.data.is_empty() {
        let mut line = [0u8; 18];
        out.extend_from_slice(chunk_size_line(frames.data.len(), &mut line));
        out.extend_from_slice(frames.data);
        out.extend_from_slice(b"\r\n");
    }
    if frames.end {
        out.extend_from_slice(b"0\r\n");
        for (name, value) in frames.trailers {
            if name.eq_ignore_ascii_case(b"transfer-encoding") {
                continue;
            }
            let start = out.len();
            out.extend_from_slice(name);
            out[start..].make_ascii_lowercase();
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// The size line of a chunk of `len` bytes (`<HEX>CRLF`), written into `line`.
pub fn chunk_size_line(len: usize, line: &mut [u8; 18]) -> &[u8] {
    let mut n = 16;
    let mut v = len;
    loop {
        n -= 1;
        line[n] = b"0123456789ABCDEF"[v & 15];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    line[16] = b'\r';
    line[17] = b'\n';
    &line[n..]
}

/// Writes one trailer line (`name:value` as received, without its line end) the way
/// HAProxy forwards it: lowercase name, `: `, the value without surrounding whitespace.
/// A `Transfer-Encoding` trailer is dropped, as HAProxy 2.6 does.
fn write_trailer(line: &[u8], out: &mut Vec<u8>) {
    let Some(colon) = memchr::memchr(b':', line) else {
        return;
    };
    let name = &line[..colon];
    if name.eq_ignore_ascii_case(b"transfer-encoding") {
        return;
    }
    let start = out.len();
    out.extend_from_slice(name);
    out[start..].make_ascii_lowercase();
    out.extend_from_slice(b": ");
    out.extend_from_slice(trim_ows(&line[colon + 1..]));
    out.extend_from_slice(b"\r\n");
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}
