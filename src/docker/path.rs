//! Building Docker request paths safely.
//!
//! Every user-supplied value goes through [`segment`] (path) or [`query`]
//! (query string): everything but RFC 3986 unreserved characters is
//! percent-encoded, so an id like `../../images/json` or `x?all=1` stays one
//! opaque segment and can never reach another Docker endpoint.

/// Percent-encodes one path segment or query value.
pub fn segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `?k=v&...` with every key and value encoded; empty string for no pairs.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let joined: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", segment(k), segment(v)))
        .collect();
    if joined.is_empty() {
        String::new()
    } else {
        format!("?{}", joined.join("&"))
    }
}

/// `/containers/{id}{suffix}` with the id encoded.
pub fn container(id: &str, suffix: &str) -> String {
    format!("/containers/{}{suffix}", segment(id))
}

/// `/exec/{id}{suffix}` with the id encoded.
pub fn exec(id: &str, suffix: &str) -> String {
    format!("/exec/{}{suffix}", segment(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_and_query_injection_stay_inside_one_segment() {
        assert_eq!(segment("../../images/json"), "..%2F..%2Fimages%2Fjson");
        assert_eq!(segment("x?all=1"), "x%3Fall%3D1");
        assert_eq!(segment("a#b c%"), "a%23b%20c%25");
        assert_eq!(
            container("../../info", "/json"),
            "/containers/..%2F..%2Finfo/json"
        );
    }

    #[test]
    fn unreserved_characters_pass_through() {
        assert_eq!(segment("web_1.prod-x~"), "web_1.prod-x~");
        assert_eq!(segment("é"), "%C3%A9");
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(query(&[]), "");
        assert_eq!(
            query(&[("filters", r#"{"label":["a=b"]}"#), ("all", "1")]),
            "?filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D&all=1"
        );
    }
}
