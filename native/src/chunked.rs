//! The chunked transfer coding (RFC 9112 section 7.1): an incremental decoder for request
//! bodies and the encoder's framing for responses.

use crate::parser::{bare_line_ending, is_token_byte, memchr};

/// Most bytes of chunk extensions on one chunk line before the body is refused (node's limit).
const MAX_EXTENSION_BYTES: usize = 16384;
/// A chunk size above 2^60 cannot be real; refusing it also keeps the arithmetic far from overflow.
const MAX_SIZE_DIGITS: u32 = 15;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkError {
    /// Malformed framing: answer 400.
    Invalid(&'static str),
    /// The body passed the configured limit: answer 413.
    TooLarge,
    /// A chunk line's extensions passed MAX_EXTENSION_BYTES: answer 413, as node does.
    ExtensionsTooLarge,
}

/// Where a chunk line's extensions are in their grammar (RFC 9112 section 7.1.1):
/// `*( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ext {
    /// After `;`: whitespace, then the name.
    BeforeName,
    Name,
    /// Whitespace after a name: `=`, `;` or the line's end may follow.
    AfterName,
    /// After `=`: whitespace, then a token or a quoted string.
    BeforeValue,
    Token,
    Quoted,
    /// After a backslash inside a quoted string.
    QuotedPair,
    /// After a value: whitespace, `;` or the line's end.
    AfterValue,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Reading hex digits of a chunk size.
    Size {
        digits: u32,
    },
    /// Inside `;ext...` after the size.
    Extension {
        bytes: usize,
        at: Ext,
    },
    /// Saw CR ending the size line; LF must follow.
    SizeLf,
    Data,
    /// After data: CR then LF.
    DataCr,
    DataLf,
    /// After the last chunk: trailer lines until an empty one.
    Trailers,
    Done,
}

/// Outcome of one `decode` call.
#[derive(Debug, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of input used.
    pub consumed: usize,
    /// Whether the body (and its trailers) is complete.
    pub done: bool,
}

pub struct Decoder {
    state: State,
    /// Bytes left in the current chunk (while reading the size: the size so far).
    remaining: u64,
    /// Body bytes so far, for the size limit.
    total: u64,
    max_body: u64,
    max_trailer: usize,
    /// The raw trailer section, through its final empty line.
    pub trailers: Vec<u8>,
}

impl Decoder {
    /// `max_body` 0 = unlimited; `max_trailer` caps the trailer section like the header section.
    pub fn new(max_body: u64, max_trailer: usize) -> Self {
        Decoder {
            state: State::Size { digits: 0 },
            remaining: 0,
            total: 0,
            max_body,
            max_trailer,
            trailers: Vec::new(),
        }
    }

    /// Decodes as much of `input` as possible, handing each piece of body data to `data`.
    pub fn decode(&mut self, input: &[u8], mut data: impl FnMut(&[u8])) -> Result<Progress, ChunkError> {
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::Size { digits } => {
                    let b = input[i];
                    match hex_value(b) {
                        Some(v) => {
                            if digits == MAX_SIZE_DIGITS {
                                return Err(ChunkError::Invalid("chunk size too large"));
                            }
                            self.remaining = self.remaining << 4 | v as u64;
                            self.state = State::Size { digits: digits + 1 };
                        }
                        None if digits == 0 => return Err(ChunkError::Invalid("invalid chunk size")),
                        None => match b {
                            b';' => self.state = State::Extension { bytes: 1, at: Ext::BeforeName },
                            b'\r' => self.state = State::SizeLf,
                            _ => return Err(ChunkError::Invalid("invalid chunk size")),
                        },
                    }
                    i += 1;
                }
                State::Extension { bytes, at } => {
                    let b = input[i];
                    i += 1;
                    if b == b'\r' {
                        if !matches!(at, Ext::Name | Ext::AfterName | Ext::Token | Ext::AfterValue) {
                            // A bare `;`, an `=` without a value, or a quoted string left open.
                            return Err(ChunkError::Invalid("invalid chunk extension"));
                        }
                        self.state = State::SizeLf;
                        continue;
                    }
                    if bytes == MAX_EXTENSION_BYTES {
                        return Err(ChunkError::ExtensionsTooLarge);
                    }
                    let at = extension_step(at, b).ok_or(ChunkError::Invalid("invalid chunk extension"))?;
                    self.state = State::Extension { bytes: bytes + 1, at };
                }
                State::SizeLf => {
                    if input[i] != b'\n' {
                        return Err(ChunkError::Invalid("missing LF after chunk size"));
                    }
                    i += 1;
                    if self.remaining == 0 {
                        self.state = State::Trailers;
                    } else {
                        self.total += self.remaining;
                        if self.max_body != 0 && self.total > self.max_body {
                            return Err(ChunkError::TooLarge);
                        }
                        self.state = State::Data;
                    }
                }
                State::Data => {
                    let take = (input.len() - i).min(self.remaining as usize);
                    data(&input[i..i + take]);
                    self.remaining -= take as u64;
                    i += take;
                    if self.remaining == 0 {
                        self.state = State::DataCr;
                    }
                }
                State::DataCr => {
                    if input[i] != b'\r' {
                        return Err(ChunkError::Invalid("missing CRLF after chunk data"));
                    }
                    self.state = State::DataLf;
                    i += 1;
                }
                State::DataLf => {
                    if input[i] != b'\n' {
                        return Err(ChunkError::Invalid("missing CRLF after chunk data"));
                    }
                    self.state = State::Size { digits: 0 };
                    i += 1;
                }
                State::Trailers => {
                    let rest = &input[i..];
                    let Some(lf) = memchr(b'\n', rest) else {
                        self.push_trailer(rest)?;
                        i = input.len();
                        continue;
                    };
                    self.push_trailer(&rest[..=lf])?;
                    i += lf + 1;
                    if self.trailers.ends_with(b"\r\n\r\n") || self.trailers == b"\r\n" {
                        trailer_fields(&self.trailers)?;
                        self.state = State::Done;
                        return Ok(Progress { consumed: i, done: true });
                    }
                }
                State::Done => break,
            }
        }
        Ok(Progress { consumed: i, done: self.state == State::Done })
    }

    fn push_trailer(&mut self, bytes: &[u8]) -> Result<(), ChunkError> {
        if self.trailers.len() + bytes.len() > self.max_trailer {
            return Err(ChunkError::Invalid("trailer section too large"));
        }
        self.trailers.extend_from_slice(bytes);
        Ok(())
    }
}

/// A field as (name, value) bytes.
pub type FieldPair<'a> = (&'a [u8], &'a [u8]);

/// The fields of a complete trailer section (ending with its empty line); they follow the
/// header field rules: CRLF lines, valid names and values.
pub fn trailer_fields(section: &[u8]) -> Result<Vec<FieldPair<'_>>, ChunkError> {
    if bare_line_ending(section).is_some() {
        return Err(ChunkError::Invalid("bare CR or LF in trailers"));
    }
    let mut fields = [httparse::EMPTY_HEADER; 64];
    match httparse::parse_headers(section, &mut fields) {
        Ok(httparse::Status::Complete((_, parsed))) => {
            Ok(parsed.iter().map(|h| (h.name.as_bytes(), h.value)).collect())
        }
        _ => Err(ChunkError::Invalid("malformed trailer fields")),
    }
}

/// The next place in the extension grammar after byte `b` (not CR), or None if `b` breaks it.
fn extension_step(at: Ext, b: u8) -> Option<Ext> {
    let space = b == b' ' || b == b'\t';
    let token = is_token_byte(b);
    Some(match at {
        Ext::BeforeName if space => Ext::BeforeName,
        Ext::BeforeName | Ext::Name if token => Ext::Name,
        Ext::Name | Ext::AfterName if space => Ext::AfterName,
        Ext::Name | Ext::AfterName if b == b'=' => Ext::BeforeValue,
        Ext::Name | Ext::AfterName | Ext::Token | Ext::AfterValue if b == b';' => Ext::BeforeName,
        Ext::BeforeValue if space => Ext::BeforeValue,
        Ext::BeforeValue if b == b'"' => Ext::Quoted,
        Ext::BeforeValue | Ext::Token if token => Ext::Token,
        Ext::Token | Ext::AfterValue if space => Ext::AfterValue,
        Ext::Quoted if b == b'"' => Ext::AfterValue,
        Ext::Quoted if b == b'\\' => Ext::QuotedPair,
        // qdtext: HTAB, SP, visible characters but `"` and `\`, obs-text.
        Ext::Quoted if b == b'\t' || (b >= 0x20 && b != 0x7f) => Ext::Quoted,
        Ext::QuotedPair if b == b'\t' || (b >= 0x20 && b != 0x7f) => Ext::Quoted,
        _ => return None,
    })
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Appends the framing line that precedes `len` bytes of chunk data; the data and a CRLF follow
/// (never an empty chunk: that would end the body).
pub fn encode_size(out: &mut Vec<u8>, len: usize) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut digits = [0u8; 16];
    let mut n = len;
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = HEX[n & 15];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
    out.extend_from_slice(b"\r\n");
}

/// Appends the last chunk and the trailer block ("Name: value\r\n" lines, possibly empty).
pub fn encode_end(out: &mut Vec<u8>, trailers: &[u8]) {
    out.extend_from_slice(b"0\r\n");
    out.extend_from_slice(trailers);
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8]) -> Result<(Vec<u8>, Progress, Vec<u8>), ChunkError> {
        let mut d = Decoder::new(0, 1024);
        let mut body = Vec::new();
        let p = d.decode(input, |b| body.extend_from_slice(b))?;
        Ok((body, p, d.trailers))
    }

    #[test]
    fn decodes_chunks_and_trailers() {
        let input = b"5\r\nhello\r\n6;name=val\r\n world\r\n0\r\nX-Sum: 1\r\n\r\nNEXT";
        let (body, p, trailers) = decode_all(input).unwrap();
        assert_eq!(body, b"hello world");
        assert!(p.done);
        assert_eq!(p.consumed, input.len() - 4);
        assert_eq!(trailers, b"X-Sum: 1\r\n\r\n");
    }

    #[test]
    fn decodes_byte_by_byte() {
        let input = b"A\r\n0123456789\r\n1;a=\"b c\"\r\nx\r\n0\r\nT: v\r\n\r\n";
        let mut d = Decoder::new(0, 1024);
        let mut body = Vec::new();
        let mut done = false;
        for &b in input.iter() {
            let p = d.decode(&[b], |s| body.extend_from_slice(s)).unwrap();
            assert_eq!(p.consumed, 1);
            done = p.done;
        }
        assert!(done);
        assert_eq!(body, b"0123456789x");
        assert_eq!(d.trailers, b"T: v\r\n\r\n");
    }

    #[test]
    fn empty_body() {
        let (body, p, trailers) = decode_all(b"0\r\n\r\n").unwrap();
        assert!(body.is_empty() && p.done && trailers == b"\r\n");
    }

    #[test]
    fn refuses_bad_framing() {
        for bad in [
            &b"x\r\n"[..],
            b"5 \r\nhello\r\n0\r\n\r\n",
            b" 5\r\nhello\r\n0\r\n\r\n",
            b"-5\r\n",
            b"0x5\r\n",
            b"5\rhello",
            b"5\nhello\r\n",
            b"5\r\nhelloXX0\r\n\r\n",
            b"5\r\nhello\n0\r\n\r\n",
            b"1000000000000000\r\n",
            b"3;a\x00b\r\n",
            b"0\r\nBad Name: v\r\n\r\n",
            b"0\r\nX: a\nY: b\r\n\r\n",
        ] {
            assert!(decode_all(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn extensions_follow_their_grammar() {
        for good in [
            "1;a\r\n", "1;a=b\r\n", "1;a=b;c\r\n", "1; a = b ;c\r\n", "1;a=\"\"\r\n", "1;a=\"b;c=d\"\r\n",
            "1;a=\"q\\\"x\"\r\n", "1;a=\"caf\u{e9}\"\r\n", "1;a\t=\tb\r\n",
        ] {
            let input = format!("{good}x\r\n0\r\n\r\n");
            assert_eq!(decode_all(input.as_bytes()).map(|r| r.0), Ok(b"x".to_vec()), "{good:?}");
        }
        for bad in [
            "1;\r\n", "1; \r\n", "1;;a\r\n", "1;a;\r\n", "1;=b\r\n", "1;a=\r\n", "1;a==b\r\n", "1;a=b c\r\n",
            "1;a=\"b\r\n", "1;a=\"b\\\"\r\n", "1;a=\"b\"c\r\n", "1;a@b\r\n", "1;a=b\"\r\n", "1 ;a\r\n", "1;a=\"\x01\"\r\n",
        ] {
            assert!(matches!(decode_all(bad.as_bytes()), Err(ChunkError::Invalid(_))), "{bad:?}");
        }
    }

    #[test]
    fn an_unbalanced_quote_is_refused_at_the_line_end_however_it_arrives() {
        let input = b"5;name=\"open\r\nhello\r\n0\r\n\r\n";
        let mut d = Decoder::new(0, 1024);
        let cr = input.iter().position(|&b| b == b'\r').unwrap();
        assert_eq!(d.decode(&input[..cr], |_| {}).unwrap().consumed, cr);
        assert!(d.decode(&input[cr..], |_| {}).is_err());
    }

    #[test]
    fn limits() {
        let long_ext = format!("1;{}\r\n", "a".repeat(MAX_EXTENSION_BYTES + 1));
        assert_eq!(decode_all(long_ext.as_bytes()).unwrap_err(), ChunkError::ExtensionsTooLarge);
        // Counted per chunk line, as node counts it.
        let many = format!("1;{0}=b\r\nx\r\n1;{0}=b\r\ny\r\n0\r\n\r\n", "a".repeat(10_000));
        assert_eq!(decode_all(many.as_bytes()).unwrap().0, b"xy");
        let ok_ext = format!("1;{}\r\nx\r\n0\r\n\r\n", "a".repeat(MAX_EXTENSION_BYTES - 1));
        assert!(decode_all(ok_ext.as_bytes()).unwrap().1.done);

        let mut d = Decoder::new(10, 1024);
        assert!(d.decode(b"a\r\n0123456789\r\n0\r\n\r\n", |_| {}).unwrap().done);
        let mut d = Decoder::new(10, 1024);
        assert_eq!(d.decode(b"6\r\n012345\r\n5\r\n", |_| {}), Err(ChunkError::TooLarge));

        let mut d = Decoder::new(0, 8);
        assert!(d.decode(b"0\r\nX: 123456\r\n\r\n", |_| {}).is_err());
    }

    #[test]
    fn encodes() {
        let mut out = Vec::new();
        let data = b"hello world, this is 26 by";
        encode_size(&mut out, data.len());
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
        encode_end(&mut out, b"X: y\r\n");
        assert_eq!(out, b"1a\r\nhello world, this is 26 by\r\n0\r\nX: y\r\n\r\n");
        let (body, p, trailers) = decode_all(&out).unwrap();
        assert_eq!(body, b"hello world, this is 26 by");
        assert!(p.done);
        assert_eq!(trailers, b"X: y\r\n\r\n");
    }
}
