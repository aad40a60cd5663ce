//! The input and output buffers connections borrow while they work: a spare of each per thread,
//! taken when a connection reads or starts writing and given back once nothing is left in it.
//! An idle keep-alive connection holds no buffer at all (a few hundred bytes of state instead of
//! kilobytes), and every read asks the kernel for a whole buffer's worth, so an upload arrives in
//! a few large reads rather than many small ones.

use std::cell::RefCell;

/// Bytes asked of the kernel per read (node reads 64 KiB too).
pub const READ_SIZE: usize = 65536;
/// What a connection keeps of its own between events: a partial head up to this size is moved
/// out of the shared buffer; more (a paused body) stays where it is.
pub const KEEP_OWN: usize = 4096;
/// Output buffers up to this capacity go back to the spare slot; larger ones (a big response
/// that the socket did not take at once) are freed.
pub const KEEP_OUT: usize = 65536;

#[derive(Clone, Copy)]
pub enum Kind {
    Input = 0,
    Output = 1,
}

thread_local! {
    static SPARE: RefCell<[Vec<u8>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
}

/// An empty buffer of at least `READ_SIZE` (input) or some capacity (output): the spare, or a new one.
pub fn take(kind: Kind) -> Vec<u8> {
    let spare = SPARE.with(|s| std::mem::take(&mut s.borrow_mut()[kind as usize]));
    if spare.capacity() > 0 {
        return spare;
    }
    Vec::with_capacity(match kind {
        Kind::Input => READ_SIZE,
        Kind::Output => KEEP_OWN,
    })
}

/// Hands a buffer back: it becomes the spare unless there is one already, or it is too small
/// for a read or has grown too large to keep.
pub fn give(kind: Kind, mut buf: Vec<u8>) {
    let fits = match kind {
        Kind::Input => buf.capacity() >= READ_SIZE,
        Kind::Output => buf.capacity() > 0 && buf.capacity() <= KEEP_OUT,
    };
    if !fits {
        return;
    }
    buf.clear();
    SPARE.with(|s| {
        let slot = &mut s.borrow_mut()[kind as usize];
        if slot.capacity() == 0 {
            *slot = buf;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_given_back_is_taken_again() {
        let mut first = take(Kind::Input);
        assert!(first.capacity() >= READ_SIZE && first.is_empty());
        first.extend_from_slice(b"abc");
        let at = first.as_ptr();
        give(Kind::Input, first);
        let again = take(Kind::Input);
        assert!(again.is_empty());
        assert_eq!(again.as_ptr(), at);
        // With the slot empty now, the next one is new.
        assert_ne!(take(Kind::Input).as_ptr(), at);
    }

    #[test]
    fn an_overgrown_output_buffer_is_not_kept() {
        give(Kind::Output, Vec::with_capacity(KEEP_OUT * 4));
        assert!(take(Kind::Output).capacity() < KEEP_OUT * 4);
    }
}
