//! Where settings come from: the process environment and a `.env` file
//! (environment wins), looked up case-insensitively, with typed getters that
//! turn a bad value into an error naming the variable and the fix; and the
//! small text files some settings name (secrets, the tokens file).

use super::ConfigError;
use std::collections::HashMap;
use std::str::FromStr;

/// Raw settings, keys upper-cased. Empty values count as unset.
#[derive(Debug, Default, Clone)]
pub struct Vars {
    map: HashMap<String, String>,
}

impl Vars {
    /// Builds from pairs; later pairs override earlier ones, except that an
    /// empty value is no value (so `API_PASSWORD=` in the environment, as an
    /// unset variable interpolated by compose gives, keeps the `.env` one).
    pub fn from_pairs<K: AsRef<str>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Vars {
        let mut map = HashMap::new();
        for (k, v) in pairs {
            let v = v.into();
            if !v.is_empty() {
                map.insert(k.as_ref().to_ascii_uppercase(), v);
            }
        }
        Vars { map }
    }

    /// `.env` in the working directory, then the process environment on top
    /// (variables that are not UTF-8 are none of ours and are skipped).
    pub fn from_process() -> Vars {
        let file = std::fs::read_to_string(".env").unwrap_or_default();
        let mut pairs = parse_dotenv(&file);
        pairs.extend(
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
        );
        Vars::from_pairs(pairs)
    }

    /// The same settings with `key` set to `value` (a command-line option over
    /// `.env` and the environment).
    pub fn with(mut self, key: &str, value: &str) -> Vars {
        self.map.insert(key.to_ascii_uppercase(), value.to_string());
        self
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    pub fn string(&self, key: &str, default: &str) -> String {
        self.get(key).unwrap_or(default).to_string()
    }

    /// A boolean, spelled as pydantic accepts it (true/false, 1/0, yes/no, on/off, t/f, y/n).
    pub fn bool(&self, key: &'static str, default: bool) -> Result<bool, ConfigError> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        match v.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" | "t" | "y" => Ok(true),
            "false" | "0" | "no" | "off" | "f" | "n" => Ok(false),
            _ => Err(ConfigError::new(
                key,
                format!("{v:?} is not a boolean; use true or false"),
            )),
        }
    }

    /// An integer within `min..=max`.
    pub fn number<T>(&self, key: &'static str, default: T, min: T, max: T) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        match v.trim().parse::<T>() {
            Ok(n) if n >= min && n <= max => Ok(n),
            _ => Err(ConfigError::new(
                key,
                format!("{v:?} is not a whole number between {min} and {max}"),
            )),
        }
    }

    /// A list: a JSON array of strings, or comma-separated values.
    pub fn list(&self, key: &'static str, default: &[&str]) -> Result<Vec<String>, ConfigError> {
        let Some(v) = self.get(key) else {
            return Ok(default.iter().map(|s| s.to_string()).collect());
        };
        if v.trim_start().starts_with('[') {
            return serde_json::from_str(v)
                .map_err(|_| ConfigError::new(key, "is not a JSON array of strings".into()));
        }
        Ok(v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect())
    }
}

/// Parses `.env` text: `KEY=value` lines, optional `export `, `#` comments,
/// single quotes (literal), double quotes (`\n`, `\"`, `\\` escapes), and
/// ` # comment` after unquoted values. Malformed lines are skipped.
pub fn parse_dotenv(text: &str) -> Vec<(String, String)> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<(String, String)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let line = line.strip_prefix("export ").unwrap_or(line);
    let (key, raw) = line.split_once('=')?;
    let key = key.trim();
    if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    Some((key.to_string(), parse_value(raw.trim())?))
}

fn parse_value(raw: &str) -> Option<String> {
    if let Some(rest) = raw.strip_prefix('\'') {
        return rest.find('\'').map(|end| rest[..end].to_string());
    }
    if let Some(rest) = raw.strip_prefix('"') {
        return unescape_double_quoted(rest);
    }
    let value = match raw.find(" #") {
        Some(i) => &raw[..i],
        None => raw,
    };
    Some(value.trim_end().to_string())
}

fn unescape_double_quoted(rest: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotenv_syntax() {
        let text = "# comment\n\nA=1\nexport B = two \nC='lit # eral'\nD=\"x\\ny \\\"q\\\"\"\nE=val # trailing\nbad line\n=nokey\nF=\nG=\"unterminated\n";
        let got = parse_dotenv(text);
        let want = [
            ("A", "1"),
            ("B", "two"),
            ("C", "lit # eral"),
            ("D", "x\ny \"q\""),
            ("E", "val"),
            ("F", ""),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn later_sources_win_and_keys_are_case_insensitive() {
        let vars = Vars::from_pairs([
            ("port", "1"),
            ("PORT", "2"),
            ("EMPTY", "x"),
            ("empty", ""),
            ("NONE", ""),
        ]);
        assert_eq!(vars.get("PORT"), Some("2"));
        assert_eq!(
            vars.get("EMPTY"),
            Some("x"),
            "an empty later value keeps the earlier one"
        );
        assert_eq!(vars.get("NONE"), None);
    }

    #[test]
    fn typed_getters_name_the_variable_on_error() {
        let vars = Vars::from_pairs([
            ("DEBUG", "maybe"),
            ("PORT", "70000"),
            ("L", "[\"a\",\"b\"]"),
            ("M", " a, ,b "),
        ]);
        assert!(
            vars.bool("DEBUG", false)
                .unwrap_err()
                .to_string()
                .contains("DEBUG")
        );
        assert!(
            vars.number::<u32>("PORT", 9000, 0, 65535)
                .unwrap_err()
                .to_string()
                .contains("PORT")
        );
        assert_eq!(vars.list("L", &[]).unwrap(), ["a", "b"]);
        assert_eq!(vars.list("M", &[]).unwrap(), ["a", "b"]);
        assert_eq!(vars.list("NONE", &["*"]).unwrap(), ["*"]);
        assert!(Vars::from_pairs([("X", "yep")]).bool("X", true).is_err());
        assert!(
            Vars::from_pairs([("X", "off")])
                .bool("X", true)
                .is_ok_and(|b| !b)
        );
    }
}
