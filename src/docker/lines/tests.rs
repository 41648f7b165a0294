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
