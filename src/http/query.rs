//! Query strings: percent-decoding and typed parameters that report
//! problems in FastAPI's 422 shape (`int_parsing`, `greater_than_equal`,
//! `less_than_equal`, `bool_parsing`, `datetime_parsing`, `enum`,
//! `extra_forbidden` for a parameter the route does not take), collecting
//! every bad field at once.
//!
//! The log parameters are one vocabulary, read by [`Query::log_options`]
//! for `GET /containers/{id}/logs` and the logs stream alike: `tail`
//! (0–[`MAX_TAIL`] or `all`), `since` and `until` (Unix seconds or RFC 3339),
//! `timestamps`, and `stream` (`all` or `both`, `stdout`, `stderr`). Only
//! the default `tail` differs, as the original had it (100 and 50).

use crate::error::{Error, FieldError};
use crate::service::streams::LogOptions;

/// Most log lines `tail` may ask for by number.
pub const MAX_TAIL: u32 = 10_000;

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
    errors: Vec<FieldError>,
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
        Query {
            pairs,
            errors: Vec::new(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value given for `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// An integer in `min..=max`, `default` when absent.
    pub fn int(&mut self, name: &str, default: i64, min: i64, max: i64) -> i64 {
        let Some(raw) = self.get(name) else {
            return default;
        };
        let Ok(n) = raw.trim().parse::<i64>() else {
            self.fail(
                name,
                "int_parsing",
                "Input should be a valid integer, unable to parse string as an integer",
            );
            return default;
        };
        if n < min {
            self.fail(
                name,
                "greater_than_equal",
                format!("Input should be greater than or equal to {min}"),
            );
        } else if n > max {
            self.fail(
                name,
                "less_than_equal",
                format!("Input should be less than or equal to {max}"),
            );
        }
        n.clamp(min, max)
    }

    /// A boolean spelled as pydantic accepts it.
    pub fn bool(&mut self, name: &str, default: bool) -> bool {
        let Some(raw) = self.get(name) else {
            return default;
        };
        match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" | "t" | "y" => true,
            "false" | "0" | "no" | "off" | "f" | "n" => false,
            _ => {
                self.fail(
                    name,
                    "bool_parsing",
                    "Input should be a valid boolean, unable to interpret input",
                );
                default
            }
        }
    }

    /// A time as Docker takes it (`since`, `until`): Unix seconds, possibly
    /// fractional, or RFC 3339 (sent as Unix seconds).
    pub fn time(&mut self, name: &str) -> Option<String> {
        let raw = self.get(name)?;
        let time = unix_time(raw);
        if time.is_none() {
            self.fail(
                name,
                "datetime_parsing",
                "Input should be Unix seconds or an RFC 3339 timestamp",
            );
        }
        time
    }

    /// Which output streams `stream` names: `(stdout, stderr)`; `all` or
    /// `both` (the same) for the two.
    pub fn streams(&mut self) -> (bool, bool) {
        let which = self
            .get("stream")
            .unwrap_or("all")
            .trim()
            .to_ascii_lowercase();
        match which.as_str() {
            "all" | "both" => (true, true),
            "stdout" => (true, false),
            "stderr" => (false, true),
            _ => {
                let names = "'all', 'both', 'stdout' or 'stderr'";
                self.fail("stream", "enum", format!("Input should be {names}"));
                (true, true)
            }
        }
    }

    /// How many lines from the end `tail` asks for: 0 to [`MAX_TAIL`], or
    /// `None` for `all` (any case); `default` when absent.
    pub fn tail(&mut self, default: u32) -> Option<u32> {
        match self.get("tail").map(str::trim) {
            Some(all) if all.eq_ignore_ascii_case("all") => None,
            Some(raw) if raw.parse::<i64>().is_err() => {
                let msg = format!("Input should be an integer from 0 to {MAX_TAIL}, or 'all'");
                self.fail("tail", "int_parsing", msg);
                Some(default)
            }
            _ => Some(self.int("tail", default.into(), 0, MAX_TAIL.into()) as u32),
        }
    }

    /// The log parameters (see the module doc), `tail` defaulting to `default_tail`.
    pub fn log_options(&mut self, default_tail: u32) -> LogOptions {
        let tail = self.tail(default_tail);
        let (since, until) = (self.time("since"), self.time("until"));
        let timestamps = self.bool("timestamps", false);
        let (stdout, stderr) = self.streams();
        LogOptions {
            tail,
            since,
            until,
            timestamps,
            stdout,
            stderr,
        }
    }

    /// Refuses every parameter not in `allowed`, each named once.
    pub fn only(&mut self, allowed: &[&str]) -> Result<(), Error> {
        let mut unknown: Vec<&str> = Vec::new();
        for (k, _) in &self.pairs {
            if !allowed.contains(&k.as_str()) && !unknown.contains(&k.as_str()) {
                unknown.push(k);
            }
        }
        let msg = if allowed.is_empty() {
            "Unknown query parameter: this route takes none".to_string()
        } else {
            format!(
                "Unknown query parameter: this route takes {}",
                allowed.join(", ")
            )
        };
        let errors = unknown
            .into_iter()
            .map(|k| FieldError::query(k, "extra_forbidden", msg.clone()))
            .collect::<Vec<_>>();
        self.errors.extend(errors);
        self.finish()
    }

    fn fail(&mut self, name: &str, kind: &'static str, msg: impl Into<String>) {
        self.errors.push(FieldError::query(name, kind, msg));
    }

    /// 422 with every problem found so far, if any.
    pub fn finish(&mut self) -> Result<(), Error> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(std::mem::take(&mut self.errors)))
        }
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
    fn typed_parameters_and_their_errors() {
        let mut q = Query::parse(Some("tail=5&all=false&x=1&tail=7"));
        assert_eq!(q.int("tail", 100, 1, 10_000), 7);
        assert!(!q.bool("all", true));
        assert_eq!(q.int("missing", 42, 0, 100), 42);
        q.finish().unwrap();

        let mut q = Query::parse(Some("tail=0&timeout=abc&all=maybe&big=10001"));
        q.int("tail", 100, 1, 10_000);
        q.int("timeout", 10, 0, 300);
        q.bool("all", true);
        q.int("big", 1, 1, 10_000);
        let Err(Error::Validation(errs)) = q.finish() else {
            panic!("expected 422")
        };
        let kinds: Vec<_> = errs.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                "greater_than_equal",
                "int_parsing",
                "bool_parsing",
                "less_than_equal"
            ]
        );
    }

    #[test]
    fn unknown_parameters_are_each_named_once() {
        let mut q = Query::parse(Some("all=1&bogus=1&bogus=2&x"));
        let Err(Error::Validation(errs)) = q.only(&["all"]) else {
            panic!("expected 422")
        };
        let names: Vec<String> = errs.iter().map(|e| e.loc[1].to_string()).collect();
        assert_eq!(names, ["\"bogus\"", "\"x\""]);
        assert!(errs.iter().all(|e| e.kind == "extra_forbidden"));
        assert!(errs[0].msg.contains("this route takes all"));
        Query::parse(Some("all=1")).only(&["all"]).unwrap();
        Query::parse(None).only(&[]).unwrap();
    }

    #[test]
    fn times_and_streams() {
        let mut q = Query::parse(Some(
            "since=1704067200.5&until=2024-01-01T00:00:00Z&stream=both",
        ));
        assert_eq!(q.time("since").as_deref(), Some("1704067200.5"));
        assert_eq!(q.time("until").as_deref(), Some("1704067200"));
        assert_eq!(q.time("missing"), None);
        assert_eq!(q.streams(), (true, true));
        q.finish().unwrap();
        for bad in [
            "since=.",
            "since=1.",
            "since=.5",
            "since=yesterday",
            "since=-5",
        ] {
            let mut q = Query::parse(Some(bad));
            q.time("since");
            assert!(q.finish().is_err(), "{bad}");
        }
        assert_eq!(Query::parse(Some("stream=all")).streams(), (true, true));
        assert_eq!(Query::parse(Some("stream=STDERR")).streams(), (false, true));
        let mut q = Query::parse(Some("stream=stdin"));
        q.streams();
        assert!(q.finish().is_err());
    }

    /// The options `q` gives, or the kinds of its errors.
    fn log_options(q: &str, default_tail: u32) -> Result<LogOptions, Vec<&'static str>> {
        let mut q = Query::parse(Some(q));
        let opts = q.log_options(default_tail);
        match q.finish() {
            Ok(()) => Ok(opts),
            Err(Error::Validation(errs)) => Err(errs.iter().map(|e| e.kind).collect()),
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn log_options_defaults_and_validation() {
        assert_eq!(
            log_options("token=x", 50),
            Ok(LogOptions {
                tail: Some(50),
                since: None,
                until: None,
                timestamps: false,
                stdout: true,
                stderr: true
            })
        );
        assert_eq!(log_options("", 100).unwrap().tail, Some(100));
        let opts = log_options(
            "tail=5&stream=stderr&timestamps=true&since=2024-01-01T00:00:00Z&until=1704067300.5",
            50,
        )
        .unwrap();
        assert_eq!(
            (opts.tail, opts.stdout, opts.stderr, opts.timestamps),
            (Some(5), false, true, true)
        );
        assert_eq!(opts.since.as_deref(), Some("1704067200"));
        assert_eq!(opts.until.as_deref(), Some("1704067300.5"));
        for all in ["tail=all", "tail=ALL", "tail=%20all"] {
            assert_eq!(log_options(all, 50).unwrap().tail, None, "{all}");
        }
        for edge in [0, MAX_TAIL] {
            let opts = log_options(&format!("tail={edge}"), 50).unwrap();
            assert_eq!(opts.tail, Some(edge));
        }
        for both in ["stream=both", "stream=all", "stream=Both"] {
            let opts = log_options(both, 50).unwrap();
            assert_eq!((opts.stdout, opts.stderr), (true, true), "{both}");
        }
        for (bad, kind) in [
            ("since=.", "datetime_parsing"),
            ("until=1.", "datetime_parsing"),
            ("since=yesterday", "datetime_parsing"),
            ("tail=-1", "greater_than_equal"),
            ("tail=10001", "less_than_equal"),
            ("tail=x", "int_parsing"),
            ("tail=some", "int_parsing"),
            ("stream=stdin", "enum"),
            ("timestamps=sometimes", "bool_parsing"),
        ] {
            assert_eq!(log_options(bad, 50), Err(vec![kind]), "{bad}");
        }
        assert_eq!(
            log_options("tail=x&stream=x&until=x", 50),
            Err(vec!["int_parsing", "datetime_parsing", "enum"]),
            "every bad field, each once"
        );
    }
}
