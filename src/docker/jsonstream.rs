//! Splitter for Docker's JSON streams (`/events`, `/containers/{id}/stats`):
//! a sequence of JSON objects, usually newline-separated, arriving in
//! arbitrary chunks.
//!
//! Rather than trusting newlines, the splitter tracks nesting depth and
//! string/escape state byte by byte, so it finds object boundaries however
//! the input is chunked or formatted. Scan state persists across [`push`]es,
//! so every byte is looked at once. Anything but whitespace between values
//! or a stray closing bracket is an error, never a panic.
//!
//! A value above [`MAX_VALUE`] (an event of a container with megabytes of
//! labels) does not end the stream: it is scanned to its end without being
//! kept, and returned as an [`Outline`] — its first and last bytes and its
//! size — so the caller can summarise it and carry on. Buffering is bounded
//! by `MAX_VALUE` plus one pushed chunk either way.
//!
//! [`push`]: JsonSplitter::push

use std::fmt;

/// Largest single JSON value kept whole (a stats sample is ~2–5 KiB).
pub const MAX_VALUE: usize = 1 << 20;
/// Bytes kept from each end of an oversized value.
pub const OUTLINE_BYTES: usize = 4096;

/// One value of the stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Value {
    /// A complete value, up to [`MAX_VALUE`] bytes.
    Whole(Vec<u8>),
    /// A value too large to keep, outlined.
    Oversized(Outline),
}

/// What is kept of an oversized value: its first and last
/// [`OUTLINE_BYTES`] bytes and its total size.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outline {
    pub head: Vec<u8>,
    pub tail: Vec<u8>,
    pub size: usize,
}

impl Outline {
    fn add(&mut self, b: u8) {
        self.size += 1;
        self.tail.push(b);
        if self.tail.len() >= 2 * OUTLINE_BYTES {
            self.tail.drain(..OUTLINE_BYTES);
        }
    }

    fn finish(mut self) -> Outline {
        let cut = self.tail.len().saturating_sub(OUTLINE_BYTES);
        self.tail.drain(..cut);
        self
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum JsonStreamError {
    /// A byte that cannot start a value between values.
    Unexpected(u8),
    Truncated,
}

impl fmt::Display for JsonStreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonStreamError::Unexpected(b) => write!(f, "unexpected byte 0x{b:02x} in JSON stream"),
            JsonStreamError::Truncated => f.write_str("JSON stream ended inside a value"),
        }
    }
}

impl std::error::Error for JsonStreamError {}

#[derive(Debug, Default)]
pub struct JsonSplitter {
    buf: Vec<u8>,
    /// Start of the value being scanned, once its first byte is seen.
    start: Option<usize>,
    /// Next byte to scan.
    pos: usize,
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// The oversized value being skipped, if any.
    skipping: Option<Outline>,
}

impl JsonSplitter {
    pub fn new() -> JsonSplitter {
        JsonSplitter::default()
    }

    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete top-level value, `Ok(None)` if more bytes are needed.
    pub fn next_value(&mut self) -> Result<Option<Value>, JsonStreamError> {
        if self.skipping.is_some() {
            return Ok(self.skip_on());
        }
        while self.pos < self.buf.len() {
            let b = self.buf[self.pos];
            self.pos += 1;
            let Some(start) = self.start else {
                match b {
                    b' ' | b'\n' | b'\r' | b'\t' => continue,
                    b'{' | b'[' => {
                        self.start = Some(self.pos - 1);
                        self.depth = 1;
                        continue;
                    }
                    other => return Err(JsonStreamError::Unexpected(other)),
                }
            };
            if self.scan(b) {
                let value = self.buf[start..self.pos].to_vec();
                self.buf.drain(..self.pos);
                self.pos = 0;
                self.start = None;
                return Ok(Some(Value::Whole(value)));
            }
            if self.pos - start > MAX_VALUE {
                return Ok(self.start_skipping(start));
            }
        }
        if self.start.is_none() {
            self.buf.clear();
            self.pos = 0;
        }
        Ok(None)
    }

    /// Gives up keeping the value at `start`: keeps its head, drops the rest.
    fn start_skipping(&mut self, start: usize) -> Option<Value> {
        let mut outline = Outline {
            head: self.buf[start..start + OUTLINE_BYTES].to_vec(),
            ..Outline::default()
        };
        for &b in &self.buf[start..self.pos] {
            outline.add(b);
        }
        self.buf.drain(..self.pos);
        self.pos = 0;
        self.start = None;
        self.skipping = Some(outline);
        self.skip_on()
    }

    /// Scans on through an oversized value without keeping it.
    fn skip_on(&mut self) -> Option<Value> {
        let mut outline = self.skipping.take()?;
        while self.pos < self.buf.len() {
            let b = self.buf[self.pos];
            self.pos += 1;
            outline.add(b);
            if self.scan(b) {
                self.buf.drain(..self.pos);
                self.pos = 0;
                return Some(Value::Oversized(outline.finish()));
            }
        }
        self.buf.clear();
        self.pos = 0;
        self.skipping = Some(outline);
        None
    }

    /// Advances the string/depth state over `b`; true when the value closes.
    fn scan(&mut self, b: u8) -> bool {
        if self.in_string {
            match (self.escaped, b) {
                (true, _) => self.escaped = false,
                (false, b'\\') => self.escaped = true,
                (false, b'"') => self.in_string = false,
                _ => {}
            }
            return false;
        }
        match b {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth -= 1;
                return self.depth == 0;
            }
            _ => {}
        }
        false
    }

    /// At end of stream: an error if a value was left unfinished.
    pub fn finish(&self) -> Result<(), JsonStreamError> {
        if self.start.is_some() || self.skipping.is_some() {
            Err(JsonStreamError::Truncated)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests;
