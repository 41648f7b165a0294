//! Log line assembly: turns the byte chunks of one output stream (stdout or
//! stderr, already demultiplexed) into text lines.
//!
//! A line may span several chunks (Docker stores lines over 16 KiB as
//! "partial" entries and returns each as its own frame); chunks are joined
//! until `\n`. A trailing `\r` is dropped (CRLF, TTY output). Invalid UTF-8
//! is replaced with U+FFFD, never dropped. Lines longer than [`MAX_LINE`] are
//! delivered in pieces of at most that size, cut on a character boundary, so
//! memory stays bounded. Docker's timestamps are taken off each entry before
//! it gets here (see [`crate::service::follow`]).

/// Longest line delivered in one piece.
pub const MAX_LINE: usize = 1 << 20;

#[derive(Debug, Default)]
pub struct LineSplitter {
    buf: Vec<u8>,
    /// The current line has already been delivered in part (it passed `MAX_LINE`).
    continued: bool,
}

impl LineSplitter {
    pub fn new() -> LineSplitter {
        LineSplitter::default()
    }

    /// True when a line has started but not ended.
    pub fn has_partial(&self) -> bool {
        !self.buf.is_empty()
    }

    /// Appends `data`, pushing every completed line onto `out`.
    pub fn push(&mut self, mut data: &[u8], out: &mut Vec<String>) {
        while let Some(nl) = data.iter().position(|&b| b == b'\n') {
            self.append(&data[..nl], out);
            out.extend(self.take_line());
            data = &data[nl + 1..];
        }
        self.append(data, out);
    }

    /// Adds bytes without a newline, splitting off pieces at `MAX_LINE`.
    fn append(&mut self, mut data: &[u8], out: &mut Vec<String>) {
        while self.buf.len() + data.len() > MAX_LINE {
            let take = MAX_LINE - self.buf.len();
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            let cut = char_boundary(&self.buf);
            let rest = self.buf.split_off(cut);
            out.push(String::from_utf8_lossy(&self.buf).into_owned());
            self.buf = rest;
            self.continued = true;
        }
        self.buf.extend_from_slice(data);
    }

    /// At end of stream: the unterminated last line, if any.
    pub fn flush(&mut self) -> Option<String> {
        self.has_partial().then(|| self.take_line()).flatten()
    }

    /// Ends the current line: its last piece, unless all that is left is the
    /// `\r` of a line whose content filled the pieces already delivered.
    fn take_line(&mut self) -> Option<String> {
        let line = std::mem::take(&mut self.buf);
        let continued = std::mem::take(&mut self.continued);
        (!continued || line != b"\r").then(|| finish_line(line))
    }
}

fn finish_line(mut line: Vec<u8>) -> String {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8_lossy(&line).into_owned()
}

/// The largest prefix length of `buf` that does not cut a UTF-8 sequence
/// (looks back at most 3 bytes; invalid bytes are left to lossy decoding).
fn char_boundary(buf: &[u8]) -> usize {
    let len = buf.len();
    for back in 1..=3.min(len) {
        let b = buf[len - back];
        if b & 0xC0 != 0x80 {
            let width = match b {
                0xC0..=0xDF => 2,
                0xE0..=0xEF => 3,
                0xF0..=0xF7 => 4,
                _ => 1,
            };
            return if width > back { len - back } else { len };
        }
    }
    len
}

#[cfg(test)]
mod tests;
