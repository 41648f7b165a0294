//! Resume points in Docker's logs and event log, so a stream can be picked
//! up again exactly where it stopped: after a cut connection, a daemon
//! restart, or when a slow subscriber moves to a follow of its own.
//!
//! Docker stamps every log entry (asked with `timestamps=1`) and every event
//! (`timeNano`) with a nanosecond time, and accepts `since=<secs>.<nanos>`.
//! An entry is named by its stamp and its rank among consecutive entries
//! with that same stamp ([`EntryId`]). A [`Position`] says "after this
//! entry, then skip this many decoded lines" — the line count covers lines
//! completed after a partial line that started at the anchor (stdout and
//! stderr are joined independently, so a pending partial line on one stream
//! pins the resume point while the other stream's lines go on).
//!
//! To resume, ask Docker for `since = anchor − SLACK` (entries of stdout and
//! stderr can be stamped a little out of file order), drop entries up to
//! and including the anchor ([`Skipper`]), then drop `skip` lines. If the
//! anchor is gone (log rotated away, event buffer overrun) the skipper gives
//! up once entries are stamped past `anchor + SLACK` and says so.

/// How far before the anchor a resume asks Docker to start, in nanoseconds.
pub const SLACK: u64 = 100_000_000;

/// One log entry or event: its stamp and rank among equal stamps in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EntryId {
    pub nanos: u64,
    pub nth: u32,
}

/// Where a stream stands: after `after` (or from the stream's start when
/// `None`), then `skip` more decoded lines already delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub after: Option<EntryId>,
    pub skip: u64,
}

/// Names entries as they arrive: stamp plus rank within a run of equal stamps.
#[derive(Debug, Default, Clone)]
pub struct EntryCounter {
    last: Option<EntryId>,
}

impl EntryCounter {
    pub fn next(&mut self, nanos: u64) -> EntryId {
        let nth = match self.last {
            Some(prev) if prev.nanos == nanos => prev.nth + 1,
            _ => 1,
        };
        let id = EntryId { nanos, nth };
        self.last = Some(id);
        id
    }
}

/// What the [`Skipper`] says about one entry of a resumed stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Skip {
    /// Already delivered before the resume point.
    Drop,
    /// New: deliver it.
    Keep,
    /// The anchor never came: deliver from here, some entries may be missing.
    Gap,
}

/// Drops the entries of a resumed stream up to and including its anchor.
#[derive(Debug)]
pub struct Skipper {
    anchor: Option<EntryId>,
}

impl Skipper {
    pub fn new(anchor: Option<EntryId>) -> Skipper {
        Skipper { anchor }
    }

    pub fn check(&mut self, id: EntryId) -> Skip {
        let Some(anchor) = self.anchor else {
            return Skip::Keep;
        };
        if id == anchor {
            self.anchor = None;
            Skip::Drop
        } else if id.nanos > anchor.nanos.saturating_add(SLACK) {
            self.anchor = None;
            Skip::Gap
        } else {
            Skip::Drop
        }
    }
}

/// `since` for resuming after `anchor`, as Docker takes it (`secs.nanos`).
pub fn since_for(anchor: EntryId) -> String {
    since_nanos(anchor.nanos.saturating_sub(SLACK))
}

/// A nanosecond Unix time as Docker's `since`/`until` value.
pub fn since_nanos(nanos: u64) -> String {
    format!("{}.{:09}", nanos / 1_000_000_000, nanos % 1_000_000_000)
}

/// Splits Docker's `RFC3339Nano ` prefix off a log entry: the stamp text,
/// its Unix nanoseconds, and the rest. `None` if the entry has no stamp.
pub fn split_stamp(entry: &[u8]) -> Option<(&str, u64, &[u8])> {
    let head = &entry[..entry.len().min(40)];
    let space = head.iter().position(|&b| b == b' ')?;
    let stamp = std::str::from_utf8(&entry[..space]).ok()?;
    let nanos = parse_nanos(stamp)?;
    Some((stamp, nanos, &entry[space + 1..]))
}

/// Unix nanoseconds of an RFC 3339 time with up to nine fraction digits.
pub fn parse_nanos(stamp: &str) -> Option<u64> {
    let secs = crate::clock::parse_rfc3339(stamp)?;
    let frac = match stamp.get(19..).and_then(|r| r.strip_prefix('.')) {
        Some(digits) => {
            let digits =
                &digits.as_bytes()[..digits.bytes().take_while(u8::is_ascii_digit).count()];
            if digits.is_empty() || digits.len() > 9 {
                return None;
            }
            let n = digits
                .iter()
                .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
            n * 10u64.pow(9 - digits.len() as u32)
        }
        None => 0,
    };
    u64::try_from(secs)
        .ok()?
        .checked_mul(1_000_000_000)?
        .checked_add(frac)
}

#[cfg(test)]
mod tests;
