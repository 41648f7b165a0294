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
