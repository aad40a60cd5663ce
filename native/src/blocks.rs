//! Header blocks JavaScript registers once (a `HeaderBlock` hoisted out of the handler) and
//! then names by number: each response skips converting and re-checking the same text.

use std::cell::RefCell;

use crate::writer::{self, BlockInfo};

struct Registered {
    bytes: Vec<u8>,
    info: BlockInfo,
}

thread_local! {
    static BLOCKS: RefCell<Vec<Option<Registered>>> = const { RefCell::new(Vec::new()) };
}

/// Checks and stores a block; returns its id.
pub fn register(bytes: Vec<u8>) -> Result<u32, &'static str> {
    let info = writer::scan_block(&bytes)?;
    BLOCKS.with(|b| {
        let mut blocks = b.borrow_mut();
        let entry = Some(Registered { bytes, info });
        match blocks.iter().position(Option::is_none) {
            Some(free) => {
                blocks[free] = entry;
                Ok(free as u32)
            }
            None => {
                blocks.push(entry);
                Ok(blocks.len() as u32 - 1)
            }
        }
    })
}

pub fn release(id: u32) {
    BLOCKS.with(|b| {
        if let Some(slot) = b.borrow_mut().get_mut(id as usize) {
            *slot = None;
        }
    });
}

/// Runs `f` with a registered block's bytes and what they say.
pub fn with<T>(id: u32, f: impl FnOnce(&[u8], &BlockInfo) -> T) -> Option<T> {
    BLOCKS.with(|b| b.borrow().get(id as usize).and_then(Option::as_ref).map(|r| f(&r.bytes, &r.info)))
}
