//! The Prometheus text exposition format, version 0.0.4: each family's
//! `# HELP` and `# TYPE` lines before its samples, label values escaped
//! (`\\`, `\"`, `\n`), help text escaped (`\\`, `\n`), histograms as
//! cumulative `_bucket` samples ending with `le="+Inf"`, then `_sum` and
//! `_count`.

use crate::counters::histogram::{BOUNDS, Histogram};
use std::fmt::Write;

/// The media type of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// An exposition being written.
#[derive(Default)]
pub struct Exposition(String);

impl Exposition {
    /// Starts the family `name` of `kind` (`counter`, `gauge`, `histogram`).
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        let help = help.replace('\\', r"\\").replace('\n', r"\n");
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    /// One sample of the current family.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.0.push_str(name);
        if !labels.is_empty() {
            self.0.push('{');
            for (i, (key, value)) in labels.iter().enumerate() {
                if i > 0 {
                    self.0.push(',');
                }
                let _ = write!(self.0, "{key}=\"");
                escape_into(&mut self.0, value);
                self.0.push('"');
            }
            self.0.push('}');
        }
        let _ = writeln!(self.0, " {}", number(value));
    }

    /// The samples of one histogram of the current family `name`.
    pub fn histogram(&mut self, name: &str, labels: &[(&str, &str)], h: &Histogram) {
        let (counts, sum, count) = h.snapshot();
        let bucket = format!("{name}_bucket");
        let mut cumulative = 0;
        for (le, n) in BOUNDS.iter().zip(counts) {
            cumulative += n;
            let le = number(*le);
            self.sample(
                &bucket,
                &[labels, &[("le", &le)]].concat(),
                cumulative as f64,
            );
        }
        self.sample(&bucket, &[labels, &[("le", "+Inf")]].concat(), count as f64);
        self.sample(&format!("{name}_sum"), labels, sum);
        self.sample(&format!("{name}_count"), labels, count as f64);
    }

    pub fn finish(self) -> String {
        self.0
    }
}

/// A value as text: whole numbers as integers, others as serde_json writes
/// them (shortest round trip) — both formatters the binary has already.
fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        (value as i64).to_string()
    } else if value.is_finite() {
        serde_json::Value::from(value).to_string()
    } else {
        "NaN".into()
    }
}

fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str(r"\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn label_values_and_help_are_escaped() {
        let mut t = Exposition::default();
        t.family("x_total", "counter", "A \\ help\nline");
        t.sample(
            "x_total",
            &[("name", "a\"b\\c\nd"), ("id", "/docker/1")],
            3.0,
        );
        assert_eq!(
            t.finish(),
            "# HELP x_total A \\\\ help\\nline\n# TYPE x_total counter\n\
             x_total{name=\"a\\\"b\\\\c\\nd\",id=\"/docker/1\"} 3\n"
        );
    }

    #[test]
    fn a_histogram_is_cumulative_and_ends_with_its_count() {
        let h = Histogram::new();
        for ms in [1, 1, 30, 700, 60_000] {
            h.observe(Duration::from_millis(ms));
        }
        let mut t = Exposition::default();
        t.histogram("d_seconds", &[("class", "read")], &h);
        let text = t.finish();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "d_seconds_bucket{class=\"read\",le=\"0.005\"} 2");
        assert!(lines.contains(&"d_seconds_bucket{class=\"read\",le=\"0.05\"} 3"));
        assert!(lines.contains(&"d_seconds_bucket{class=\"read\",le=\"1\"} 4"));
        assert!(lines.contains(&"d_seconds_bucket{class=\"read\",le=\"10\"} 4"));
        assert!(lines.contains(&"d_seconds_bucket{class=\"read\",le=\"+Inf\"} 5"));
        assert!(lines.contains(&"d_seconds_sum{class=\"read\"} 60.732"));
        assert_eq!(lines.last(), Some(&"d_seconds_count{class=\"read\"} 5"));
    }
}
