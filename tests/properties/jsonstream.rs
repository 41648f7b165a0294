//! Docker's JSON streams ([`JsonSplitter`]): serialised values, compact or
//! pretty with whitespace between, come back byte for byte however they are
//! chunked; arbitrary bytes split the same whatever the chunking, never
//! panic, and only whitespace ever lies between the values handed out; and a
//! value above [`MAX_VALUE`] comes back as an outline (its first and last
//! bytes and its size) while the values around it come back whole.

use crate::chunks::{bytes_rich_in, cuts, drain, split};
use crate::json::{container, whitespace};
use docker_agent::docker::jsonstream::{
    JsonSplitter, JsonStreamError, MAX_VALUE, OUTLINE_BYTES, Outline, Value as Item,
};
use proptest::prelude::*;
use serde_json::Value;

fn items(chunks: &[&[u8]]) -> (Vec<Item>, Result<(), JsonStreamError>) {
    let splitter = &mut JsonSplitter::new();
    drain(
        splitter,
        chunks,
        JsonSplitter::push,
        JsonSplitter::next_value,
        JsonSplitter::finish,
    )
}

/// The values of small input, which all come back whole.
fn values(chunks: &[&[u8]]) -> (Vec<Vec<u8>>, Result<(), JsonStreamError>) {
    let (items, end) = items(chunks);
    let whole = items
        .into_iter()
        .map(|i| match i {
            Item::Whole(v) => v,
            Item::Oversized(o) => panic!("{} bytes outlined", o.size),
        })
        .collect();
    (whole, end)
}

fn serialise(value: &Value, pretty: bool) -> Vec<u8> {
    if pretty {
        serde_json::to_vec_pretty(value).unwrap()
    } else {
        serde_json::to_vec(value).unwrap()
    }
}

fn is_json_space(b: &u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

/// An array of copies of `item`, just over `MAX_VALUE` bytes long.
fn oversized(item: &Value) -> Vec<u8> {
    let mut item = serde_json::to_vec(item).unwrap();
    item.push(b',');
    [b"[", &item.repeat(MAX_VALUE / item.len() + 1)[..], b"0]"].concat()
}

proptest! {
    #[test]
    fn serialised_values_come_back_whatever_the_chunking(
        lead in whitespace(),
        items in prop::collection::vec((container(), any::<bool>(), whitespace()), 0..6),
        cuts in cuts(),
    ) {
        let mut stream = lead.into_bytes();
        let mut expected = Vec::new();
        for (value, pretty, gap) in &items {
            let text = serialise(value, *pretty);
            stream.extend_from_slice(&text);
            stream.extend_from_slice(gap.as_bytes());
            expected.push(text);
        }
        let (got, end) = values(&split(&stream, &cuts));
        prop_assert_eq!(end, Ok(()));
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn arbitrary_bytes_split_the_same_whatever_the_chunking(
        bytes in bytes_rich_in(b"{}[]\"\\ \n\r\t,:a1", 600),
        cuts in cuts(),
    ) {
        let whole = values(&[&bytes]);
        prop_assert_eq!(&values(&split(&bytes, &cuts)), &whole);
        let mut rest = &bytes[..];
        for value in &whole.0 {
            let start = rest.iter().position(|b| !is_json_space(b)).unwrap_or(rest.len());
            prop_assert!(rest[start..].starts_with(value), "only whitespace lies between values");
            rest = &rest[start + value.len()..];
        }
    }

    #[test]
    fn an_oversized_value_is_outlined_and_the_stream_goes_on(
        first in container(),
        item in container(),
        last in container(),
        chunk in 512usize..65_536,
    ) {
        let first_text = serde_json::to_vec(&first).unwrap();
        let big = oversized(&item);
        let last_text = serde_json::to_vec(&last).unwrap();
        let stream = [&first_text[..], b"\n", &big, b" ", &last_text].concat();
        let pieces: Vec<&[u8]> = stream.chunks(chunk).collect();
        let (got, end) = items(&pieces);
        prop_assert_eq!(end, Ok(()));
        let outline = Outline {
            head: big[..OUTLINE_BYTES].to_vec(),
            tail: big[big.len() - OUTLINE_BYTES..].to_vec(),
            size: big.len(),
        };
        prop_assert_eq!(
            got,
            vec![Item::Whole(first_text), Item::Oversized(outline), Item::Whole(last_text)]
        );
    }
}
