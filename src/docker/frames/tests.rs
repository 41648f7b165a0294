use super::*;

fn frame(kind: u8, data: &[u8]) -> Vec<u8> {
    let mut v = vec![kind, 0, 0, 0];
    v.extend_from_slice(&(data.len() as u32).to_be_bytes());
    v.extend_from_slice(data);
    v
}

fn sample() -> (Vec<u8>, Vec<Frame>) {
    let parts: [(u8, &[u8]); 5] = [
        (1, b"hello\n"),
        (2, "ünïcödé err\n".as_bytes()),
        (1, b""),
        (1, &[0xff, 0xfe, b'\n']),
        (3, b"daemon says no"),
    ];
    let mut bytes = Vec::new();
    let mut frames = Vec::new();
    for (k, d) in parts {
        bytes.extend(frame(k, d));
        let stream = [
            StreamKind::Stdin,
            StreamKind::Stdout,
            StreamKind::Stderr,
            StreamKind::Daemon,
        ][k as usize];
        frames.push(Frame {
            stream,
            data: d.to_vec(),
        });
    }
    (bytes, frames)
}

fn decode_in_chunks(bytes: &[u8], cuts: &[usize]) -> Result<Vec<Frame>, FrameError> {
    let mut d = FrameDecoder::new();
    let mut out = Vec::new();
    let mut last = 0;
    for &cut in cuts.iter().chain(std::iter::once(&bytes.len())) {
        d.push(&bytes[last..cut]);
        last = cut;
        while let Some(f) = d.next_frame()? {
            out.push(f);
        }
    }
    d.finish()?;
    Ok(out)
}

#[test]
fn decodes_whole_input() {
    let (bytes, frames) = sample();
    assert_eq!(decode_in_chunks(&bytes, &[]).unwrap(), frames);
}

#[test]
fn decodes_input_split_at_every_byte_offset() {
    let (bytes, frames) = sample();
    for cut in 0..=bytes.len() {
        assert_eq!(
            decode_in_chunks(&bytes, &[cut]).unwrap(),
            frames,
            "cut at {cut}"
        );
    }
    for a in 0..=bytes.len() {
        for b in a..=bytes.len() {
            assert_eq!(
                decode_in_chunks(&bytes, &[a, b]).unwrap(),
                frames,
                "cuts at {a},{b}"
            );
        }
    }
}

#[test]
fn decodes_input_fed_one_byte_at_a_time() {
    let (bytes, frames) = sample();
    let cuts: Vec<usize> = (1..bytes.len()).collect();
    assert_eq!(decode_in_chunks(&bytes, &cuts).unwrap(), frames);
}

#[test]
fn bad_stream_type_is_an_error() {
    let mut d = FrameDecoder::new();
    d.push(&frame(7, b"x"));
    assert_eq!(d.next_frame(), Err(FrameError::BadStreamType(7)));
}

#[test]
fn nonzero_padding_is_an_error() {
    let mut bytes = frame(1, b"x");
    bytes[2] = 9;
    let mut d = FrameDecoder::new();
    d.push(&bytes);
    assert_eq!(d.next_frame(), Err(FrameError::BadHeader));
}

#[test]
fn huge_length_is_refused_before_buffering() {
    let mut d = FrameDecoder::new();
    d.push(&[1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    assert_eq!(d.next_frame(), Err(FrameError::TooLarge(u32::MAX as usize)));
}

#[test]
fn truncated_header_and_payload_are_reported_at_end() {
    let bytes = frame(1, b"hello");
    for cut in 1..bytes.len() {
        let mut d = FrameDecoder::new();
        d.push(&bytes[..cut]);
        assert_eq!(d.next_frame(), Ok(None));
        assert_eq!(d.finish(), Err(FrameError::Truncated), "cut at {cut}");
    }
}

#[test]
fn raw_text_is_not_mistaken_for_frames() {
    let mut d = FrameDecoder::new();
    d.push(b"plain tty output\n");
    assert!(d.next_frame().is_err());
}
