use super::*;
use serde_json::Value;
use std::time::{Duration, Instant};

fn json(record: &Record) -> (String, Value) {
    let text = with_entry(record, line);
    let value = serde_json::from_str(&text).unwrap();
    (text, value)
}

#[test]
fn a_record_is_one_compact_json_line() {
    let ctx = Context::new(
        "req-1".into(),
        "2001:db8::7".parse().unwrap(),
        Instant::now() - Duration::from_millis(3),
    );
    let r = Record::new(
        Some(&ctx),
        Surface::Ws,
        Action::StreamOpen,
        Subject::Anonymous,
    )
    .refusal(&Error::Forbidden("Origin not allowed"));
    let (text, v) = json(&r);
    assert!(text.starts_with(r#"{"time":""#), "{text}");
    assert_eq!(text.find('\n'), Some(text.len() - 1), "{text}");
    let fields = v.as_object().unwrap();
    let names: Vec<&str> = fields.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "action",
            "client",
            "duration_ms",
            "level",
            "message",
            "reason",
            "request_id",
            "result",
            "subject",
            "surface",
            "target",
            "time"
        ]
    );
    assert_eq!(v["target"], "audit");
    assert_eq!(v["level"], "INFO");
    assert_eq!(v["request_id"], "req-1");
    assert_eq!(v["client"], "2001:db8::7");
    assert_eq!(v["surface"], "ws");
    assert_eq!(v["action"], "stream.open");
    assert_eq!(v["result"], "denied");
    assert_eq!(v["reason"], "Origin not allowed");
    assert!(v["duration_ms"].as_f64().unwrap() >= 3.0, "{v}");
    let time = v["time"].as_str().unwrap();
    assert!(crate::clock::parse_rfc3339(time).is_some(), "{time}");
}

#[test]
fn client_text_cannot_forge_a_second_line() {
    let forged = "web\n{\"action\":\"login\",\"result\":\"ok\"}\r\u{2028}\"}";
    let subject = Subject::User(forged.into());
    let r = Record::new(
        None,
        Surface::Rest,
        Action::Op("container.restart"),
        subject,
    )
    .container(forged, Some(forged));
    let (text, v) = json(&r);
    assert!(!text.trim_end().contains(['\n', '\r']), "{text}");
    assert_eq!(v["container_name"], forged);
    assert_eq!(v["container_id"], forged);
    assert_eq!(v["subject"], format!("user:{forged}"));
}
