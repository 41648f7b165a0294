//! Query strings: percent-decoding, and the parameters as given (the last
//! of a repeated name, or all of them). Reading them as typed fields, with
//! their limits and FastAPI's 422 problems, is [`crate::input`]'s.

/// Decodes `%XX` (and `+` as space when `plus` is set); invalid UTF-8 is replaced.
pub fn percent_decode(s: &str, plus: bool) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = match bytes.get(i..i + 3) {
            Some([b'%', h, l]) => hex(*h).zip(hex(*l)).map(|(h, l)| (h * 16 + l) as u8),
            _ => None,
        };
        match (escaped, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
                continue;
            }
            (None, b'+') if plus => out.push(b' '),
            (None, b) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parsed query parameters; for repeated names the last one wins (as in FastAPI).
#[derive(Debug, Default)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Query {
        let pairs = raw
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (percent_decode(k, true), percent_decode(v, true))
            })
            .collect();
        Query { pairs }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The names given, in order (repeated names as often as given).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.pairs.iter().map(|(k, _)| k.as_str())
    }

    /// Every value given for `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// `s` as Unix seconds (possibly fractional), from Unix seconds or RFC 3339.
pub fn unix_time(s: &str) -> Option<String> {
    let s = s.trim();
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let numeric = match s.split_once('.') {
        Some((whole, frac)) => digits(whole) && digits(frac),
        None => digits(s),
    };
    if numeric {
        return Some(s.to_string());
    }
    crate::clock::parse_rfc3339(s)
        .filter(|t| *t >= 0)
        .map(|t| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_and_plus() {
        assert_eq!(percent_decode("a%20b+c", true), "a b c");
        assert_eq!(percent_decode("a+b", false), "a+b");
        assert_eq!(percent_decode("%2F%2f", false), "//");
        assert_eq!(percent_decode("100%", false), "100%");
        assert_eq!(percent_decode("%zz%4", false), "%zz%4");
        assert_eq!(percent_decode("%ff", false), "\u{fffd}");
    }

    #[test]
    fn repeated_names_keep_every_value_and_the_last_wins() {
        let q = Query::parse(Some("tail=5&all=false&x&tail=7"));
        assert_eq!(q.get("tail"), Some("7"));
        assert_eq!(q.all("tail"), ["5", "7"]);
        assert_eq!(q.get("x"), Some(""));
        let names: Vec<&str> = q.names().collect();
        assert_eq!(names, ["tail", "all", "x", "tail"]);
    }

    #[test]
    fn times_are_unix_seconds_or_rfc_3339() {
        assert_eq!(unix_time("1704067200.5").as_deref(), Some("1704067200.5"));
        assert_eq!(
            unix_time("2024-01-01T00:00:00Z").as_deref(),
            Some("1704067200")
        );
        for bad in [".", "1.", ".5", "yesterday", "-5"] {
            assert_eq!(unix_time(bad), None, "{bad}");
        }
    }
}
