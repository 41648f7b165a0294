use super::*;

#[test]
fn entries_are_ranked_within_equal_stamps() {
    let mut c = EntryCounter::default();
    let ids: Vec<EntryId> = [5, 5, 6, 6, 6, 5].iter().map(|&n| c.next(n)).collect();
    let ranks: Vec<u32> = ids.iter().map(|i| i.nth).collect();
    assert_eq!(ranks, [1, 2, 1, 2, 3, 1]);
}

#[test]
fn the_skipper_drops_through_the_anchor_then_keeps() {
    let anchor = EntryId {
        nanos: 1_000,
        nth: 2,
    };
    let mut s = Skipper::new(Some(anchor));
    let mut c = EntryCounter::default();
    let got: Vec<Skip> = [900, 1_000, 1_000, 1_000, 1_100]
        .iter()
        .map(|&n| s.check(c.next(n)))
        .collect();
    assert_eq!(
        got,
        [Skip::Drop, Skip::Drop, Skip::Drop, Skip::Keep, Skip::Keep]
    );
}

#[test]
fn a_missing_anchor_is_a_gap_not_a_silent_stall() {
    let mut s = Skipper::new(Some(EntryId {
        nanos: 1_000,
        nth: 1,
    }));
    assert_eq!(
        s.check(EntryId {
            nanos: 1_001,
            nth: 1
        }),
        Skip::Drop
    );
    let far = EntryId {
        nanos: 1_000 + SLACK + 1,
        nth: 1,
    };
    assert_eq!(s.check(far), Skip::Gap);
    assert_eq!(s.check(far), Skip::Keep);
    assert_eq!(Skipper::new(None).check(far), Skip::Keep);
}

#[test]
fn stamps_parse_to_nanoseconds() {
    let (stamp, nanos, rest) = split_stamp(b"2026-11-24T16:27:32.078684928Z hello").unwrap();
    assert_eq!(stamp, "2026-11-24T16:27:32.078684928Z");
    assert_eq!(nanos % 1_000_000_000, 78_684_928);
    assert_eq!(rest, b"hello");
    assert_eq!(parse_nanos("1970-01-01T00:00:01.5Z"), Some(1_500_000_000));
    assert_eq!(parse_nanos("1970-01-01T00:00:02Z"), Some(2_000_000_000));
    assert_eq!(split_stamp(b"no stamp here"), None);
    assert_eq!(split_stamp(b""), None);
    assert_eq!(parse_nanos("1970-01-01T00:00:01.1234567891Z"), None);
}

#[test]
fn since_is_seconds_dot_nanoseconds_before_the_anchor() {
    assert_eq!(since_nanos(1_500_000_007), "1.500000007");
    let anchor = EntryId {
        nanos: 2_000_000_000,
        nth: 1,
    };
    assert_eq!(since_for(anchor), "1.900000000");
}
