//! Scoped API tokens: the `API_TOKENS_FILE` format, lookup, and making new
//! ones (`docker-agent token new`).
//!
//! One token a line, `NAME ROLE SHA256HEX [MARKS]`; `#` starts a comment
//! and blank lines are skipped. `MARKS`, comma-separated, restrict the
//! token wherever it is used ([`Marks`]): `mcp` (as the MCP key is:
//! `MCP_READ_ONLY`, `MCP_CONFIRM`, `MCP_REDACT_ENV`), `read-only`,
//! `confirm=destructive|actions`, `redact-env`. The file holds only the SHA-256 of each token: a
//! token is 32 random bytes (`dat_` and 64 hex digits, URL-safe), so unlike
//! a password it cannot be guessed or brute-forced from its hash, and a
//! plain fast hash is enough. A presented token is hashed once and compared
//! with every entry in constant time, whichever matches.

use super::Role;
use super::caller::{Confirm, Restrictions};
use crate::auth::secret::same_digest;
use sha2::{Digest, Sha256};
use std::path::Path;

/// What every generated token starts with, so it is told apart from a JWT.
pub const PREFIX: &str = "dat_";
/// Most tokens a file may list.
pub const MAX_TOKENS: usize = 1000;
/// Largest tokens file read.
const MAX_FILE: u64 = 256 * 1024;
/// Longest token name.
pub const MAX_NAME: usize = 64;

/// One line of the file.
#[derive(Clone)]
pub struct TokenLine {
    pub name: String,
    pub role: Role,
    pub marks: Marks,
    hash: [u8; 32],
}

/// What a token's marks keep it from, on every surface.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Marks {
    /// `mcp`: the MCP key's restrictions too.
    pub as_mcp_key: bool,
    /// `read-only`, `confirm=…`, `redact-env`.
    pub own: Restrictions,
}

impl Marks {
    /// Reads `mcp,read-only,confirm=actions,redact-env` (any of them).
    pub fn parse(text: &str) -> Result<Marks, String> {
        let mut marks = Marks::default();
        for mark in text.split(',') {
            match mark {
                "mcp" => marks.as_mcp_key = true,
                "read-only" => marks.own.read_only = true,
                "redact-env" => marks.own.redact_env = true,
                _ => match mark.strip_prefix("confirm=").and_then(Confirm::parse) {
                    Some(c) => marks.own.confirm = c,
                    None => {
                        return Err(format!(
                            "mark {mark:?} is not mcp, read-only, redact-env or confirm=destructive|actions|off"
                        ));
                    }
                },
            }
        }
        Ok(marks)
    }

    /// The restrictions of a token with these marks, given the MCP key's.
    pub fn restrictions(self, mcp_key: Restrictions) -> Restrictions {
        match self.as_mcp_key {
            true => self.own.and(mcp_key),
            false => self.own,
        }
    }

    /// The marks as the file spells them (empty for none).
    pub fn spelled(self) -> String {
        let mut out = Vec::new();
        let flags = [
            (self.as_mcp_key, "mcp"),
            (self.own.read_only, "read-only"),
            (self.own.redact_env, "redact-env"),
        ];
        out.extend(
            flags
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, m)| m.to_string()),
        );
        if self.own.confirm != Confirm::Off {
            out.push(format!("confirm={}", self.own.confirm.name()));
        }
        out.join(",")
    }
}

/// The tokens in force. `Debug` shows names and roles, never hashes.
#[derive(Clone, Default)]
pub struct TokenSet {
    entries: Vec<TokenLine>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|e| (&e.name, e.role.name())))
            .finish()
    }
}

/// SHA-256 of a token, as the file stores it.
pub fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Whether a presented credential is meant as a scoped token (not a JWT or an MCP key).
pub fn looks_like(credential: &str) -> bool {
    credential.starts_with(PREFIX)
}

/// A new token: the prefix and 32 random bytes in hex.
pub fn generate() -> String {
    let mut bytes = [0u8; 32];
    crate::random::fill(&mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{PREFIX}{hex}")
}

/// The file line for `token` under `name` with `role`.
pub fn line(name: &str, role: Role, token: &str) -> String {
    marked_line(name, role, token, Marks::default())
}

/// The file line for `token` under `name` with `role` and `marks`.
pub fn marked_line(name: &str, role: Role, token: &str, marks: Marks) -> String {
    let hex: String = digest(token).iter().map(|b| format!("{b:02x}")).collect();
    let marks = marks.spelled();
    let sep = if marks.is_empty() { "" } else { " " };
    format!("{name} {} {hex}{sep}{marks}", role.name())
}

/// A token name: 1 to [`MAX_NAME`] letters, digits, `.`, `_` or `-`.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok && !name.is_empty() && name.len() <= MAX_NAME {
        Ok(())
    } else {
        Err(format!(
            "name {name:?} must be 1 to {MAX_NAME} letters, digits, '.', '_' or '-'"
        ))
    }
}

fn parse_hash(hex: &str) -> Option<[u8; 32]> {
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

impl TokenSet {
    /// Reads and parses the file at `path`; the error names the line.
    pub fn load(path: &Path) -> Result<TokenSet, String> {
        let fail = |why: String| format!("{}: {why}", path.display());
        let text = crate::files::read_text(path, MAX_FILE)
            .map_err(|e| fail(format!("cannot read it: {e}")))?;
        TokenSet::parse(&text).map_err(fail)
    }

    /// Parses the file's text; the error says which line and why.
    pub fn parse(text: &str) -> Result<TokenSet, String> {
        let mut entries: Vec<(usize, TokenLine)> = Vec::new();
        for (n, raw) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
            let content = raw.split('#').next().unwrap_or("");
            let fields: Vec<&str> = content.split_whitespace().collect();
            if fields.is_empty() {
                continue;
            }
            let entry = parse_line(&fields).map_err(|why| format!("line {n}: {why}"))?;
            if let Some((first, _)) = entries.iter().find(|(_, e)| e.name == entry.name) {
                return Err(format!(
                    "line {n}: the name {:?} is already used on line {first}",
                    entry.name
                ));
            }
            if let Some((first, e)) = entries.iter().find(|(_, e)| e.hash == entry.hash) {
                return Err(format!(
                    "line {n}: the same token as {:?} on line {first}; generate a new one",
                    e.name
                ));
            }
            if entries.len() == MAX_TOKENS {
                return Err(format!("line {n}: more than {MAX_TOKENS} tokens"));
            }
            entries.push((n, entry));
        }
        Ok(TokenSet {
            entries: entries.into_iter().map(|(_, e)| e).collect(),
        })
    }

    /// The entry whose token is `presented`, compared in constant time with
    /// every entry.
    pub fn find(&self, presented: &str) -> Option<&TokenLine> {
        self.holding(&digest(presented))
    }

    /// The entry whose hash is `hash` (constant time over all entries).
    pub fn holding(&self, hash: &[u8; 32]) -> Option<&TokenLine> {
        let mut found = None;
        for e in &self.entries {
            if same_digest(&e.hash, hash) {
                found = Some(e);
            }
        }
        found
    }

    /// The set as bytes two agents with the same file agree on whatever
    /// its order or comments: each token's name, role, marks and hash, sorted.
    pub fn canonical(&self) -> Vec<u8> {
        let mut lines: Vec<String> = self
            .entries
            .iter()
            .map(|e| {
                let hash: String = e.hash.iter().map(|b| format!("{b:02x}")).collect();
                format!(
                    "{} {} {} {hash}\n",
                    e.name,
                    e.role.name(),
                    e.marks.spelled()
                )
            })
            .collect();
        lines.sort();
        lines.concat().into_bytes()
    }

    pub fn entries(&self) -> impl Iterator<Item = &TokenLine> {
        self.entries.iter()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

fn parse_line(fields: &[&str]) -> Result<TokenLine, String> {
    let (name, role, hash, marks) = match fields {
        [name, role, hash] => (name, role, hash, Marks::default()),
        [name, role, hash, marks] => (name, role, hash, Marks::parse(marks)?),
        _ => {
            return Err(format!(
                "expected NAME ROLE SHA256HEX [MARKS], found {} field(s)",
                fields.len()
            ));
        }
    };
    check_name(name)?;
    let role =
        Role::parse(role).ok_or_else(|| format!("role {role:?} is not read, operate or admin"))?;
    let hash = parse_hash(hash).ok_or_else(|| {
        "the hash must be 64 hex digits, the SHA-256 of the token (docker-agent token new prints the line)".to_string()
    })?;
    Ok(TokenLine {
        name: name.to_string(),
        role,
        marks,
        hash,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn a_generated_token_round_trips_through_its_line() {
        let token = generate();
        assert_eq!(token.len(), PREFIX.len() + 64);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        );
        assert!(looks_like(&token));
        let set = TokenSet::parse(&line("ci", Role::Read, &token)).unwrap();
        let e = set.find(&token).expect("the printed line admits the token");
        assert_eq!((e.name.as_str(), e.role), ("ci", Role::Read));
        assert!(set.find(&generate()).is_none());
        assert!(set.find("").is_none());
        assert_ne!(generate(), token);
    }

    #[test]
    fn comments_blank_lines_and_upper_case_hex_are_accepted() {
        let text = format!(
            "# tokens\n\n  ci read {HASH}   # the CI job\nops   operate\t{}\n",
            HASH.to_uppercase().replace('9', "8")
        );
        let set = TokenSet::parse(&text).unwrap();
        let got: Vec<(&str, Role)> = set.entries().map(|e| (e.name.as_str(), e.role)).collect();
        assert_eq!(got, [("ci", Role::Read), ("ops", Role::Operate)]);
        assert_eq!(format!("{set:?}"), r#"{"ci": "read", "ops": "operate"}"#);
        assert!(TokenSet::parse("").unwrap().is_empty());
    }

    #[test]
    fn bad_lines_are_refused_with_their_number() {
        let other = HASH.replace('9', "7");
        let cases = [
            (
                format!("ci read {HASH} mcp extra"),
                "line 1: expected NAME ROLE",
            ),
            (
                format!("ci read {HASH} mcp,sudo"),
                "line 1: mark \"sudo\" is not",
            ),
            (format!("\nci boss {HASH}"), "line 2: role \"boss\""),
            ("ci read abc".to_string(), "line 1: the hash must be 64 hex"),
            (format!("ci read {}", &HASH[..63]), "line 1: the hash"),
            (format!("ci read {}g", &HASH[..63]), "line 1: the hash"),
            (format!("c/i read {HASH}"), "line 1: name \"c/i\""),
            (
                format!("ci read {HASH}\nci admin {other}"),
                "line 2: the name \"ci\" is already used on line 1",
            ),
            (
                format!("ci read {HASH}\n# x\nops admin {HASH}"),
                "line 3: the same token as \"ci\" on line 1",
            ),
        ];
        for (text, want) in cases {
            let err = TokenSet::parse(&text).unwrap_err();
            assert!(err.starts_with(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn the_file_is_bounded() {
        let many: String = (0..=MAX_TOKENS)
            .map(|i| format!("t{i} read {:064x}\n", i + 1))
            .collect();
        let err = TokenSet::parse(&many).unwrap_err();
        assert!(err.contains("more than 1000 tokens"), "{err}");
        let err = TokenSet::load(Path::new("/nonexistent/tokens")).unwrap_err();
        assert!(
            err.starts_with("/nonexistent/tokens: cannot read it"),
            "{err}"
        );
    }

    #[test]
    fn marks_restrict_a_token_as_they_say() {
        let token = generate();
        let marks = Marks::parse("mcp,confirm=destructive").unwrap();
        let set = TokenSet::parse(&marked_line("bot", Role::Admin, &token, marks)).unwrap();
        let e = set.find(&token).unwrap();
        assert_eq!(e.marks, marks);
        let key = Restrictions {
            read_only: true,
            confirm: Confirm::Actions,
            redact_env: false,
        };
        assert_eq!(
            e.marks.restrictions(key),
            key,
            "the MCP key's, and the stricter confirm"
        );
        assert_eq!(Marks::default().restrictions(key), Restrictions::default());
        let own = Marks::parse("read-only,redact-env,confirm=actions").unwrap();
        assert_eq!(
            own.restrictions(Restrictions::default()),
            Restrictions {
                read_only: true,
                confirm: Confirm::Actions,
                redact_env: true
            }
        );
        assert_eq!(own.spelled(), "read-only,redact-env,confirm=actions");
        assert_eq!(Marks::parse(&own.spelled()), Ok(own));
    }

    #[test]
    fn names_are_checked() {
        for ok in ["ci", "assistant.read-only_2", &"n".repeat(MAX_NAME)] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "a b", "é", "x#y", &"n".repeat(MAX_NAME + 1)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
