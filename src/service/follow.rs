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
mod tests {
    use super::*;
    use crate::docker::resume::SLACK;

    /// A log entry: stderr?, stamp (nanoseconds below a minute), content.
    type Entry = (bool, u64, &'static str);

    fn stamp(nanos: u64) -> String {
        format!(
            "1970-01-01T00:00:{:02}.{:09}Z",
            nanos / 1_000_000_000,
            nanos % 1_000_000_000
        )
    }

    fn frames(entries: &[Entry]) -> Vec<u8> {
        let mut out = Vec::new();
        for &(err, nanos, content) in entries {
            let payload = format!("{} {content}", stamp(nanos));
            out.extend_from_slice(&[if err { 2 } else { 1 }, 0, 0, 0]);
            out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
            out.extend_from_slice(payload.as_bytes());
        }
        out
    }

    fn decode(entries: &[Entry], from: Option<Position>, timestamps: bool) -> Vec<LogLine> {
        let mut d = LogDecoder::new(false, timestamps, from);
        let bytes = frames(entries);
        for chunk in bytes.chunks(7) {
            d.feed(chunk).unwrap();
        }
        d.finish().unwrap();
        d.take_ready()
    }

    /// What Docker returns when asked to resume after `pos`.
    fn resumed(entries: &[Entry], pos: Position) -> Vec<Entry> {
        match pos.after {
            Some(a) => {
                let since = a.nanos.saturating_sub(SLACK);
                entries.iter().copied().filter(|e| e.1 >= since).collect()
            }
            None => entries.to_vec(),
        }
    }

    /// Resuming after any delivered line gives exactly the lines after it.
    fn assert_resumes_exactly(entries: &[Entry]) {
        let all = decode(entries, None, false);
        let texts: Vec<&str> = all.iter().map(|l| l.text.as_str()).collect();
        for (k, line) in all.iter().enumerate() {
            let rest = decode(&resumed(entries, line.pos), Some(line.pos), false);
            let rest: Vec<&str> = rest.iter().map(|l| l.text.as_str()).collect();
            assert_eq!(
                rest,
                texts[k + 1..],
                "resuming after line {k} ({:?}) of {entries:?}",
                line.pos
            );
        }
    }

    #[test]
    fn lines_are_stripped_of_stamps_unless_asked() {
        let entries = [(false, 1, "a\n"), (true, 2, "b\n")];
        let plain: Vec<String> = decode(&entries, None, false)
            .into_iter()
            .map(|l| l.text)
            .collect();
        assert_eq!(plain, ["a", "b"]);
        let stamped = decode(&entries, None, true);
        assert_eq!(stamped[1].text, format!("{} b", stamp(2)));
    }

    #[test]
    fn a_joined_line_shows_its_first_stamp() {
        let entries = [(false, 1, "par"), (false, 2, "tial\n")];
        let lines = decode(&entries, None, true);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].text, format!("{} partial", stamp(1)));
    }

    #[test]
    fn resuming_after_any_line_of_a_plain_log_is_exact() {
        let entries: Vec<Entry> = (0..40).map(|i| (false, 1_000 + i * 10, "x\n")).collect();
        assert_resumes_exactly(&entries);
    }

    #[test]
    fn resuming_is_exact_across_equal_stamps_partials_and_interleaved_streams() {
        let entries = [
            (false, 5, "one\n"),
            (false, 5, "two\n"),
            (true, 5, "err-par"),
            (false, 5, "three\n"),
            (false, 6, "fo"),
            (true, 6, "tial\n"),
            (false, 6, "ur\n"),
            (true, 7, "e2\n"),
            (false, 7, "five\nsix\n"),
            (false, 7, "seven\n"),
            (true, 8, "a\nb"),
            (true, 9, "c\n"),
            (false, 9, "end\n"),
        ];
        assert_resumes_exactly(&entries);
        let texts: Vec<String> = decode(&entries, None, false)
            .into_iter()
            .map(|l| l.text)
            .collect();
        assert_eq!(
            texts,
            [
                "one",
                "two",
                "three",
                "err-partial",
                "four",
                "e2",
                "five",
                "six",
                "seven",
                "a",
                "bc",
                "end"
            ]
        );
    }

    #[test]
    fn resuming_is_exact_for_generated_logs() {
        let pieces = ["l\n", "par", "t", "\n", "x\ny\n", "z\nw", ""];
        let mut seed = 0x2545_f491_u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) % n
        };
        for _ in 0..300 {
            let mut nanos = 1_000;
            let entries: Vec<Entry> = (0..next(30) + 1)
                .map(|_| {
                    nanos += next(3) * 40_000_000;
                    (
                        next(2) == 1,
                        nanos,
                        pieces[next(pieces.len() as u64) as usize],
                    )
                })
                .collect();
            assert_resumes_exactly(&entries);
        }
    }

    #[test]
    fn a_tty_log_splits_entries_at_newlines_and_stamped_chunks() {
        let mut d = LogDecoder::new(true, false, None);
        d.feed(format!("{} prompt> ", stamp(1)).as_bytes()).unwrap();
        d.feed(format!("{} answer\r\n{} next\r\n", stamp(2), stamp(3)).as_bytes())
            .unwrap();
        d.finish().unwrap();
        let texts: Vec<String> = d.take_ready().into_iter().map(|l| l.text).collect();
        assert_eq!(texts, ["prompt> answer", "next"]);
    }

    #[test]
    fn a_daemon_error_frame_or_a_bad_header_is_an_error() {
        let mut d = LogDecoder::new(false, false, None);
        assert!(d.feed(&[3, 0, 0, 0, 0, 0, 0, 2, b'n', b'o']).is_err());
        let mut d = LogDecoder::new(false, false, None);
        let err = d.feed(&[7, 0, 0, 0, 0, 0, 0, 1, b'x']).unwrap_err();
        assert!(
            err.message().contains("corrupt stream from Docker"),
            "{}",
            err.message()
        );
    }
}
