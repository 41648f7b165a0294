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
mod tests {
    use super::*;

    fn lines(chunks: &[&[u8]]) -> Vec<String> {
        let mut s = LineSplitter::new();
        let mut out = Vec::new();
        for c in chunks {
            s.push(c, &mut out);
        }
        out.extend(s.flush());
        out
    }

    #[test]
    fn joins_lines_split_across_chunks_at_every_offset() {
        let input = "first\r\nsecönd ✓\n\nthird no newline".as_bytes();
        let want = ["first", "secönd ✓", "", "third no newline"];
        for cut in 0..=input.len() {
            assert_eq!(lines(&[&input[..cut], &input[cut..]]), want, "cut at {cut}");
        }
    }

    #[test]
    fn invalid_utf8_is_replaced_not_dropped() {
        assert_eq!(lines(&[b"ok \xff\xfe end\n"]), ["ok \u{fffd}\u{fffd} end"]);
    }

    #[test]
    fn very_long_lines_survive_whole_below_the_cap() {
        let long = "y".repeat(100 * 1024);
        let input = format!("{long}\nnext\n");
        let chunks: Vec<&[u8]> = input.as_bytes().chunks(16 * 1024).collect();
        assert_eq!(lines(&chunks), [long, "next".into()]);
    }

    #[test]
    fn lines_above_the_cap_are_cut_on_character_boundaries() {
        let mut input = "a".repeat(MAX_LINE - 1);
        input.push('é');
        input.push_str("tail\n");
        let out = lines(&[input.as_bytes()]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].len(), MAX_LINE - 1);
        assert_eq!(out[1], "étail");
        assert!(out.iter().all(|l| !l.contains('\u{fffd}')));
    }

    #[test]
    fn crlf_after_a_line_of_exactly_the_cap_adds_no_empty_line() {
        let line = "a".repeat(MAX_LINE);
        let crlf = format!("{line}\r\nnext\n");
        assert_eq!(lines(&[crlf.as_bytes()]), [line.clone(), "next".into()]);
        let (head, tail) = crlf.as_bytes().split_at(MAX_LINE + 1);
        assert_eq!(lines(&[head, tail]), [line.clone(), "next".into()]);
        assert_eq!(lines(&[format!("{line}\r").as_bytes()]), [line]);
    }
}
