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
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn globs_match_whole_names() {
        let yes = [
            ("web", "web"),
            ("web-*", "web-1"),
            ("web-*", "web-"),
            ("*", ""),
            ("*", "anything"),
            ("w?b", "wib"),
            ("*-db-*", "shop-db-primary"),
            ("a*b*c", "aXXbYYc"),
            ("a*b*c", "abcbc"),
            ("**x", "x"),
            ("*?", "a"),
        ];
        for (p, n) in yes {
            assert!(glob(p, n), "{p} ~ {n}");
        }
        let no = [
            ("web", "web1"),
            ("web", "we"),
            ("web-*", "my-web-1"),
            ("w?b", "wb"),
            ("a*b*c", "aXXbYY"),
            ("?", ""),
            ("*?", ""),
            ("db", "DB"),
        ];
        for (p, n) in no {
            assert!(!glob(p, n), "{p} !~ {n}");
        }
        let long = "a".repeat(255);
        assert!(!glob("*a*a*a*a*a*a*a*a*b", &long), "fails fast");
    }

    #[test]
    fn glob_patterns_are_checked() {
        for ok in ["web-*", "?", "a.b_c-*"] {
            assert!(check_glob(ok).is_ok(), "{ok}");
        }
        for bad in ["", "web/*", "a b", "[ab]", "é", &"a".repeat(256)] {
            assert!(check_glob(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn label_rules_match_a_value_or_presence() {
        let with = labels(&[("agent.expose", "true"), ("tier", "web")]);
        let rule = LabelRule::parse("agent.expose=true").unwrap();
        assert!(rule.matches(&with));
        assert!(!rule.matches(&labels(&[("agent.expose", "false")])));
        assert!(!rule.matches(&labels(&[])));
        let present = LabelRule::parse("tier").unwrap();
        assert!(present.matches(&with) && !present.matches(&()));
        let empty_value = LabelRule::parse("flag=").unwrap();
        assert!(empty_value.matches(&labels(&[("flag", "")])));
        assert!(!empty_value.matches(&labels(&[("flag", "x")])));
        assert_eq!(rule.to_string(), "agent.expose=true");
        assert_eq!(present.to_string(), "tier");
        for bad in ["", "=x", " =x", "a b=c"] {
            assert!(LabelRule::parse(bad).is_err(), "{bad:?}");
        }
    }

    fn scope(label: Option<&str>, names: &[&str], exclude: Option<&str>) -> Scope {
        Scope {
            label: label.map(|l| LabelRule::parse(l).unwrap()),
            names: names.iter().map(|n| n.to_string()).collect(),
            exclude: exclude.map(|l| LabelRule::parse(l).unwrap()),
        }
    }

    #[test]
    fn scope_rules_label_or_names_and_the_opt_out_wins() {
        let exposed = labels(&[("expose", "yes")]);
        let opted_out = labels(&[("expose", "yes"), ("private", "1")]);
        let none = labels(&[]);

        let all = Scope::default();
        assert!(!all.active());
        assert!(all.admits("anything", &none));

        let by_label = scope(Some("expose=yes"), &[], None);
        assert!(by_label.admits("x", &exposed) && !by_label.admits("x", &none));

        let by_name = scope(None, &["web-*", "db"], None);
        assert!(by_name.admits("web-1", &none) && by_name.admits("db", &none));
        assert!(!by_name.admits("cache", &exposed));

        let either = scope(Some("expose=yes"), &["web-*"], None);
        assert!(either.admits("cache", &exposed), "the label alone");
        assert!(either.admits("web-1", &none), "the name alone");
        assert!(!either.admits("cache", &none));

        let excluding = scope(Some("expose=yes"), &["web-*"], Some("private"));
        assert!(!excluding.admits("web-1", &opted_out), "opt-out wins");
        let only_exclude = scope(None, &[], Some("private=1"));
        assert!(only_exclude.active());
        assert!(only_exclude.admits("x", &none) && !only_exclude.admits("x", &opted_out));
    }

    #[test]
    fn events_are_placed_by_their_attributes() {
        let s = scope(Some("expose=yes"), &[], None);
        let container = |name: &str, expose: &str| json!({"Type": "container", "Action": "start", "Actor": {"ID": "abc", "Attributes": {"name": name, "expose": expose, "image": "x"}}});
        assert_eq!(s.sight(&container("web", "yes")), Sight::Shown);
        assert_eq!(s.sight(&container("web", "no")), Sight::Hidden);
        let truncated = json!({"Type": "container", "Actor": {"ID": "abc", "Attributes": {"docker-agent.truncated": "event of 9 bytes"}}});
        assert_eq!(s.sight(&truncated), Sight::Ask("abc".into()));
        let network = json!({"Type": "network", "Action": "connect", "Actor": {"ID": "net", "Attributes": {"container": "abc", "name": "bridge"}}});
        assert_eq!(s.sight(&network), Sight::Ask("abc".into()));
        let image = json!({"Type": "image", "Action": "pull", "Actor": {"ID": "img", "Attributes": {"name": "x"}}});
        assert_eq!(s.sight(&image), Sight::Shown);
        assert_eq!(s.sight(&json!({"Type": "container"})), Sight::Hidden);
        assert_eq!(
            Scope::default().sight(&container("web", "no")),
            Sight::Shown,
            "no scope, no filtering"
        );
    }
}
