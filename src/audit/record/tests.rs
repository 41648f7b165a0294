use super::*;
use std::time::Duration;

fn ctx() -> Context {
    Context::new(
        "req-1".into(),
        "203.0.113.9".parse().unwrap(),
        Instant::now() - Duration::from_millis(12),
    )
}

fn record(surface: Surface, action: Action, subject: Subject) -> Record {
    Record::new(Some(&ctx()), surface, action, subject)
}

/// Each present field's name and value as text.
fn texts(r: &Record) -> Vec<(&'static str, String)> {
    r.pairs()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k, v.to_string()))
        .collect()
}

#[test]
fn a_record_names_every_field_and_leaves_empty_ones_out() {
    let r = record(
        Surface::Rest,
        Action::Op("container.stop"),
        Subject::User("admin".into()),
    );
    let ms = r.duration_ms;
    assert!((12.0..1000.0).contains(&ms), "{ms}");
    assert_eq!(
        texts(
            &r.clone()
                .container("4f1c0ffee", Some("web"))
                .image("demo/web:1.0")
        ),
        [
            ("request_id", "req-1".into()),
            ("subject", "user:admin".into()),
            ("client", "203.0.113.9".into()),
            ("surface", "rest".into()),
            ("action", "container.stop".into()),
            ("container_id", "4f1c0ffee".into()),
            ("container_name", "web".into()),
            ("image", "demo/web:1.0".into()),
            ("result", "ok".into()),
            ("duration_ms", ms.to_string()),
        ]
    );
    let names: Vec<&str> = texts(&r).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        names,
        [
            "request_id",
            "subject",
            "client",
            "surface",
            "action",
            "result",
            "duration_ms"
        ]
    );
}

#[test]
fn the_vocabulary_is_spelled_as_documented() {
    let surfaces = [Surface::Rest, Surface::Ws, Surface::Mcp].map(Surface::name);
    assert_eq!(surfaces, ["rest", "ws", "mcp"]);
    let actions = [
        Action::Login,
        Action::Token,
        Action::StreamOpen,
        Action::McpAuth,
        Action::Op("container.start"),
    ]
    .map(Action::name);
    assert_eq!(
        actions,
        [
            "login",
            "auth.token",
            "stream.open",
            "mcp.auth",
            "container.start"
        ]
    );
    let subjects = [
        Subject::User("ops".into()),
        Subject::Token("ci-bot".into()),
        Subject::Mcp,
        Subject::Anonymous,
    ]
    .map(|s| s.to_string());
    assert_eq!(subjects, ["user:ops", "token:ci-bot", "mcp", "anonymous"]);
    let outcomes = [
        Outcome::Ok,
        Outcome::Denied,
        Outcome::Refused,
        Outcome::Failed,
    ]
    .map(Outcome::name);
    assert_eq!(outcomes, ["ok", "denied", "refused", "failed"]);
}

#[test]
fn errors_become_outcomes_with_their_message() {
    let cases = [
        (
            Error::Unauthorized("Invalid or expired token"),
            Outcome::Denied,
        ),
        (Error::Forbidden("Origin not allowed"), Outcome::Denied),
        (Error::TooManyRequests { retry_after: 3 }, Outcome::Refused),
        (
            Error::Conflict("is the agent itself".into()),
            Outcome::Refused,
        ),
        (Error::DockerUnavailable, Outcome::Failed),
    ];
    for (e, want) in cases {
        let r = record(Surface::Mcp, Action::McpAuth, Subject::Anonymous);
        let r = r.outcome(&Err::<(), _>(e.clone()));
        assert_eq!(r.result, want, "{e:?}");
        assert_eq!(r.reason, Some(e.message()), "{e:?}");
    }
    let ok = record(Surface::Ws, Action::StreamOpen, Subject::Mcp);
    let ok = ok.outcome(&Ok::<(), Error>(()));
    assert_eq!((ok.result, ok.reason), (Outcome::Ok, None));
}

#[test]
fn an_exec_record_holds_the_whole_command_and_its_exit_code() {
    let argv: Vec<String> = ["sh", "-c", "echo \"a b\"; exit 3"]
        .map(String::from)
        .into();
    let r = record(Surface::Ws, Action::Op("container.exec"), Subject::Mcp)
        .command(&argv)
        .exit_code(Some(3));
    let fields = texts(&r);
    assert!(fields.contains(&("action", "container.exec".into())));
    assert!(fields.contains(&("command", r#"["sh","-c","echo \"a b\"; exit 3"]"#.into())));
    assert!(fields.contains(&("exit_code", "3".into())));
    let long = vec!["x".repeat(10 * MAX_COMMAND)];
    let clipped = record(Surface::Rest, Action::Op("container.exec"), Subject::Mcp).command(&long);
    assert_eq!(clipped.command.unwrap().chars().count(), MAX_COMMAND + 1);
    let timed_out =
        record(Surface::Rest, Action::Op("container.exec"), Subject::Mcp).failed("timed out");
    assert_eq!(
        (timed_out.result, timed_out.exit_code),
        (Outcome::Failed, None)
    );
}

#[test]
fn a_confirmed_request_names_the_answer_and_who_gave_it() {
    let answer = Confirmation {
        answer: "accepted",
        by: "elicitation:claude".into(),
    };
    let r = Record::new(
        Some(&ctx().confirmed(answer)),
        Surface::Mcp,
        Action::Op("container.stop"),
        Subject::Mcp,
    );
    let fields = texts(&r);
    assert!(
        fields.contains(&("confirmation", "accepted".into())),
        "{fields:?}"
    );
    assert!(fields.contains(&("confirmed_by", "elicitation:claude".into())));
}

#[test]
fn outside_the_pipeline_the_request_is_unknown() {
    let r = Record::new(None, Surface::Rest, Action::Login, Subject::Anonymous);
    assert_eq!((r.request_id.as_str(), r.duration_ms), ("", 0.0));
    assert_eq!(r.client, IpAddr::from(Ipv4Addr::UNSPECIFIED));
}

#[test]
fn client_text_is_clipped() {
    let long = "é".repeat(1000);
    let r = record(Surface::Rest, Action::Login, Subject::User(long.clone()))
        .container(&long, Some(&long));
    for (name, text) in texts(&r) {
        assert!(text.chars().count() <= MAX_TEXT + 6, "{name}: {text}");
    }
}
