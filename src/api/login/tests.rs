use super::*;

fn kinds(body: &str) -> Vec<(&'static str, Vec<Value>)> {
    match credentials(body.as_bytes()) {
        Err(Error::Validation(errs)) => errs.into_iter().map(|e| (e.kind, e.loc)).collect(),
        other => panic!("expected 422, got {other:?}"),
    }
}

#[test]
fn valid_body_yields_credentials() {
    let (u, p) = credentials(br#"{"username":"admin","password":"pw","extra":1}"#).unwrap();
    assert_eq!((u.as_str(), p.as_str()), ("admin", "pw"));
}

#[test]
fn every_bad_field_is_reported() {
    assert_eq!(kinds(""), [("missing", vec![json!("body")])]);
    assert_eq!(
        kinds("{nope"),
        [("json_invalid", vec![json!("body"), json!(2)])]
    );
    assert_eq!(
        kinds("[1]"),
        [("model_attributes_type", vec![json!("body")])]
    );
    assert_eq!(
        kinds(r#"{"password": 5}"#),
        [
            ("missing", vec![json!("body"), json!("username")]),
            ("string_type", vec![json!("body"), json!("password")])
        ]
    );
    let long = "é".repeat(101);
    assert_eq!(
        kinds(&format!(r#"{{"username":"","password":"{long}"}}"#)),
        [
            ("string_too_short", vec![json!("body"), json!("username")]),
            ("string_too_long", vec![json!("body"), json!("password")])
        ]
    );
}

#[test]
fn limits_count_characters_not_bytes() {
    let hundred = "é".repeat(100);
    assert!(
        credentials(format!(r#"{{"username":"a","password":"{hundred}"}}"#).as_bytes()).is_ok()
    );
}
