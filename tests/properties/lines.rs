//! Log line assembly ([`LineSplitter`], [`split_stamp`]): lines come
//! back as splitting the whole input at `\n` gives them — one trailing `\r`
//! dropped, invalid UTF-8 replaced, an unterminated tail flushed — however
//! the input is chunked; a line above [`MAX_LINE`] comes back in pieces of
//! at most the cap, cut on character boundaries, that join up to the line;
//! and a Docker timestamp prefix is split off, with its nanoseconds, and
//! nothing else.

use crate::chunks::{bytes_rich_in, cuts, split};
use crate::json::text;
use docker_agent::docker::lines::{LineSplitter, MAX_LINE};
use docker_agent::docker::resume::split_stamp;
use proptest::prelude::*;

/// The lines a reader gets from `chunks`, and whether a line was left open
/// before the flush.
fn lines(chunks: &[&[u8]]) -> (Vec<String>, bool) {
    let mut splitter = LineSplitter::new();
    let mut out = Vec::new();
    for chunk in chunks {
        splitter.push(chunk, &mut out);
    }
    let open = splitter.has_partial();
    out.extend(splitter.flush());
    (out, open)
}

/// The module's rules applied to the whole input at once.
fn expected(bytes: &[u8]) -> (Vec<String>, bool) {
    let finish = |line: &[u8]| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        String::from_utf8_lossy(line).into_owned()
    };
    let mut parts: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let tail = parts.pop().unwrap_or_default();
    let mut out: Vec<String> = parts.into_iter().map(finish).collect();
    if !tail.is_empty() {
        out.push(finish(tail));
    }
    (out, !tail.is_empty())
}

/// Bytes of text with line breaks, multi-byte characters and invalid UTF-8.
fn log_bytes() -> impl Strategy<Value = Vec<u8>> {
    let text = text().prop_map(String::into_bytes);
    prop_oneof![
        bytes_rich_in(b"\n\n\r\xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80\xff", 400),
        text
    ]
}

/// `unit` repeated, then topped up with `a`, to exactly `len` bytes.
fn long_line(unit: &str, len: usize) -> String {
    let mut line = unit.repeat(len / unit.len());
    line.push_str(&"a".repeat(len - line.len()));
    line
}

/// Line lengths around the cap, exactly the cap most often.
fn around_the_cap() -> impl Strategy<Value = usize> {
    prop_oneof![
        Just(MAX_LINE),
        (MAX_LINE - 4)..=(MAX_LINE + 4),
        (MAX_LINE - 4)..=(MAX_LINE + 64),
    ]
}

/// Docker's RFC3339Nano: a fraction of up to nine digits, `Z` or an offset.
fn timestamp() -> impl Strategy<Value = String> {
    // Docker stamps are after 1970; nanoseconds in a u64 reach to 2554.
    let date = (1970u32..=2500, 1u32..=12, 1u32..=28);
    let time = (0u32..24, 0u32..60, 0u32..=60);
    let fraction = prop_oneof![Just(String::new()), "\\.[0-9]{1,9}"];
    let zone = prop_oneof![
        Just("Z".to_string()),
        "[+-](0[0-9]|1[0-9]|2[0-3]):[0-5][0-9]"
    ];
    (date, time, fraction, zone).prop_map(|((y, mo, d), (h, mi, s), fraction, zone)| {
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{fraction}{zone}")
    })
}

proptest! {
    #[test]
    fn lines_come_back_whatever_the_chunking(bytes in log_bytes(), cuts in cuts()) {
        prop_assert_eq!(lines(&split(&bytes, &cuts)), expected(&bytes));
    }

    #[test]
    fn lines_above_the_cap_come_back_in_pieces_of_at_most_the_cap(
        before in "[^\n]{0,8}",
        unit in "[^\n\r]{1,4}",
        len in around_the_cap(),
        crlf in any::<bool>(),
        after in "[^\n\r]{0,8}",
        cuts in cuts(),
    ) {
        let long = long_line(&unit, len);
        let end = if crlf { "\r\n" } else { "\n" };
        let input = format!("{before}\n{long}{end}{after}");
        let (out, _) = lines(&split(input.as_bytes(), &cuts));
        let (first, more) = out.split_first().unwrap();
        prop_assert_eq!(first, &expected(before.as_bytes()).0.concat());
        let pieces = if after.is_empty() { more } else {
            prop_assert_eq!(more.last(), Some(&after));
            &more[..more.len() - 1]
        };
        prop_assert_eq!(pieces.concat(), long.as_str());
        prop_assert!(pieces.iter().all(|p| p.len() <= MAX_LINE), "no piece above the cap");
        let (last, full) = pieces.split_last().unwrap();
        prop_assert!(full.iter().all(|p| p.len() + 3 >= MAX_LINE), "cut at the last boundary");
        prop_assert!(!last.is_empty() || long.is_empty(), "no empty piece");
        if long.len() <= MAX_LINE {
            prop_assert_eq!(pieces.len(), 1, "a line within the cap comes back whole");
        }
    }

    #[test]
    fn docker_timestamps_are_split_off_with_their_nanoseconds(ts in timestamp(), rest in log_bytes()) {
        let chunk = [ts.as_bytes(), b" ", &rest].concat();
        let (stamp, nanos, after) = split_stamp(&chunk).expect("a stamp");
        prop_assert_eq!(stamp, ts.as_str());
        prop_assert_eq!(after, &rest[..]);
        let secs = docker_agent::clock::parse_rfc3339(&ts).unwrap() as u64;
        let frac: String = ts.split_once('.').map_or(String::new(), |(_, f)| {
            f.chars().take_while(char::is_ascii_digit).collect()
        });
        let frac: u64 = format!("{frac:0<9}").parse().unwrap();
        prop_assert_eq!(nanos, secs * 1_000_000_000 + frac);
    }

    #[test]
    fn splitting_removes_at_most_a_first_word(chunk in log_bytes()) {
        if let Some((stamp, _, rest)) = split_stamp(&chunk) {
            prop_assert!(chunk.ends_with(rest));
            let removed = &chunk[..chunk.len() - rest.len()];
            prop_assert!(removed.len() <= 40);
            prop_assert_eq!(removed.iter().position(|&b| b == b' '), Some(removed.len() - 1));
            prop_assert_eq!(&removed[..removed.len() - 1], stamp.as_bytes());
        }
    }
}
