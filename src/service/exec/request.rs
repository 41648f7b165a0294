//! A command to run, read from a REST body or an MCP tool's arguments —
//! the same names on both: `cmd` (required, a non-empty array of strings),
//! `env` (an object of strings), `workdir` (an absolute path), `user` and
//! `timeout` (seconds, 1 to [`MAX_TIMEOUT`], default [`DEFAULT_TIMEOUT`]).
//! Every bad field is reported at once in FastAPI's 422 shape; a field
//! outside that set is refused, so nothing unexpected reaches Docker.

use crate::error::{Error, FieldError};
use serde_json::{Map, Value, json};
use std::time::Duration;

/// Seconds a command may run when the request does not say.
pub const DEFAULT_TIMEOUT: u64 = 30;
/// Most seconds a command may be given.
pub const MAX_TIMEOUT: u64 = 600;

const FIELDS: [&str; 5] = ["cmd", "env", "workdir", "user", "timeout"];

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

/// The problems found so far, each at `[where, field]`.
struct Problems<'a> {
    place: &'a str,
    found: Vec<FieldError>,
}

impl Problems<'_> {
    fn add(&mut self, field: &str, kind: &'static str, msg: &str) {
        let loc = vec![json!(self.place), json!(field)];
        self.found.push(FieldError::new(loc, kind, msg));
    }
}

impl ExecRequest {
    /// Reads the fields of `object` (a body, or a tool's arguments where
    /// `theirs` names the other arguments); `place` is where errors say
    /// the fields are (`body`, `arguments`).
    pub fn read(object: &Map<String, Value>, place: &str, theirs: &[&str]) -> Result<Self, Error> {
        let mut p = Problems {
            place,
            found: Vec::new(),
        };
        for name in object.keys() {
            if !FIELDS.contains(&name.as_str()) && !theirs.contains(&name.as_str()) {
                p.add(name, "extra_forbidden", "Extra inputs are not permitted");
            }
        }
        let request = ExecRequest {
            cmd: cmd(object.get("cmd"), &mut p),
            env: env(object.get("env"), &mut p),
            workdir: text(object, "workdir", &mut p),
            user: text(object, "user", &mut p),
            timeout: timeout(object.get("timeout"), &mut p),
        };
        if p.found.is_empty() {
            Ok(request)
        } else {
            Err(Error::Validation(p.found))
        }
    }
}

fn cmd(value: Option<&Value>, p: &mut Problems) -> Vec<String> {
    let list = match value {
        None | Some(Value::Null) => return missing(p, "cmd"),
        Some(Value::Array(list)) => list,
        Some(_) => {
            p.add("cmd", "list_type", "Input should be a valid array");
            return Vec::new();
        }
    };
    let argv: Vec<String> = list
        .iter()
        .filter_map(|a| a.as_str().filter(|a| !a.contains('\0')))
        .map(str::to_string)
        .collect();
    if argv.len() != list.len() {
        p.add(
            "cmd",
            "string_type",
            "Every item should be a string without NUL",
        );
    } else if argv.first().is_none_or(String::is_empty) {
        p.add(
            "cmd",
            "too_short",
            "The command (the first item) should not be empty",
        );
    }
    argv
}

fn missing(p: &mut Problems, field: &str) -> Vec<String> {
    p.add(field, "missing", "Field required");
    Vec::new()
}

fn env(value: Option<&Value>, p: &mut Problems) -> Vec<String> {
    let vars = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Object(vars)) => vars,
        Some(_) => {
            p.add("env", "dict_type", "Input should be an object of strings");
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
        p.add(
            "env",
            "value_error",
            "Names should be non-empty without '=' and values strings, neither holding NUL",
        );
    }
    entries
}

/// An optional string field: `workdir` must be an absolute path.
fn text(object: &Map<String, Value>, field: &str, p: &mut Problems) -> Option<String> {
    let s = match object.get(field) {
        None | Some(Value::Null) => return None,
        Some(Value::String(s)) => s,
        Some(_) => {
            p.add(field, "string_type", "Input should be a valid string");
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
        p.add(field, "value_error", &format!("Input should be {what}"));
        return None;
    }
    Some(s.clone())
}

fn timeout(value: Option<&Value>, p: &mut Problems) -> Duration {
    let secs = match value {
        None | Some(Value::Null) => Some(DEFAULT_TIMEOUT),
        Some(v) => v.as_u64().filter(|s| (1..=MAX_TIMEOUT).contains(s)),
    };
    Duration::from_secs(secs.unwrap_or_else(|| {
        let msg = format!("Input should be an integer from 1 to {MAX_TIMEOUT} (seconds)");
        p.add("timeout", "int_range", &msg);
        DEFAULT_TIMEOUT
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(v: Value) -> Result<ExecRequest, Error> {
        ExecRequest::read(v.as_object().unwrap(), "body", &[])
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
        let r = ExecRequest::read(args.as_object().unwrap(), "arguments", &["container_id"]);
        assert_eq!(r.unwrap().cmd, ["ls"]);
    }
}
