//! A followed container log, decoded into lines that each carry the
//! [`Position`] just after them, so the follow can be reopened exactly
//! there (see [`crate::docker::resume`]).
//!
//! Docker is always asked for timestamps: every entry (one multiplexed
//! frame, or for a TTY one stamped line of raw output) names itself by its
//! stamp. Stamps are stripped unless the client asked for them, and a line
//! joined from several partial entries shows only its first stamp.
//!
//! A TTY log has no frames, so an entry that ends without a newline (a
//! prompt, a progress bar) is recognised when the next body chunk starts
//! with a stamp — Docker flushes each entry on its own.

use crate::docker::frames::{FrameDecoder, StreamKind};
use crate::docker::lines::{LineSplitter, MAX_LINE};
use crate::docker::resume::{EntryCounter, EntryId, Position, Skip, Skipper, split_stamp};
use crate::error::Error;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::collections::VecDeque;

/// One log line and the resume point right after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub text: String,
    pub pos: Position,
}

/// A resume point as the decoder sees it: the entry sequence number it
/// stands before, the entry before it, and the lines completed before it.
#[derive(Debug, Clone, Copy)]
struct Mark {
    seq: u64,
    after: Option<EntryId>,
    lines_before: u64,
}

/// stdout or stderr: its line joiner, where its pending partial line began,
/// and the stamp of that line's first entry.
#[derive(Debug, Default)]
struct Lane {
    splitter: LineSplitter,
    pending: Option<Mark>,
    stamp: String,
}

/// Lines of a followed log, in order, with resume positions.
pub struct LogFollower {
    body: Incoming,
    decoder: LogDecoder,
}

/// The decoding half of [`LogFollower`]: bytes in, positioned lines out.
pub struct LogDecoder {
    tty: bool,
    timestamps: bool,
    frames: FrameDecoder,
    tty_entry: Vec<u8>,
    lanes: [Lane; 2],
    ids: EntryCounter,
    skipper: Skipper,
    /// Lines still to drop after the anchor (delivered before the resume).
    drop_lines: u64,
    seq: u64,
    prev: Option<EntryId>,
    lines_total: u64,
    ready: VecDeque<LogLine>,
    /// Reused for the lines of each entry.
    scratch: Vec<String>,
    ended: bool,
}

impl LogFollower {
    /// Decodes `body`, resuming after `from` when given.
    pub fn new(body: Incoming, decoder: LogDecoder) -> LogFollower {
        LogFollower { body, decoder }
    }

    /// The next line; `Ok(None)` when Docker ends the stream (the container stopped).
    pub async fn next_line(&mut self) -> Result<Option<LogLine>, Error> {
        loop {
            if let Some(line) = self.decoder.ready.pop_front() {
                return Ok(Some(line));
            }
            if self.decoder.ended {
                return Ok(None);
            }
            match self.body.frame().await {
                Some(frame) => {
                    if let Ok(data) = frame.map_err(Error::interrupted)?.into_data() {
                        self.decoder.feed(&data)?;
                    }
                }
                None => self.decoder.finish()?,
            }
        }
    }

    /// Takes every line that is already complete, without waiting.
    pub fn drain_ready(&mut self, out: &mut Vec<LogLine>) {
        out.extend(self.decoder.ready.drain(..));
    }
}

impl LogDecoder {
    /// A decoder for a TTY or multiplexed log, resuming after `from` when given.
    pub fn new(tty: bool, timestamps: bool, from: Option<Position>) -> LogDecoder {
        let from = from.unwrap_or_default();
        LogDecoder {
            tty,
            timestamps,
            frames: FrameDecoder::new(),
            tty_entry: Vec::new(),
            lanes: Default::default(),
            ids: EntryCounter::default(),
            skipper: Skipper::new(from.after),
            drop_lines: from.skip,
            seq: 0,
            prev: None,
            lines_total: 0,
            ready: VecDeque::new(),
            scratch: Vec::new(),
            ended: false,
        }
    }

    /// Lines decoded so far and not yet taken.
    pub fn take_ready(&mut self) -> Vec<LogLine> {
        self.ready.drain(..).collect()
    }

    /// Decodes a chunk of the response body.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), Error> {
        if self.tty {
            self.feed_tty(data);
            return Ok(());
        }
        self.frames.push(data);
        while let Some(frame) = self.frames.next_frame().map_err(Error::corrupt_stream)? {
            let lane = match frame.stream {
                StreamKind::Stderr => 1,
                StreamKind::Daemon => {
                    return Err(Error::corrupt_stream(String::from_utf8_lossy(&frame.data)));
                }
                _ => 0,
            };
            self.entry(lane, &frame.data);
        }
        Ok(())
    }

    /// Raw TTY output: entries end at a newline, or where the next chunk
    /// starts with a stamp, or at [`MAX_LINE`].
    fn feed_tty(&mut self, mut data: &[u8]) {
        if !self.tty_entry.is_empty() && split_stamp(data).is_some() {
            let entry = std::mem::take(&mut self.tty_entry);
            self.entry(0, &entry);
        }
        while let Some(nl) = data.iter().position(|&b| b == b'\n') {
            self.tty_entry.extend_from_slice(&data[..=nl]);
            data = &data[nl + 1..];
            let entry = std::mem::take(&mut self.tty_entry);
            self.entry(0, &entry);
        }
        self.tty_entry.extend_from_slice(data);
        if self.tty_entry.len() > MAX_LINE {
            let entry = std::mem::take(&mut self.tty_entry);
            self.entry(0, &entry);
        }
    }

    /// One stamped entry of stdout (lane 0) or stderr (lane 1).
    fn entry(&mut self, lane: usize, raw: &[u8]) {
        let fallback;
        let (stamp, nanos, content) = match split_stamp(raw) {
            Some(parts) => parts,
            // Unstamped (never seen from Docker): part of the previous entry's time.
            None => {
                fallback = self.lanes[lane].stamp.clone();
                (fallback.as_str(), self.prev.map_or(0, |p| p.nanos), raw)
            }
        };
        let id = self.ids.next(nanos);
        match self.skipper.check(id) {
            Skip::Drop => {
                self.prev = Some(id);
                return;
            }
            Skip::Gap => {
                log::warn!("log resume point no longer in Docker's log; some lines may be missing")
            }
            Skip::Keep => {}
        }
        let start = Mark {
            seq: self.seq,
            after: self.prev,
            lines_before: self.lines_total,
        };
        self.seq += 1;
        self.prev = Some(id);
        self.split(lane, start, stamp, content);
    }

    /// Joins `content` into `lane`'s lines and queues each completed line.
    fn split(&mut self, lane: usize, start: Mark, stamp: &str, content: &[u8]) {
        let mut lines = std::mem::take(&mut self.scratch);
        let l = &mut self.lanes[lane];
        let had_partial = l.splitter.has_partial();
        l.splitter.push(content, &mut lines);
        let partial_after = l.splitter.has_partial();
        let first_stamp = (self.timestamps && had_partial).then(|| l.stamp.clone());
        if partial_after && (!had_partial || !lines.is_empty()) {
            l.pending = Some(start);
            l.stamp = stamp.to_string();
        } else if !partial_after {
            l.pending = None;
        }
        let other = self.lanes[1 - lane].pending;
        let count = lines.len();
        for (i, line) in lines.drain(..).enumerate() {
            self.lines_total += 1;
            let own = if i + 1 < count || partial_after {
                start
            } else {
                Mark {
                    seq: start.seq + 1,
                    after: self.prev,
                    lines_before: self.lines_total,
                }
            };
            let mark = match other {
                Some(o) if o.seq < own.seq => o,
                _ => own,
            };
            let stamp = match (i, &first_stamp) {
                (0, Some(first)) => first.as_str(),
                _ => stamp,
            };
            self.emit(line, stamp, mark);
        }
        self.scratch = lines;
    }

    fn emit(&mut self, line: String, stamp: &str, mark: Mark) {
        if self.drop_lines > 0 {
            self.drop_lines -= 1;
            return;
        }
        let pos = Position {
            after: mark.after,
            skip: self.lines_total - mark.lines_before,
        };
        let text = if self.timestamps {
            format!("{stamp} {line}")
        } else {
            line
        };
        self.ready.push_back(LogLine { text, pos });
    }

    /// At the end of the body: flushes unterminated lines, reports a truncated frame.
    pub fn finish(&mut self) -> Result<(), Error> {
        self.ended = true;
        if !self.tty_entry.is_empty() {
            let entry = std::mem::take(&mut self.tty_entry);
            self.entry(0, &entry);
        }
        // Unterminated lines end here; resuming re-reads them all from the earliest.
        let end = Mark {
            seq: self.seq,
            after: self.prev,
            lines_before: self.lines_total,
        };
        let earliest = self
            .lanes
            .iter()
            .filter_map(|l| l.pending)
            .min_by_key(|m| m.seq);
        let earliest = earliest.unwrap_or(end);
        for lane in 0..2 {
            if let Some(line) = self.lanes[lane].splitter.flush() {
                self.lines_total += 1;
                let stamp = self.lanes[lane].stamp.clone();
                self.emit(line, &stamp, earliest);
            }
        }
        self.frames.finish().map_err(Error::corrupt_stream)
    }
}

#[cfg(test)]
mod tests;
