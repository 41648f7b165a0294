//! The container list's filters, as Docker's own (`label`, `name`,
//! `status`): checked here, then sent to Docker as its `filters` JSON, so
//! Docker does the matching and the scope still applies on top.

use crate::error::{Error, FieldError};
use std::collections::BTreeMap;

/// The states Docker's `status` filter takes.
pub const STATUSES: [&str; 7] = [
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
];
/// Most values one filter may have, and most characters in one.
const MAX_VALUES: usize = 32;
const MAX_LEN: usize = 256;

/// Filters by name (`label`, `name`, `status`) to their values.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ContainerFilters(BTreeMap<&'static str, Vec<String>>);

impl ContainerFilters {
    /// Checks and keeps the values given for each filter: `label` as `key`
    /// or `key=value`, `name` a substring Docker matches, `status` one of
    /// [`STATUSES`]. Every problem is reported at once (422).
    pub fn new(label: Vec<String>, name: Vec<String>, status: Vec<String>) -> Result<Self, Error> {
        let mut errors = Vec::new();
        let mut map = BTreeMap::new();
        for (key, values) in [("label", label), ("name", name), ("status", status)] {
            if let Some(e) = problem(key, &values) {
                errors.push(e);
            } else if !values.is_empty() {
                map.insert(key, values);
            }
        }
        if errors.is_empty() {
            Ok(ContainerFilters(map))
        } else {
            Err(Error::Validation(errors))
        }
    }

    /// Docker's `filters` JSON, `None` when no filter is set.
    pub fn docker_json(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| serde_json::to_string(&self.0).unwrap_or_default())
    }
}

fn problem(key: &str, values: &[String]) -> Option<FieldError> {
    if values.len() > MAX_VALUES || values.iter().any(|v| v.is_empty() || v.len() > MAX_LEN) {
        let msg = "At most 32 values, each of 1 to 256 characters";
        return Some(FieldError::query(key, "too_long", msg));
    }
    if key == "label" && values.iter().any(|v| v.starts_with('=')) {
        return Some(FieldError::query(
            key,
            "value_error",
            "Input should be key or key=value",
        ));
    }
    if key == "status" && values.iter().any(|v| !STATUSES.contains(&v.as_str())) {
        let msg = format!("Input should be one of {}", STATUSES.join(", "));
        return Some(FieldError::query(key, "enum", msg));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn filters_become_dockers_json() {
        let f = ContainerFilters::new(
            strings(&["app=web", "tier"]),
            strings(&["web"]),
            strings(&["running", "paused"]),
        )
        .unwrap();
        assert_eq!(
            f.docker_json().unwrap(),
            r#"{"label":["app=web","tier"],"name":["web"],"status":["running","paused"]}"#
        );
        assert_eq!(ContainerFilters::default().docker_json(), None);
    }

    #[test]
    fn bad_values_are_each_reported() {
        let Err(Error::Validation(errs)) =
            ContainerFilters::new(strings(&["=x"]), strings(&[""]), strings(&["up"]))
        else {
            panic!("expected 422")
        };
        let kinds: Vec<_> = errs.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["value_error", "too_long", "enum"]);
        let many = vec!["a".to_string(); 33];
        assert!(ContainerFilters::new(many, vec![], vec![]).is_err());
    }
}
