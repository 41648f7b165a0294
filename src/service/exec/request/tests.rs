use super::*;
use crate::error::Error;
use serde_json::json;

fn read(v: Value) -> Result<ExecRequest, Error> {
    let mut input = Input::body(Vec::new(), v.as_object().unwrap());
    let request = ExecRequest::read(&mut input);
    input.finish().map(|()| request)
}

fn problems(v: Value) -> Vec<(&'static str, Value)> {
    match read(v) {
        Err(Error::Validation(found)) => found
            .into_iter()
            .map(|e| (e.kind, e.loc[1].clone()))
            .collect(),
        other => panic!("expected 422, got {other:?}"),
    }
}

#[test]
fn a_full_request_is_read() {
    let r = read(
        json!({"cmd": ["/bin/echo", "hi"], "env": {"A": "1", "B": "x=y"},
            "workdir": "/tmp", "user": "nobody", "timeout": 5}),
    )
    .unwrap();
    assert_eq!(r.cmd, ["/bin/echo", "hi"]);
    assert_eq!(r.env, ["A=1", "B=x=y"]);
    assert_eq!(
        (r.workdir.as_deref(), r.user.as_deref()),
        (Some("/tmp"), Some("nobody"))
    );
    assert_eq!(r.timeout, Duration::from_secs(5));
    let plain = read(json!({"cmd": ["ls"]})).unwrap();
    assert_eq!(plain.timeout, Duration::from_secs(DEFAULT_TIMEOUT));
    assert!(plain.env.is_empty() && plain.workdir.is_none() && plain.user.is_none());
}

#[test]
fn every_bad_field_is_reported() {
    assert_eq!(problems(json!({})), [("missing", json!("cmd"))]);
    assert_eq!(
        problems(json!({"cmd": "ls -l"})),
        [("list_type", json!("cmd"))]
    );
    assert_eq!(problems(json!({"cmd": []})), [("too_short", json!("cmd"))]);
    assert_eq!(
        problems(json!({"cmd": [""]})),
        [("too_short", json!("cmd"))]
    );
    assert_eq!(
        problems(json!({"cmd": ["ls", 1]})),
        [("string_type", json!("cmd"))]
    );
    assert_eq!(
        problems(json!({"cmd": ["ls\u{0}"]})),
        [("string_type", json!("cmd"))]
    );
    let all = problems(
        json!({"cmd": ["ls"], "env": ["A=1"], "workdir": "tmp", "user": "",
            "timeout": 601, "privileged": true}),
    );
    assert_eq!(
        all,
        [
            ("extra_forbidden", json!("privileged")),
            ("dict_type", json!("env")),
            ("value_error", json!("workdir")),
            ("value_error", json!("user")),
            ("int_range", json!("timeout")),
        ]
    );
    for env in [
        json!({"A=B": "1"}),
        json!({"": "1"}),
        json!({"A": 1}),
        json!({"A": "\u{0}"}),
    ] {
        assert_eq!(
            problems(json!({"cmd": ["ls"], "env": env})),
            [("value_error", json!("env"))]
        );
    }
    for t in [json!(0), json!(1.5), json!("5"), json!(-1)] {
        assert_eq!(
            problems(json!({"cmd": ["ls"], "timeout": t})),
            [("int_range", json!("timeout"))]
        );
    }
}

#[test]
fn a_tool_s_own_arguments_are_not_extra() {
    let args = json!({"container_id": "web", "cmd": ["ls"]});
    let mut input = Input::arguments(args.as_object().unwrap());
    assert_eq!(input.container(), "web");
    let r = ExecRequest::read(&mut input);
    assert_eq!(r.cmd, ["ls"]);
    assert!(input.finish().is_ok());
    let extra = json!({"container_id": "web", "cmd": ["ls"], "privileged": true});
    let mut input = Input::arguments(extra.as_object().unwrap());
    input.container();
    ExecRequest::read(&mut input);
    assert!(input.finish().is_err(), "every tool argument is the body's");
}
