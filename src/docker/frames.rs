//! Decoder for Docker's multiplexed stream format (logs and attach of
//! containers without a TTY): frames of an 8-byte header — stream type
//! (0 stdin, 1 stdout, 2 stderr, 3 daemon error), three zero bytes, a
//! big-endian u32 length — followed by that many payload bytes.
//!
//! A push-style state machine: feed chunks as they arrive with [`push`],
//! pull complete frames with [`next_frame`], and call [`finish`] at end of
//! stream to detect a truncated tail. Bad input is an error, never a panic;
//! frames above [`MAX_FRAME`] are refused so a corrupt length cannot make us
//! buffer gigabytes.
//!
//! [`push`]: FrameDecoder::push
//! [`next_frame`]: FrameDecoder::next_frame
//! [`finish`]: FrameDecoder::finish

use std::fmt;

/// Largest payload accepted in one frame (Docker itself writes ≤ 32 KiB).
pub const MAX_FRAME: usize = 8 << 20;
const HEADER: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamKind {
    Stdin,
    Stdout,
    Stderr,
    /// An error the daemon reports in-band (stdcopy's "systemerr").
    Daemon,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Frame {
    pub stream: StreamKind,
    pub data: Vec<u8>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum FrameError {
    BadStreamType(u8),
    BadHeader,
    TooLarge(usize),
    Truncated,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::BadStreamType(t) => write!(f, "unknown stream type {t} in log frame"),
            FrameError::BadHeader => f.write_str("malformed log frame header"),
            FrameError::TooLarge(n) => write!(f, "log frame of {n} bytes exceeds the limit"),
            FrameError::Truncated => f.write_str("log stream ended inside a frame"),
        }
    }
}

impl std::error::Error for FrameError {}

#[derive(Debug, Default)]
pub struct FrameDecoder {
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed.
    pos: usize,
}

impl FrameDecoder {
    pub fn new() -> FrameDecoder {
        FrameDecoder::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, data: &[u8]) {
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// The next complete frame, `Ok(None)` if more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        let avail = &self.buf[self.pos..];
        if avail.len() < HEADER {
            return Ok(None);
        }
        let stream = match avail[0] {
            0 => StreamKind::Stdin,
            1 => StreamKind::Stdout,
            2 => StreamKind::Stderr,
            3 => StreamKind::Daemon,
            t => return Err(FrameError::BadStreamType(t)),
        };
        if avail[1..4] != [0, 0, 0] {
            return Err(FrameError::BadHeader);
        }
        let len = u32::from_be_bytes([avail[4], avail[5], avail[6], avail[7]]) as usize;
        if len > MAX_FRAME {
            return Err(FrameError::TooLarge(len));
        }
        if avail.len() < HEADER + len {
            return Ok(None);
        }
        let data = avail[HEADER..HEADER + len].to_vec();
        self.pos += HEADER + len;
        Ok(Some(Frame { stream, data }))
    }

    /// At end of stream: an error if a partial frame is left over.
    pub fn finish(&self) -> Result<(), FrameError> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(FrameError::Truncated)
        }
    }
}

#[cfg(test)]
mod tests {
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
}
