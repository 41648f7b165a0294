use super::*;

const INPUT: &str = concat!(
    r#"{"status":"start","id":"abc","Actor":{"Attributes":{"name":"web {1}","x":"a\"b\\"}}}"#,
    "\n",
    r#"{"read":"2024","nested":[[1,2],{"k":"]"}],"s":"}{"}"#,
    "\r\n  ",
    r#"[{"a":1}]"#,
    "\n"
);

fn expected() -> Vec<String> {
    vec![
        r#"{"status":"start","id":"abc","Actor":{"Attributes":{"name":"web {1}","x":"a\"b\\"}}}"#
            .into(),
        r#"{"read":"2024","nested":[[1,2],{"k":"]"}],"s":"}{"}"#.into(),
        r#"[{"a":1}]"#.into(),
    ]
}

fn split(input: &[u8], cuts: &[usize]) -> Result<Vec<String>, JsonStreamError> {
    let mut s = JsonSplitter::new();
    let mut out = Vec::new();
    let mut last = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        s.push(&input[last..cut]);
        last = cut;
        while let Some(v) = s.next_value()? {
            let Value::Whole(v) = v else {
                panic!("small values are kept whole")
            };
            out.push(String::from_utf8(v).unwrap());
        }
    }
    s.finish()?;
    Ok(out)
}

#[test]
fn splits_whole_input() {
    assert_eq!(split(INPUT.as_bytes(), &[]).unwrap(), expected());
}

#[test]
fn splits_input_cut_at_every_byte_offset() {
    let bytes = INPUT.as_bytes();
    for a in 0..=bytes.len() {
        assert_eq!(split(bytes, &[a]).unwrap(), expected(), "cut at {a}");
    }
    for a in (0..=bytes.len()).step_by(3) {
        for b in a..=bytes.len() {
            assert_eq!(
                split(bytes, &[a, b]).unwrap(),
                expected(),
                "cuts at {a},{b}"
            );
        }
    }
}

#[test]
fn splits_input_fed_byte_by_byte() {
    let cuts: Vec<usize> = (1..INPUT.len()).collect();
    assert_eq!(split(INPUT.as_bytes(), &cuts).unwrap(), expected());
}

#[test]
fn every_value_parses_as_json() {
    for v in split(INPUT.as_bytes(), &[]).unwrap() {
        serde_json::from_str::<serde_json::Value>(&v).unwrap();
    }
}

#[test]
fn garbage_between_values_is_an_error() {
    assert_eq!(
        split(b"{\"a\":1} x {}", &[]),
        Err(JsonStreamError::Unexpected(b'x'))
    );
    assert_eq!(split(b"}", &[]), Err(JsonStreamError::Unexpected(b'}')));
    assert_eq!(
        split(b"HTTP/1.1 500", &[]),
        Err(JsonStreamError::Unexpected(b'H'))
    );
}

#[test]
fn truncated_value_is_reported_at_end() {
    assert_eq!(split(b"{\"a\":[1,2", &[]), Err(JsonStreamError::Truncated));
    assert_eq!(split(b"{\"a\":\"}", &[]), Err(JsonStreamError::Truncated));
}

#[test]
fn a_huge_value_is_outlined_and_the_stream_goes_on() {
    let mut s = JsonSplitter::new();
    let (head, end) = (
        &b"{\"Type\":\"container\",\"a\":\""[..],
        &b"\",\"timeNano\":42}"[..],
    );
    s.push(head);
    let chunk = vec![b'x'; 64 * 1024];
    let mut got = Vec::new();
    for _ in 0..40 {
        s.push(&chunk);
        got.extend(s.next_value().unwrap());
        assert!(s.buf.len() <= MAX_VALUE + chunk.len(), "bounded buffering");
    }
    assert!(got.is_empty());
    s.push(end);
    s.push(b"\n{\"next\":1}");
    let Some(Value::Oversized(outline)) = s.next_value().unwrap() else {
        panic!("expected an outline")
    };
    assert!(outline.head.starts_with(b"{\"Type\":\"container\""));
    assert!(outline.tail.ends_with(b"\"timeNano\":42}"));
    assert_eq!(outline.head.len(), OUTLINE_BYTES);
    assert_eq!(outline.tail.len(), OUTLINE_BYTES);
    assert_eq!(outline.size, head.len() + 40 * chunk.len() + end.len());
    assert_eq!(
        s.next_value().unwrap(),
        Some(Value::Whole(b"{\"next\":1}".to_vec()))
    );
    s.finish().unwrap();
}
