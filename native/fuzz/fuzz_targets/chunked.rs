//! The chunked body decoder on arbitrary bytes, fed whole and split at arbitrary points.
//!
//! Invariants: no panic; until it finishes, the decoder consumes all it is given; the outcome
//! (body, trailers, bytes used, error kind) is the same however the input is split; and a body
//! that a strict reference reading of RFC 9112 section 7.1 accepts is decoded to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pyre_native::fuzzing::{ChunkError, Decoder};

/// The decoder's configuration for one run: a body limit (0 = none) and a trailer limit.
const CONFIGS: [(u64, usize); 4] = [(0, 16384), (0, 64), (32, 16384), (1 << 20, 512)];

#[derive(Debug, PartialEq)]
enum Outcome {
    /// The body ended: what it held, its trailers, and the input bytes it took.
    Done {
        body: Vec<u8>,
        trailers: Vec<u8>,
        consumed: usize,
    },
    /// All input used, body not finished yet.
    Pending {
        body: Vec<u8>,
    },
    Invalid,
    TooLarge,
}

fn failed(err: ChunkError) -> Outcome {
    match err {
        ChunkError::Invalid(_) => Outcome::Invalid,
        ChunkError::TooLarge => Outcome::TooLarge,
    }
}

/// Feeds `input` in the pieces `cuts` makes (sorted offsets), as reads from a socket would.
fn decode(input: &[u8], cuts: &[usize], (max_body, max_trailer): (u64, usize)) -> Outcome {
    let mut decoder = Decoder::new(max_body, max_trailer);
    let mut body = Vec::new();
    let mut start = 0;
    for &end in cuts.iter().chain(std::iter::once(&input.len())) {
        let piece = &input[start..end];
        let progress = match decoder.decode(piece, |data| body.extend_from_slice(data)) {
            Ok(p) => p,
            Err(err) => return failed(err),
        };
        if progress.done {
            assert!(progress.consumed <= piece.len());
            return Outcome::Done {
                body,
                trailers: std::mem::take(&mut decoder.trailers),
                consumed: start + progress.consumed,
            };
        }
        assert_eq!(progress.consumed, piece.len(), "an unfinished decode must consume all its input");
        start = end;
    }
    Outcome::Pending { body }
}

/// Split points derived from the fuzzer's seed bytes: each byte is the length of the next piece.
fn cuts_from(seed: &[u8], len: usize) -> Vec<usize> {
    let mut cuts = Vec::new();
    let mut at = 0;
    for &step in seed.iter().cycle().take(len) {
        at += step as usize % 17 + 1;
        if at >= len {
            break;
        }
        cuts.push(at);
    }
    cuts
}

/// A strict, non-incremental reading of the chunked coding; None for anything it does not
/// accept (it accepts less than the decoder: plain extensions, printable trailer fields).
fn reference(input: &[u8], max_trailer: usize) -> Option<(Vec<u8>, usize)> {
    let mut body = Vec::new();
    let mut i = 0;
    loop {
        let line_end = i + input[i..].windows(2).position(|w| w == b"\r\n")?;
        let line = &input[i..line_end];
        let (size, ext) = match line.iter().position(|&b| b == b';') {
            Some(semi) => (&line[..semi], Some(&line[semi + 1..])),
            None => (line, None),
        };
        if size.is_empty() || size.len() > 15 || !size.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        if let Some(ext) = ext {
            if ext.is_empty() || ext.len() > 64 || !ext.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'=') {
                return None;
            }
        }
        let size = u64::from_str_radix(std::str::from_utf8(size).ok()?, 16).ok()? as usize;
        i = line_end + 2;
        if size == 0 {
            break;
        }
        let data = input.get(i..i.checked_add(size)?)?;
        body.extend_from_slice(data);
        i += size;
        if input.get(i..i + 2)? != b"\r\n" {
            return None;
        }
        i += 2;
    }
    let trailer_start = i;
    let mut fields = 0;
    loop {
        let line_end = i + input[i..].windows(2).position(|w| w == b"\r\n")?;
        let line = &input[i..line_end];
        i = line_end + 2;
        if line.is_empty() {
            break;
        }
        let colon = line.iter().position(|&b| b == b':')?;
        let name_ok = colon > 0 && line[..colon].iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-');
        if !name_ok || !line[colon + 1..].iter().all(|&b| b == b' ' || b.is_ascii_graphic()) {
            return None;
        }
        fields += 1;
    }
    (fields <= 64 && i - trailer_start <= max_trailer).then_some((body, i))
}

fuzz_target!(|data: &[u8]| {
    let Some((&config, rest)) = data.split_first() else { return };
    let Some((&seed_len, rest)) = rest.split_first() else { return };
    let (seed, input) = rest.split_at((seed_len as usize % 8).min(rest.len()));
    let config = CONFIGS[config as usize % CONFIGS.len()];

    let whole = decode(input, &[], config);
    let split = decode(input, &cuts_from(if seed.is_empty() { &[0] } else { seed }, input.len()), config);
    assert_eq!(whole, split, "the outcome depends on where the input was split");

    if let Outcome::Done { body, trailers, consumed } = &whole {
        assert!(config.0 == 0 || body.len() as u64 <= config.0, "body passed the limit");
        // The section is kept through its final empty line.
        assert!((trailers == b"\r\n" || trailers.ends_with(b"\r\n\r\n")) && trailers.len() <= config.1);
        assert!(*consumed <= input.len());
    }
    if let Some((body, consumed)) = reference(input, config.1) {
        if config.0 == 0 || body.len() as u64 <= config.0 {
            let Outcome::Done { body: got, consumed: used, .. } = &whole else {
                panic!("a body the reference accepts gave {whole:?}");
            };
            assert_eq!((got, *used), (&body, consumed), "decoded differently from the reference");
        }
    }
});
