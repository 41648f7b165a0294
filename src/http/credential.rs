//! The credential a request presents, read in this one place for every
//! surface: the `Authorization` header everywhere, and where a surface
//! also takes it in the query string because its clients cannot set
//! headers — `?token=` for the WebSocket streams (a browser's WebSocket
//! has no headers), `?api_key=` for MCP (and the key bare in the header,
//! as the v1 contract accepted). REST takes the header only: a `?token=`
//! there is pointed out ([`misplaced`]), never read. An empty value counts
//! as absent, so it cannot hide one given elsewhere. Which caller a
//! credential names is the policy's business.

use super::query::Query;
use hyper::HeaderMap;
use hyper::header::AUTHORIZATION;

/// Where a surface takes its credential besides `Authorization: Bearer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// The header only (REST, `/metrics`).
    Header,
    /// `?token=` first, then the header (the WebSocket streams).
    StreamToken,
    /// The header, bearer or bare, then `?api_key=` (MCP).
    McpKey,
}

/// The credential `headers` and `query` present, as `carrier` takes it.
pub fn credential(headers: &HeaderMap, query: Option<&str>, carrier: Carrier) -> Option<String> {
    let query = |name: &str| Query::parse(query).get(name).map(str::to_string);
    let found = match carrier {
        Carrier::Header => bearer(headers).map(str::to_string),
        Carrier::StreamToken => query("token")
            .filter(|t| !t.is_empty())
            .or_else(|| bearer(headers).map(str::to_string)),
        Carrier::McpKey => match header(headers) {
            Some(value) => Some(bearer(headers).unwrap_or(value).to_string()),
            None => query("api_key"),
        },
    };
    found.filter(|v| !v.is_empty())
}

/// Whether a request that presents no credential in the header put one in
/// the query string, where its surface does not read it.
pub fn misplaced(query: Option<&str>) -> bool {
    Query::parse(query).get("token").is_some()
}

fn header(headers: &HeaderMap) -> Option<&str> {
    Some(headers.get(AUTHORIZATION)?.to_str().ok()?.trim())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let (scheme, token) = header(headers)?.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, auth.parse().unwrap());
        h
    }

    #[test]
    fn each_surface_reads_its_own_places() {
        let bearer = headers("Bearer abc");
        let none = HeaderMap::new();
        let rest = |h: &HeaderMap, q: Option<&str>| credential(h, q, Carrier::Header);
        assert_eq!(rest(&bearer, None).as_deref(), Some("abc"));
        assert_eq!(rest(&headers("bearer  abc "), None).as_deref(), Some("abc"));
        assert_eq!(
            rest(&none, Some("token=abc")),
            None,
            "REST never reads the query"
        );
        assert_eq!(rest(&headers("abc"), None), None, "bare only on MCP");
        assert_eq!(rest(&headers("Basic abc"), None), None);
        assert!(misplaced(Some("token=abc")));

        let stream = |h: &HeaderMap, q: Option<&str>| credential(h, q, Carrier::StreamToken);
        assert_eq!(stream(&bearer, Some("token=q")).as_deref(), Some("q"));
        assert_eq!(stream(&bearer, Some("token=")).as_deref(), Some("abc"));
        assert_eq!(stream(&none, None), None);

        let mcp = |h: &HeaderMap, q: Option<&str>| credential(h, q, Carrier::McpKey);
        assert_eq!(mcp(&bearer, Some("api_key=q")).as_deref(), Some("abc"));
        assert_eq!(mcp(&headers("key-1"), None).as_deref(), Some("key-1"));
        assert_eq!(mcp(&none, Some("api_key=q")).as_deref(), Some("q"));
        assert_eq!(mcp(&none, Some("api_key=")), None);
    }
}
