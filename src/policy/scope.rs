//! Which containers the agent shows: `SCOPE_LABEL`, `SCOPE_NAMES` and
//! `EXCLUDE_LABEL`, and how an event is placed in or out of scope.
//!
//! A container is in scope when it matches `SCOPE_LABEL` **or** one of the
//! `SCOPE_NAMES` globs (either set alone chooses alone; neither set chooses
//! every container), and it does not match `EXCLUDE_LABEL` (the opt-out
//! wins). A label rule `key=value` matches a container carrying the label
//! with exactly that value; `key` alone matches one carrying the label at
//! all. Globs match the name without its leading `/`: `*` any run of
//! characters, `?` exactly one.

use serde_json::Value;
use std::collections::BTreeMap;

/// Where a container's labels are read from (inspect, list, event attributes).
pub trait Labels {
    fn label(&self, key: &str) -> Option<&str>;
}

impl Labels for BTreeMap<String, String> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl Labels for serde_json::Map<String, Value> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }
}

/// No labels at all.
impl Labels for () {
    fn label(&self, _: &str) -> Option<&str> {
        None
    }
}

/// `key=value` or `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRule {
    key: String,
    value: Option<String>,
}

impl LabelRule {
    pub fn parse(s: &str) -> Result<LabelRule, String> {
        let (key, value) = match s.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim().to_string())),
            None => (s.trim(), None),
        };
        if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "{s:?} is not a label rule; write key=value (the label with that value) or key (the label present)"
            ));
        }
        Ok(LabelRule {
            key: key.to_string(),
            value,
        })
    }

    /// The label that satisfies the rule: `key` and its value (empty for `key` alone).
    pub fn pair(&self) -> (String, String) {
        (self.key.clone(), self.value.clone().unwrap_or_default())
    }

    pub fn matches(&self, labels: &dyn Labels) -> bool {
        match (labels.label(&self.key), &self.value) {
            (Some(have), Some(want)) => have == want,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

impl std::fmt::Display for LabelRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.value {
            Some(v) => write!(f, "{}={v}", self.key),
            None => f.write_str(&self.key),
        }
    }
}

/// A `SCOPE_NAMES` entry: the characters of a container name plus `*` and `?`.
pub fn check_glob(pattern: &str) -> Result<(), String> {
    let ok = pattern
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'*' | b'?'));
    if ok && !pattern.is_empty() && pattern.len() <= 255 {
        Ok(())
    } else {
        Err(format!(
            "{pattern:?} is not a name pattern: use letters, digits, '_', '.', '-', and '*' or '?' as wildcards"
        ))
    }
}

/// Whether `name` matches `pattern` (`*` any run, `?` one character).
/// Patterns and names are ASCII (see [`check_glob`]); linear backtracking
/// on the last `*`, so no input makes it slow.
pub fn glob(pattern: &str, name: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), name.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == b'?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    star = Some((sp, st + 1));
                    (pi, ti) = (sp + 1, st + 1);
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

/// The scope rules in force.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub label: Option<LabelRule>,
    pub names: Vec<String>,
    pub exclude: Option<LabelRule>,
}

/// Where an event stands with the scope.
#[derive(Debug, PartialEq, Eq)]
pub enum Sight {
    Shown,
    Hidden,
    /// It names a container it does not describe: ask Docker about that one.
    Ask(String),
}

impl Scope {
    /// Whether any rule is set (otherwise every container is in scope).
    pub fn active(&self) -> bool {
        self.label.is_some() || !self.names.is_empty() || self.exclude.is_some()
    }

    /// Whether the container `name` (without `/`) with `labels` is in scope.
    pub fn admits(&self, name: &str, labels: &dyn Labels) -> bool {
        let everything = self.label.is_none() && self.names.is_empty();
        let chosen = everything
            || self.label.as_ref().is_some_and(|l| l.matches(labels))
            || self.names.iter().any(|g| glob(g, name));
        chosen && !self.exclude.as_ref().is_some_and(|e| e.matches(labels))
    }

    /// Whether something named by no container glob (a volume) with
    /// `labels` is in scope: it carries the scope label when one is set,
    /// and never `EXCLUDE_LABEL`.
    pub fn admits_labels(&self, labels: &dyn Labels) -> bool {
        self.label.as_ref().is_none_or(|l| l.matches(labels))
            && !self.exclude.as_ref().is_some_and(|e| e.matches(labels))
    }

    /// Whether an event (Docker's JSON) may be shown. A container event
    /// carries the container's name and labels in `Actor.Attributes`; one
    /// summarised for its size does not, nor do events of other types
    /// (network, volume) that name a container in `Attributes.container`:
    /// those are looked up. Events naming no container (images, daemon,
    /// the agent's own notices) are shown.
    pub fn sight(&self, event: &Value) -> Sight {
        if !self.active() {
            return Sight::Shown;
        }
        let actor = &event["Actor"];
        let attrs = actor["Attributes"].as_object();
        let text = |v: &Value| v.as_str().map(str::to_string);
        if event["Type"] == "container" {
            return match (attrs, attrs.and_then(|a| a.label("name"))) {
                (Some(a), Some(name)) if self.admits(name, a) => Sight::Shown,
                (Some(_), Some(_)) => Sight::Hidden,
                _ => text(&actor["ID"]).map_or(Sight::Hidden, Sight::Ask),
            };
        }
        match attrs
            .and_then(|a| a.get("container"))
            .and_then(Value::as_str)
        {
            Some(id) => Sight::Ask(id.to_string()),
            None => Sight::Shown,
        }
    }
}

#[cfg(test)]
mod tests;
