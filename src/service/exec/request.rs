//! A command to run, read from a REST body or an MCP tool's arguments
//! through the one input reader ([`Input`]) — the same names on both:
//! `cmd` (required, a non-empty array of strings), `env` (an object of
//! strings), `workdir` (an absolute path), `user` and `timeout` (seconds, 1
//! to [`MAX_TIMEOUT`], default [`DEFAULT_TIMEOUT`]). Every bad field is
//! reported at once; a field outside that set is refused, so nothing
//! unexpected reaches Docker.

use crate::input::Input;
use serde_json::Value;
use std::time::Duration;

/// Seconds a command may run when the request does not say.
pub const DEFAULT_TIMEOUT: u64 = 30;
/// Most seconds a command may be given.
pub const MAX_TIMEOUT: u64 = 600;

#[derive(Debug, Clone, PartialEq)]
pub struct ExecRequest {
    /// The argv, run as is (no shell).
    pub cmd: Vec<String>,
    /// `KEY=value` entries.
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub timeout: Duration,
}

impl ExecRequest {
    /// Reads the request's fields from `input`, its problems left there
    /// (and every other field refused, MCP arguments included).
    pub fn read(input: &mut Input) -> ExecRequest {
        input.strict();
        ExecRequest {
            cmd: cmd(input),
            env: env(input),
            workdir: text(input, "workdir"),
            user: text(input, "user"),
            timeout: timeout(input),
        }
    }
}

fn cmd(input: &mut Input) -> Vec<String> {
    let list = match input.value("cmd") {
        None => {
            input.fail("cmd", "missing", "Field required");
            return Vec::new();
        }
        Some(Value::Array(list)) => list,
        Some(_) => {
            input.fail("cmd", "list_type", "Input should be a valid array");
            return Vec::new();
        }
    };
    let argv: Vec<String> = list
        .iter()
        .filter_map(|a| a.as_str().filter(|a| !a.contains('\0')))
        .map(str::to_string)
        .collect();
    if argv.len() != list.len() {
        let msg = "Every item should be a string without NUL";
        input.fail("cmd", "string_type", msg);
    } else if argv.first().is_none_or(String::is_empty) {
        let msg = "The command (the first item) should not be empty";
        input.fail("cmd", "too_short", msg);
    }
    argv
}

fn env(input: &mut Input) -> Vec<String> {
    let vars = match input.value("env") {
        None => return Vec::new(),
        Some(Value::Object(vars)) => vars,
        Some(_) => {
            input.fail("env", "dict_type", "Input should be an object of strings");
            return Vec::new();
        }
    };
    let entries: Vec<String> = vars
        .iter()
        .filter(|(k, _)| !k.is_empty() && !k.contains(['=', '\0']))
        .filter_map(|(k, v)| Some(format!("{k}={}", v.as_str()?)))
        .filter(|e| !e.contains('\0'))
        .collect();
    if entries.len() != vars.len() {
        input.fail(
            "env",
            "value_error",
            "Names should be non-empty without '=' and values strings, neither holding NUL",
        );
    }
    entries
}

/// An optional string field: `workdir` must be an absolute path.
fn text(input: &mut Input, field: &str) -> Option<String> {
    let s = match input.value(field)? {
        Value::String(s) => s,
        _ => {
            input.fail(field, "string_type", "Input should be a valid string");
            return None;
        }
    };
    let absolute = field != "workdir" || s.starts_with('/');
    if s.is_empty() || s.contains('\0') || !absolute {
        let what = if field == "workdir" {
            "an absolute path"
        } else {
            "a non-empty string"
        };
        input.fail(field, "value_error", format!("Input should be {what}"));
        return None;
    }
    Some(s.clone())
}

fn timeout(input: &mut Input) -> Duration {
    let secs = match input.value("timeout") {
        None => Some(DEFAULT_TIMEOUT),
        Some(v) => v.as_u64().filter(|s| (1..=MAX_TIMEOUT).contains(s)),
    };
    Duration::from_secs(secs.unwrap_or_else(|| {
        let msg = format!("Input should be an integer from 1 to {MAX_TIMEOUT} (seconds)");
        input.fail("timeout", "int_range", msg);
        DEFAULT_TIMEOUT
    }))
}

#[cfg(test)]
mod tests {
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
}
