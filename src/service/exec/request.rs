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
mod tests;
