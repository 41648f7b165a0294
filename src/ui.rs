//! The embedded dashboard: `ui/index.html` at `/`, its script and style
//! under `/ui/`, compiled into the binary and served without a credential
//! (the data behind them needs one). Every answer carries a strict
//! `Content-Security-Policy` (no inline script or style, nothing from
//! another origin, no framing) and `nosniff`, `no-referrer` and `DENY`
//! beside it. `UI_ENABLED=false` leaves the paths 404.

use crate::http::body::{self, Body};
use crate::router::Asset;
use hyper::Response;
use hyper::header::{self, HeaderName, HeaderValue};

/// The policy of every dashboard answer: same-origin script, style, fetch
/// and WebSocket (`'self'` covers `ws:`/`wss:` to the same host), nothing
/// inline, never framed.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

impl Asset {
    /// The file's content and media type.
    fn file(self) -> (&'static str, &'static str) {
        match self {
            Asset::Page => (include_str!("../ui/index.html"), "text/html; charset=utf-8"),
            Asset::Script => (
                include_str!("../ui/app.js"),
                "text/javascript; charset=utf-8",
            ),
            Asset::Style => (include_str!("../ui/app.css"), "text/css; charset=utf-8"),
        }
    }
}

/// The asset with its headers.
pub fn serve(asset: Asset) -> Response<Body> {
    let (text, kind) = asset.file();
    let mut resp = Response::new(body::full(text));
    let h = resp.headers_mut();
    let headers = [
        (header::CONTENT_TYPE, kind),
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-cache"),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ];
    for (name, value) in headers {
        h.insert(name, HeaderValue::from_static(value));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_path_has_its_file_and_headers() {
        for (path, kind) in [
            ("/", "text/html"),
            ("/ui/app.js", "text/javascript"),
            ("/ui/app.css", "text/css"),
        ] {
            let resp = serve(Asset::at(path).unwrap());
            let h = resp.headers();
            assert!(h[header::CONTENT_TYPE].to_str().unwrap().starts_with(kind));
            assert_eq!(h[header::CONTENT_SECURITY_POLICY], CSP);
            assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        }
        assert_eq!(Asset::at("/ui/other.js"), None);
        assert_eq!(Asset::at("/index.html"), None);
    }

    #[test]
    fn the_page_loads_nothing_inline_or_foreign() {
        let (page, _) = Asset::Page.file();
        assert!(page.contains(r#"<script src="/ui/app.js""#));
        assert!(!page.contains("<script>") && !page.contains("style="));
        assert!(!page.contains("<style") && !page.contains("http"));
        assert!(page.contains("<noscript>"));
    }
}
