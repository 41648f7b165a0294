//! A headless Chromium driven over WebDriver: Debian's `chromedriver`
//! started on a free port for one browser session, spoken to in WebDriver's
//! JSON protocol with the agent client of [`super::agent`]. Elements are
//! found by CSS selector (or XPath), clicked and typed into as a person
//! would; screenshots land in `target/screenshots/`. Accessibility is
//! checked by axe-core, run in the page (`tests/setup.sh` installs it).

use super::*;
use base64::Engine;
use hyper::Method;
use serde_json::{Value, json};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a page may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(30);
/// axe-core's script, from npm (`tests/setup.sh` installs it here).
const AXE: &str = "/usr/local/lib/docker-agent-tests/node_modules/axe-core/axe.min.js";
/// WebDriver's key for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One browser session; chromedriver and its browser end with it.
pub struct Browser {
    driver: Child,
    http: Agent,
    session: String,
}

impl Browser {
    /// A headless browser with a `width`×`height` viewport (a phone's when
    /// narrow), JavaScript on or off.
    pub async fn open(width: u32, height: u32, javascript: bool) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver is needed (tests/setup.sh installs chromium-driver)");
        let http = Agent::at(([127, 0, 0, 1], port).into());
        let mut browser = Browser {
            driver,
            http,
            session: String::new(),
        };
        browser.wait_for_driver().await;
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ];
        // The viewport exactly (a headless window is at least 500 wide).
        let metrics = json!({"width": width, "height": height, "pixelRatio": 1,
            "mobile": width < 600, "touch": width < 600});
        let js = if javascript { 1 } else { 2 };
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": args,
                "mobileEmulation": {"deviceMetrics": metrics},
                "prefs": {"profile.managed_default_content_settings.javascript": js},
            },
        }}});
        let made = browser.call(Method::POST, "/session", caps).await;
        browser.session = made["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {made}"))
            .to_string();
        browser
    }

    /// Waits until chromedriver listens (it answers from then on).
    async fn wait_for_driver(&self) {
        let started = Instant::now();
        while tokio::net::TcpStream::connect(self.http.addr)
            .await
            .is_err()
        {
            assert!(started.elapsed() < PATIENCE, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A WebDriver command; its `value`, or a panic with WebDriver's error.
    async fn call(&self, method: Method, path: &str, body: Value) -> Value {
        let body = if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        };
        let headers = [("content-type", "application/json")];
        let resp = self.http.request(method, path, &headers, &body).await;
        let value = resp.json()["value"].take();
        assert_eq!(resp.status, 200, "WebDriver {path}: {value}");
        value
    }

    async fn command(&self, method: Method, path: &str, body: Value) -> Value {
        let path = format!("/session/{}{path}", self.session);
        self.call(method, &path, body).await
    }

    pub async fn goto(&self, url: &str) {
        self.command(Method::POST, "/url", json!({"url": url}))
            .await;
    }

    /// The element `css` selects (or `xpath`, when it starts with `/`).
    pub async fn find(&self, selector: &str) -> String {
        let using = if selector.starts_with('/') {
            "xpath"
        } else {
            "css selector"
        };
        let found = self
            .command(
                Method::POST,
                "/element",
                json!({"using": using, "value": selector}),
            )
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("{selector}: {found}"))
            .to_string()
    }

    pub async fn click(&self, selector: &str) {
        let id = self.find(selector).await;
        self.command(Method::POST, &format!("/element/{id}/click"), json!({}))
            .await;
    }

    /// Clears the field `selector` and types `text` into it.
    pub async fn type_into(&self, selector: &str, text: &str) {
        let id = self.find(selector).await;
        self.command(Method::POST, &format!("/element/{id}/clear"), json!({}))
            .await;
        self.command(
            Method::POST,
            &format!("/element/{id}/value"),
            json!({"text": text}),
        )
        .await;
    }

    /// Empties the field `selector` with the keyboard (select all, delete),
    /// as a person would, so the page sees the input.
    pub async fn erase(&self, selector: &str) {
        let id = self.find(selector).await;
        let keys = "\u{E009}a\u{E000}\u{E003}";
        self.command(
            Method::POST,
            &format!("/element/{id}/value"),
            json!({"text": keys}),
        )
        .await;
    }

    /// The text of `selector` as shown (hidden elements have none).
    pub async fn text(&self, selector: &str) -> String {
        let id = self.find(selector).await;
        let text = self
            .command(Method::GET, &format!("/element/{id}/text"), Value::Null)
            .await;
        text.as_str().unwrap().to_string()
    }

    pub async fn displayed(&self, selector: &str) -> bool {
        let id = self.find(selector).await;
        let shown = self
            .command(
                Method::GET,
                &format!("/element/{id}/displayed"),
                Value::Null,
            )
            .await;
        shown == true
    }

    /// Runs `script` (a function body) in the page; its return value.
    pub async fn run(&self, script: &str) -> Value {
        self.command(
            Method::POST,
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    /// Waits until `script` returns something truthy, and returns it.
    pub async fn wait_for(&self, what: &str, script: &str) -> Value {
        let started = Instant::now();
        loop {
            let v = self.run(script).await;
            if !(v.is_null() || v == false || v == "" || v == 0) {
                return v;
            }
            assert!(started.elapsed() < PATIENCE, "waited in vain for {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What axe-core finds wrong with the page as shown, against the WCAG
    /// 2.1 A and AA rules and best practices: each violation's rule, its
    /// words and the elements at fault.
    pub async fn accessibility_violations(&self) -> Vec<Value> {
        let axe = std::fs::read_to_string(AXE)
            .unwrap_or_else(|e| panic!("{AXE} (tests/setup.sh installs axe-core): {e}"));
        self.run(&axe).await;
        let found = self
            .wait_for(
                "axe-core's verdict",
                "if (!window.axeDone) {
                   window.axeDone = 'running';
                   axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']})
                     .then(r => window.axeDone = JSON.stringify(r.violations.map(v =>
                       ({rule: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))));
                 }
                 return window.axeDone != 'running' && window.axeDone",
            )
            .await;
        self.run("delete window.axeDone").await;
        serde_json::from_str(found.as_str().unwrap()).unwrap()
    }

    /// Saves the window as `target/screenshots/{name}.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.command(Method::GET, "/screenshot", Value::Null).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap())
            .unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), bytes).unwrap();
    }

    /// Ends the session (the browser quits) before chromedriver is stopped.
    pub async fn close(self) {
        let path = format!("/session/{}", self.session);
        self.call(Method::DELETE, &path, Value::Null).await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // The driver's process group: chromedriver and any browser left.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).output();
        let _ = self.driver.wait();
    }
}
