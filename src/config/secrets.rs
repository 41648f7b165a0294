//! The secrets (`SECRET_KEY`, `API_PASSWORD`, `MCP_API_KEY`, `METRICS_TOKEN`): where
//! they come from and what makes one too weak to start with.
//!
//! Each may be given inline or, for Docker and Kubernetes secrets, as a file
//! named by `<NAME>_FILE` (never both); the file's trailing newline is not
//! part of the secret. A known placeholder or a low-entropy value — fewer
//! than [`MIN_DISTINCT`] different characters, or one shorter string
//! repeated — stops the start. Errors name the variable, never the value.

use super::{ConfigError, Vars};

/// Fewest different characters a secret may use.
pub const MIN_DISTINCT: usize = 6;
/// Largest secret file read (a secret is short; anything bigger is a mistake).
const MAX_FILE: u64 = 4096;

/// Placeholders from the v1 contract's documentation and common defaults.
const KNOWN_DEFAULTS: &[&str] = &[
    "changeme",
    "change-me",
    "change_me",
    "password",
    "secret",
    "admin",
    "your_secure_password",
    "your-secret-key-at-least-32-characters",
    "your-mcp-api-key-at-least-16-chars",
    "your_mcp_api_key",
];

/// How to make a good secret (hex, so it needs no URL-encoding in a query).
pub const GENERATE_HINT: &str = "generate one with: openssl rand -hex 32";

/// A secret variable and its `_FILE` twin.
#[derive(Clone, Copy)]
pub struct SecretVar {
    pub name: &'static str,
    pub file: &'static str,
    /// Random bytes generated when neither is set.
    pub generate: usize,
}

/// The secret's value from `name` or from the file `name_FILE` points at;
/// `None` when neither is set.
pub fn read(vars: &Vars, var: SecretVar) -> Result<Option<String>, ConfigError> {
    match (vars.get(var.name), vars.get(var.file)) {
        (Some(_), Some(_)) => Err(ConfigError::new(
            var.file,
            format!("set either {} or {}, not both", var.name, var.file),
        )),
        (Some(v), None) => Ok(Some(v.to_string())),
        (None, Some(path)) => read_file(var, path).map(Some),
        (None, None) => Ok(None),
    }
}

fn read_file(var: SecretVar, path: &str) -> Result<String, ConfigError> {
    let fail = |why: String| ConfigError::new(var.file, format!("cannot read {path:?}: {why}"));
    let text = crate::files::read_text(std::path::Path::new(path), MAX_FILE).map_err(fail)?;
    let value = text.trim_end_matches(['\n', '\r']);
    if value.is_empty() {
        return Err(fail("the file is empty".into()));
    }
    Ok(value.to_string())
}

/// Refuses a known placeholder or a low-entropy value, naming `var`.
pub fn check_strength(var: &'static str, value: &str) -> Result<(), ConfigError> {
    let weak = |why: &str| Err(ConfigError::new(var, format!("{why}; {GENERATE_HINT}")));
    if KNOWN_DEFAULTS.iter().any(|d| d.eq_ignore_ascii_case(value)) {
        return weak("is a well-known placeholder");
    }
    let mut distinct: Vec<char> = value.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < MIN_DISTINCT {
        return weak(&format!(
            "is too predictable (fewer than {MIN_DISTINCT} different characters)"
        ));
    }
    if is_repetition(value) {
        return weak("is too predictable (one shorter string repeated)");
    }
    Ok(())
}

/// Whether `s` is some shorter string repeated end to end (`abcabcabc`).
fn is_repetition(s: &str) -> bool {
    let b = s.as_bytes();
    (1..=b.len() / 2).any(|p| b.len() % p == 0 && b.chunks(p).all(|c| c == &b[..p]))
}

#[cfg(test)]
mod tests;
