//! Docker's multiplexed log frames ([`FrameDecoder`]): encoded frames come
//! back unchanged however the bytes are chunked; arbitrary bytes give the
//! same frames and the same error whatever the chunking, never a panic; and
//! a length above [`MAX_FRAME`] is refused as soon as its header arrives.

use crate::chunks::{cuts, drain, split};
use docker_agent::docker::frames::{Frame, FrameDecoder, FrameError, MAX_FRAME, StreamKind};
use proptest::prelude::*;

/// Stream type bytes as Docker documents them.
const KINDS: [StreamKind; 4] = [
    StreamKind::Stdin,
    StreamKind::Stdout,
    StreamKind::Stderr,
    StreamKind::Daemon,
];

/// Docker's frame layout, written from its documentation: stream type, three
/// zero bytes, the payload length as a big-endian u32, the payload.
fn header(kind: u8, len: u32) -> Vec<u8> {
    let mut h = vec![kind, 0, 0, 0];
    h.extend_from_slice(&len.to_be_bytes());
    h
}

fn encode(frames: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (kind, data) in frames {
        out.extend(header(*kind, data.len() as u32));
        out.extend_from_slice(data);
    }
    out
}

fn decode(chunks: &[&[u8]]) -> (Vec<Frame>, Result<(), FrameError>) {
    let decoder = &mut FrameDecoder::new();
    drain(
        decoder,
        chunks,
        FrameDecoder::push,
        FrameDecoder::next_frame,
        FrameDecoder::finish,
    )
}

fn frames() -> impl Strategy<Value = Vec<(u8, Vec<u8>)>> {
    let payload = prop::collection::vec(any::<u8>(), 0..200);
    prop::collection::vec((0u8..4, payload), 0..10)
}

/// Frame-like noise: headers with good and bad types, padding and lengths,
/// mixed with runs of arbitrary bytes.
fn noise() -> impl Strategy<Value = Vec<u8>> {
    let length = prop_oneof![4 => 0u32..64, 1 => any::<u32>()];
    let bad_padding = proptest::option::weighted(0.25, (1usize..4, 1u8..=255));
    let head = (0u8..6, bad_padding, length).prop_map(|(kind, bad_padding, len)| {
        let mut h = header(kind, len);
        if let Some((at, byte)) = bad_padding {
            h[at] = byte;
        }
        h
    });
    let part = prop_oneof![head, prop::collection::vec(any::<u8>(), 0..24)];
    prop::collection::vec(part, 0..12).prop_map(|parts| parts.concat())
}

fn as_pairs(frames: &[Frame]) -> Vec<(u8, Vec<u8>)> {
    frames
        .iter()
        .map(|f| {
            let kind = KINDS.iter().position(|k| *k == f.stream).unwrap() as u8;
            (kind, f.data.clone())
        })
        .collect()
}

proptest! {
    #[test]
    fn encoded_frames_come_back_whatever_the_chunking(frames in frames(), cuts in cuts()) {
        let bytes = encode(&frames);
        let (decoded, end) = decode(&split(&bytes, &cuts));
        prop_assert_eq!(end, Ok(()));
        prop_assert_eq!(as_pairs(&decoded), frames);
    }

    #[test]
    fn arbitrary_bytes_decode_the_same_whatever_the_chunking(bytes in noise(), cuts in cuts()) {
        let whole = decode(&[&bytes]);
        prop_assert_eq!(&decode(&split(&bytes, &cuts)), &whole);
        let (frames, end) = whole;
        let consumed = encode(&as_pairs(&frames));
        prop_assert!(bytes.starts_with(&consumed), "frames re-encode to the bytes read");
        if end.is_ok() {
            prop_assert_eq!(consumed.len(), bytes.len(), "a clean end means every byte was a frame");
        }
    }

    #[test]
    fn an_oversized_length_is_refused_as_soon_as_its_header_arrives(
        before in frames(),
        kind in 0u8..4,
        len in (MAX_FRAME as u32 + 1)..=u32::MAX,
        cuts in cuts(),
    ) {
        let mut bytes = encode(&before);
        bytes.extend(header(kind, len));
        let (decoded, end) = decode(&split(&bytes, &cuts));
        prop_assert_eq!(as_pairs(&decoded), before);
        prop_assert_eq!(end, Err(FrameError::TooLarge(len as usize)));
    }
}
