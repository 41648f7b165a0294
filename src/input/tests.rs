use super::*;

const TAIL: Range = Range {
    default: 100,
    min: 1,
    max: 10_000,
};

fn object(json: Value) -> Map<String, Value> {
    json.as_object().cloned().unwrap()
}

/// `(loc, type, msg)` of each problem `read` finds.
fn problems(
    input: Input<'_>,
    read: impl FnOnce(&mut Input<'_>),
) -> Vec<(Value, &'static str, String)> {
    let mut input = input;
    read(&mut input);
    match input.finish() {
        Ok(()) => Vec::new(),
        Err(Error::Validation(found)) => found
            .into_iter()
            .map(|p| (Value::Array(p.loc), p.kind, p.msg))
            .collect(),
        Err(other) => panic!("not a validation error: {other:?}"),
    }
}

#[test]
fn one_problem_reads_the_same_from_a_query_a_body_and_arguments() {
    let query = Query::parse(Some("tail=20000"));
    let body = object(json!({"tail": 20000}));
    let read = |i: &mut Input<'_>| {
        i.int("tail", TAIL);
    };
    let msg = "Input should be less than or equal to 10000".to_string();
    assert_eq!(
        problems(Input::query(Vec::new(), &query), read),
        vec![(json!(["query", "tail"]), "less_than_equal", msg.clone())]
    );
    assert_eq!(
        problems(Input::body(Vec::new(), &body), read),
        vec![(json!(["body", "tail"]), "less_than_equal", msg.clone())]
    );
    assert_eq!(
        problems(Input::arguments(&body), read),
        vec![(json!(["arguments", "tail"]), "less_than_equal", msg)]
    );
}

#[test]
fn text_is_parsed_json_is_taken_by_type_and_absence_is_the_default() {
    let query = Query::parse(Some("tail=20&all=yes"));
    let mut input = Input::query(Vec::new(), &query);
    assert_eq!(input.int("tail", TAIL), 20);
    assert!(input.bool("all", false));
    assert!(input.finish().is_ok());

    let body = object(json!({"tail": "20", "all": "yes"}));
    let wrong = problems(Input::body(Vec::new(), &body), |i| {
        assert_eq!(i.int("tail", TAIL), TAIL.default);
        i.bool("all", false);
    });
    let kinds: Vec<&str> = wrong.iter().map(|p| p.1).collect();
    assert_eq!(
        kinds,
        ["int_parsing", "bool_parsing"],
        "a JSON string is not a number"
    );

    let none = object(json!({}));
    let mut input = Input::arguments(&none);
    assert_eq!(input.int("tail", TAIL), 100);
    assert!(!input.bool("all", false));
    assert!(input.finish().is_ok());
}

#[test]
fn a_field_nobody_reads_is_refused_first_except_among_loose_arguments() {
    let query = Query::parse(Some("tail=0&bogus=1"));
    let found = problems(Input::query(Vec::new(), &query), |i| {
        i.int("tail", TAIL);
    });
    assert_eq!(found[0].0, json!(["query", "bogus"]));
    assert_eq!(found[0].1, "extra_forbidden");
    assert_eq!(found[0].2, "Unknown query parameter: this route takes tail");
    assert_eq!(found[1].1, "greater_than_equal");

    let args = object(json!({"bogus": 1}));
    assert!(problems(Input::arguments(&args), |_| {}).is_empty());
    let strict = problems(Input::arguments(&args), |i| i.strict());
    assert_eq!(
        strict,
        vec![(
            json!(["arguments", "bogus"]),
            "extra_forbidden",
            "Extra inputs are not permitted".to_string()
        )]
    );
    assert_eq!(
        no_query(Some("x=1")).unwrap_err().message(),
        "\"x\": Unknown query parameter: this route takes none"
    );
}
