//! The one reader of an operation's inputs, wherever they come from: a
//! REST route's path and query string, a JSON body, or an MCP tool's
//! arguments. Every operation reads its fields by name through it, with
//! their limits and defaults written once (in the operation's file), and
//! every problem is collected in one vocabulary: FastAPI's `{type, loc,
//! msg}` ([`FieldError`]), `loc` naming where the field was (`path`,
//! `query`, `body`, `arguments`). REST answers the list as its 422; MCP
//! and the WebSocket streams say the same text ([`Error::message`]) as a
//! tool error or a 1008 close.
//!
//! A query string gives text, which is parsed (`tail=10`, `all=false`); a
//! body or arguments give JSON, taken by type (`"tail": 10`). A field the
//! operation does not read is refused (`extra_forbidden`), except among MCP
//! arguments where a tool's schema allows others ([`Input::finish`]).

use crate::error::{Error, FieldError};
use crate::http::query::{Query, unix_time};
use serde_json::{Map, Value, json};

/// Where fields come from, as a 422's `loc` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Query,
    Body,
    Arguments,
}

impl Place {
    /// As a 422's `loc` starts.
    pub fn name(self) -> &'static str {
        match self {
            Place::Query => "query",
            Place::Body => "body",
            Place::Arguments => "arguments",
        }
    }
}

/// An integer field's limits and default.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub default: i64,
    pub min: i64,
    pub max: i64,
}

/// A field as given: text from a query string, JSON from a body.
enum Given<'a> {
    Text(&'a str),
    Json(&'a Value),
}

enum Source<'a> {
    Query(&'a Query),
    Object(&'a Map<String, Value>),
    Nothing,
}

/// The inputs of one call (see the module doc).
pub struct Input<'a> {
    place: Place,
    source: Source<'a>,
    /// The route's path parameters: `(name, value)`.
    path: Vec<(&'static str, String)>,
    /// What `loc` starts with below the place (a nested object's names).
    prefix: Vec<String>,
    read: Vec<String>,
    problems: Vec<FieldError>,
    /// Whether fields nobody reads are refused among MCP arguments too.
    strict: bool,
    /// Why a field nobody reads is refused, when the operation says more
    /// than the default.
    extra: Option<fn(&str) -> String>,
}

/// 422 for any parameter in `query`, on a route that takes none.
pub fn no_query(query: Option<&str>) -> Result<(), Error> {
    Input::query(Vec::new(), &Query::parse(query)).finish()
}

impl<'a> Input<'a> {
    /// A REST route's inputs: its path parameters and query string.
    pub fn query(path: Vec<(&'static str, String)>, query: &'a Query) -> Input<'a> {
        Input::new(Place::Query, Source::Query(query), path)
    }

    /// A JSON body's fields (with the route's path parameters).
    pub fn body(path: Vec<(&'static str, String)>, body: &'a Map<String, Value>) -> Input<'a> {
        Input::new(Place::Body, Source::Object(body), path)
    }

    /// An MCP tool's arguments.
    pub fn arguments(args: &'a Map<String, Value>) -> Input<'a> {
        Input::new(Place::Arguments, Source::Object(args), Vec::new())
    }

    /// No fields at all (an operation a surface runs on its own).
    pub fn none() -> Input<'static> {
        Input::new(Place::Query, Source::Nothing, Vec::new())
    }

    fn new(place: Place, source: Source<'a>, path: Vec<(&'static str, String)>) -> Input<'a> {
        Input {
            place,
            source,
            path,
            prefix: Vec::new(),
            read: Vec::new(),
            problems: Vec::new(),
            strict: false,
            extra: None,
        }
    }

    /// Where the fields come from.
    pub fn place(&self) -> Place {
        self.place
    }

    /// Refuses MCP arguments nobody reads too (a tool whose arguments are a
    /// REST body's).
    pub fn strict(&mut self) {
        self.strict = true;
    }

    /// Says why a field nobody reads is refused (the fields there are).
    pub fn explain_extra(&mut self, why: fn(&str) -> String) {
        self.extra = Some(why);
    }

    /// Takes `name` as read without reading it (a stream's `token`, which
    /// the surface reads itself).
    pub fn ignore(&mut self, name: &str) {
        self.given(name);
    }

    /// The container a call names: the route's `{id}`, or the argument
    /// `container_id`.
    pub fn container(&mut self) -> String {
        self.target("id", "container_id", "a container id, id prefix or name.")
    }

    /// The object `name` holds, to be read field by field, its problems
    /// located under `name`; `None` when absent or null. Anything else is
    /// refused with `msg`. Give it back with [`Input::absorb`].
    pub fn nested(&mut self, name: &str, msg: &str) -> Option<Input<'a>> {
        let inner = match self.given(name)? {
            Given::Json(Value::Object(m)) => m,
            _ => {
                self.fail(name, "model_attributes_type", msg);
                return None;
            }
        };
        let mut prefix = self.prefix.clone();
        prefix.push(name.to_string());
        Some(Input {
            prefix,
            strict: true,
            ..Input::new(self.place, Source::Object(inner), Vec::new())
        })
    }

    /// Takes back a nested input: its problems, and its unread fields refused.
    pub fn absorb(&mut self, nested: Input<'a>) {
        let mut nested = nested;
        nested.refuse_unread();
        self.problems.append(&mut nested.problems);
    }

    /// Records a problem with `name`.
    pub fn fail(&mut self, name: &str, kind: &'static str, msg: impl Into<String>) {
        let mut loc = vec![json!(self.place.name())];
        loc.extend(self.prefix.iter().map(|p| json!(p)));
        loc.push(json!(name));
        self.problems.push(FieldError::new(loc, kind, msg));
    }

    fn given(&mut self, name: &str) -> Option<Given<'a>> {
        if !self.read.iter().any(|r| r == name) {
            self.read.push(name.to_string());
        }
        match self.source {
            Source::Query(q) => q.get(name).map(Given::Text),
            Source::Object(m) => m.get(name).filter(|v| !v.is_null()).map(Given::Json),
            Source::Nothing => None,
        }
    }

    /// Whether `name` was given at all.
    pub fn has(&mut self, name: &str) -> bool {
        self.given(name).is_some()
    }

    /// The JSON of `name` in a body or arguments, for a field read its own
    /// way (`None` when absent or null, and from a query string).
    pub fn value(&mut self, name: &str) -> Option<&'a Value> {
        match self.given(name)? {
            Given::Json(v) => Some(v),
            Given::Text(_) => None,
        }
    }

    /// A path parameter of the route, or on MCP the argument `arg`: what
    /// names a container (`id` / `container_id`) or an image.
    pub fn target(&mut self, param: &str, arg: &'static str, what: &str) -> String {
        if let Some((_, v)) = self.path.iter().find(|(n, _)| *n == param) {
            return v.clone();
        }
        match self.given(arg) {
            Some(Given::Json(Value::String(s))) if !s.is_empty() => s.clone(),
            Some(Given::Text(s)) if !s.is_empty() => s.to_string(),
            None => {
                self.fail(
                    arg,
                    "missing",
                    format!("Missing required argument '{arg}' (string): {what}"),
                );
                String::new()
            }
            Some(other) => {
                let shown = match other {
                    Given::Json(v) => v.to_string(),
                    Given::Text(t) => format!("{t:?}"),
                };
                let msg = format!("Argument '{arg}' must be a non-empty string, not {shown}");
                self.fail(arg, "string_type", msg);
                String::new()
            }
        }
    }

    /// An integer within `range`, its default when absent.
    pub fn int(&mut self, name: &str, range: Range) -> i64 {
        let n = match self.given(name) {
            None => return range.default,
            Some(Given::Text(t)) => t.trim().parse::<i64>().ok(),
            Some(Given::Json(v)) => v
                .as_i64()
                .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        };
        let Some(n) = n else {
            self.fail(
                name,
                "int_parsing",
                "Input should be a valid integer, unable to parse string as an integer",
            );
            return range.default;
        };
        if n < range.min {
            let msg = format!("Input should be greater than or equal to {}", range.min);
            self.fail(name, "greater_than_equal", msg);
        } else if n > range.max {
            let msg = format!("Input should be less than or equal to {}", range.max);
            self.fail(name, "less_than_equal", msg);
        }
        n.clamp(range.min, range.max)
    }

    /// A boolean: JSON `true`/`false`, or as pydantic spells one in a
    /// query string (`true`, `1`, `yes`, `on`, …).
    pub fn bool(&mut self, name: &str, default: bool) -> bool {
        let b = match self.given(name) {
            None => return default,
            Some(Given::Json(v)) => v.as_bool(),
            Some(Given::Text(t)) => match t.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" | "t" | "y" => Some(true),
                "false" | "0" | "no" | "off" | "f" | "n" => Some(false),
                _ => None,
            },
        };
        b.unwrap_or_else(|| {
            self.fail(
                name,
                "bool_parsing",
                "Input should be a valid boolean, unable to interpret input",
            );
            default
        })
    }

    /// A string, at most `max` bytes (JSON: a string only).
    pub fn string(&mut self, name: &str, max: usize) -> Option<String> {
        let s = match self.given(name)? {
            Given::Text(t) => t.to_string(),
            Given::Json(Value::String(s)) => s.clone(),
            Given::Json(_) => {
                self.fail(name, "string_type", "Input should be a valid string");
                return None;
            }
        };
        if s.len() > max {
            let msg = format!("String should have at most {max} characters");
            self.fail(name, "string_too_long", msg);
            return None;
        }
        Some(s)
    }

    /// A string (a number is taken as its text: a signal, a time).
    pub fn text(&mut self, name: &str) -> Option<String> {
        match self.given(name)? {
            Given::Text(t) => Some(t.to_string()),
            Given::Json(Value::String(s)) => Some(s.clone()),
            Given::Json(Value::Number(n)) => Some(n.to_string()),
            Given::Json(_) => {
                self.fail(name, "string_type", "Input should be a valid string");
                None
            }
        }
    }

    /// Every value of `name`: repeated in a query string, or a string or an
    /// array of strings in JSON.
    pub fn texts(&mut self, name: &str) -> Vec<String> {
        if let Source::Query(q) = self.source {
            self.given(name);
            return q.all(name).into_iter().map(str::to_string).collect();
        }
        match self.given(name) {
            None => Vec::new(),
            Some(Given::Text(t)) => vec![t.to_string()],
            Some(Given::Json(Value::String(s))) => vec![s.clone()],
            Some(Given::Json(Value::Array(items))) => {
                let texts: Option<Vec<String>> = items
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect();
                texts.unwrap_or_else(|| {
                    self.fail(name, "string_type", "Every item should be a valid string");
                    Vec::new()
                })
            }
            Some(Given::Json(_)) => {
                let msg = "Input should be a string or an array of strings";
                self.fail(name, "list_type", msg);
                Vec::new()
            }
        }
    }

    /// A time as Docker takes it: Unix seconds (possibly fractional) or
    /// RFC 3339, given as Unix seconds.
    pub fn time(&mut self, name: &str) -> Option<String> {
        let raw = self.text(name)?;
        let time = unix_time(&raw);
        if time.is_none() {
            let msg = "Input should be Unix seconds or an RFC 3339 timestamp";
            self.fail(name, "datetime_parsing", msg);
        }
        time
    }

    /// One of `choices` (compared without case), `default` when absent.
    pub fn choice(
        &mut self,
        name: &str,
        choices: &[&'static str],
        default: &'static str,
    ) -> &'static str {
        let Some(given) = self.text(name) else {
            return default;
        };
        let given = given.trim().to_ascii_lowercase();
        choices
            .iter()
            .find(|c| **c == given)
            .copied()
            .unwrap_or_else(|| {
                let quoted: Vec<String> = choices.iter().map(|c| format!("'{c}'")).collect();
                let (last, rest) = quoted
                    .split_last()
                    .map_or(("", &[][..]), |(l, r)| (l.as_str(), r));
                let msg = match rest {
                    [] => format!("Input should be {last}"),
                    _ => format!("Input should be {} or {last}", rest.join(", ")),
                };
                self.fail(name, "enum", msg);
                default
            })
    }

    /// Every problem found, or `Ok` when there is none. A field nobody
    /// read is refused (first), except among MCP arguments unless
    /// [`Input::strict`].
    pub fn finish(mut self) -> Result<(), Error> {
        if self.place != Place::Arguments || self.strict {
            self.refuse_unread();
        }
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.problems))
        }
    }

    /// Refuses every field nobody read, ahead of the other problems.
    fn refuse_unread(&mut self) {
        let found = std::mem::take(&mut self.problems);
        for name in self.unread() {
            let msg = match (self.place, self.extra) {
                (Place::Query, _) => self.unknown_query(),
                (_, Some(why)) => why(&name),
                (_, None) => "Extra inputs are not permitted".to_string(),
            };
            self.fail(&name, "extra_forbidden", msg);
        }
        self.problems.extend(found);
    }

    fn unread(&self) -> Vec<String> {
        let mut names: Vec<String> = match self.source {
            Source::Query(q) => q.names().map(str::to_string).collect(),
            Source::Object(m) => m.keys().cloned().collect(),
            Source::Nothing => Vec::new(),
        };
        names.retain(|n| !self.read.contains(n));
        let mut unique: Vec<String> = Vec::new();
        for n in names {
            if !unique.contains(&n) {
                unique.push(n);
            }
        }
        unique
    }

    fn unknown_query(&self) -> String {
        let mut taken: Vec<&str> = self.read.iter().map(String::as_str).collect();
        taken.dedup();
        if taken.is_empty() {
            "Unknown query parameter: this route takes none".to_string()
        } else {
            format!(
                "Unknown query parameter: this route takes {}",
                taken.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests;
