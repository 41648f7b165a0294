//! Input as a socket delivers it: cut into chunks at arbitrary points, fed
//! to a push-style decoder, and byte strings rich in the bytes a decoder
//! cares about.

use proptest::prelude::*;
use proptest::sample::{Index, select};

/// Up to 16 cut points, resolved against the input's length by [`split`].
pub fn cuts() -> impl Strategy<Value = Vec<Index>> {
    prop::collection::vec(any::<Index>(), 0..16)
}

/// `bytes` cut at `cuts`, in order; repeated cuts give empty chunks.
pub fn split<'a>(bytes: &'a [u8], cuts: &[Index]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
    at.sort_unstable();
    let mut chunks = Vec::with_capacity(at.len() + 1);
    let mut last = 0;
    for cut in at.into_iter().chain([bytes.len()]) {
        chunks.push(&bytes[last..cut]);
        last = cut;
    }
    chunks
}

/// Up to `max` bytes, each either arbitrary or one of `significant`, so the
/// decoder's interesting states are reached far more often than by chance.
pub fn bytes_rich_in(significant: &'static [u8], max: usize) -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![any::<u8>(), select(significant)];
    prop::collection::vec(byte, 0..max)
}

/// Feeds `chunks` to a push-style decoder, draining it after each, as a
/// reader does: what it yields, then the error that stopped it or its
/// end-of-stream verdict.
pub fn drain<D, T, E>(
    decoder: &mut D,
    chunks: &[&[u8]],
    push: fn(&mut D, &[u8]),
    next: fn(&mut D) -> Result<Option<T>, E>,
    finish: fn(&D) -> Result<(), E>,
) -> (Vec<T>, Result<(), E>) {
    let mut out = Vec::new();
    for chunk in chunks {
        push(decoder, chunk);
        loop {
            match next(decoder) {
                Ok(Some(item)) => out.push(item),
                Ok(None) => break,
                Err(e) => return (out, Err(e)),
            }
        }
    }
    let end = finish(decoder);
    (out, end)
}
