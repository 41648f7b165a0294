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
mod tests;
