//! The dashboard at `/`: its headers and `UI_ENABLED` over HTTP, then a
//! real headless Chromium against the real agent and daemon — signing in
//! (a wrong password first), the live container list, a container's live
//! logs in order with stdout and stderr told apart, filtering, the stats
//! chart, stop and start with the buttons, no buttons for a read token, and
//! the message shown without JavaScript. Screenshots at a desktop and a
//! phone width are kept in `target/screenshots/`.

use crate::util::*;
use docker_agent::policy::{Role, tokens};
use docker_agent::ui::CSP;

const FILES: [(&str, &str); 3] = [
    ("/", "text/html"),
    ("/ui/app.js", "text/javascript"),
    ("/ui/app.css", "text/css"),
];

#[tokio::test]
async fn the_dashboard_is_open_with_strict_headers_and_ui_enabled_false_removes_it() {
    let agent = Agent::start(&[]).await;
    for (path, kind) in FILES {
        let r = agent.get(path, None).await;
        assert_eq!(r.status, 200, "{path} needs no token");
        assert!(
            r.header("content-type").unwrap().starts_with(kind),
            "{path}"
        );
        assert_eq!(r.header("content-security-policy"), Some(CSP), "{path}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
        assert_eq!(r.header("x-frame-options"), Some("DENY"));
        assert!(!r.body.is_empty());
    }
    assert!(CSP.contains("frame-ancestors 'none'") && !CSP.contains("unsafe-inline"));
    let off = Agent::start(&[("UI_ENABLED", "false")]).await;
    for (path, _) in FILES {
        let r = off.get(path, None).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.header("content-security-policy"), None);
    }
    assert_eq!(off.get("/api/v1/healthz", None).await.status, 200);
}

#[tokio::test]
async fn auth_check_tells_the_dashboard_what_the_caller_may_do() {
    let reader = tokens::generate();
    let file = tokens_file(&[("viewer", Role::Read, &reader)]);
    let file = file.to_str().unwrap();
    let agent = Agent::start(&[("API_TOKENS_FILE", file)]).await;
    let admin = agent
        .get("/api/v1/auth/check", Some(&agent.token().await))
        .await;
    let admin = admin.json();
    assert_eq!(
        (&admin["authenticated"], &admin["username"]),
        (&true.into(), &"admin".into()),
        "the contract's fields stay"
    );
    assert_eq!(
        (&admin["role"], &admin["read_only"], &admin["can_operate"]),
        (&"admin".into(), &false.into(), &true.into())
    );
    let read = agent.get("/api/v1/auth/check", Some(&reader)).await.json();
    assert_eq!(
        (&read["role"], &read["can_operate"]),
        (&"read".into(), &false.into())
    );
    let locked = Agent::start(&[("READ_ONLY", "true")]).await;
    let check = locked
        .get("/api/v1/auth/check", Some(&locked.token().await))
        .await;
    let check = check.json();
    assert_eq!(
        (&check["read_only"], &check["can_operate"]),
        (&true.into(), &false.into())
    );
}

/// The lines of the log view as shown: `(label, text, stderr?)`, hidden
/// ones (filtered out) left out.
const SHOWN_LINES: &str = "return [...document.querySelectorAll('#logs div')]
    .filter(d => d.offsetParent)
    .map(d => [d.firstChild.textContent, d.lastChild.textContent, d.classList.contains('e')])";

async fn shown_lines(b: &Browser) -> Vec<(String, String, bool)> {
    serde_json::from_value(b.run(SHOWN_LINES).await).unwrap()
}

pub(crate) async fn sign_in(b: &Browser, agent: &Agent, password: &str) {
    b.goto(&agent.url("/")).await;
    b.wait_for(
        "the sign-in form",
        "return !document.getElementById('login').hidden",
    )
    .await;
    b.type_into("#user", "admin").await;
    b.type_into("#pass", password).await;
    b.click("#login button").await;
}

/// Waits for the container's row in the list, and returns its state.
pub(crate) async fn row_state(b: &Browser, name: &str) -> String {
    let script = format!(
        "const r = [...document.querySelectorAll('#rows tr')].find(r => r.cells[0].textContent == '{name}');
         return r && !document.getElementById('list').hidden && r.cells[1].querySelector('.st').textContent"
    );
    b.wait_for(&format!("{name} in the list"), &script)
        .await
        .as_str()
        .unwrap()
        .to_string()
}

/// Clicks the container's row and waits for its page.
pub(crate) async fn open_row(b: &Browser, name: &str) {
    b.click(&format!("//tr[td[text()='{name}']]")).await;
    let script = format!("return document.getElementById('cname').textContent == '{name}'");
    b.wait_for(&format!("the page of {name}"), &script).await;
}

/// Waits until the container page shows `state`.
pub(crate) async fn page_state(b: &Browser, state: &str) {
    let script = format!("return document.getElementById('cstate').textContent == '{state}'");
    b.wait_for(&format!("the state {state}"), &script).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_the_dashboard_signs_in_follows_logs_filters_and_stops_and_starts() {
    let published = ["-p", "127.0.0.1::8080"];
    let c = Container::run(
        &published,
        &["lines:5", "err:disk almost full", "every:300"],
    );
    let agent = Agent::start(&[("RATE_LIMIT_ENABLED", "false")]).await;
    let b = Browser::open(1280, 800, true).await;

    sign_in(&b, &agent, "not-the-password").await;
    let error = "return document.getElementById('lerr').textContent";
    let said = b.wait_for("an error message", error).await;
    assert_eq!(said, "Invalid username or password");
    assert!(b.displayed("#login").await, "still on the sign-in form");

    b.type_into("#pass", PASSWORD).await;
    b.click("#login button").await;
    assert_eq!(row_state(&b, &c.name).await, "running");
    let host = "return /^Docker .* · ok · \\d+\\/\\d+ running$/.test(document.getElementById('host').textContent)";
    b.wait_for("the host's version and health", host).await;
    assert!(b.text("#who").await.starts_with("admin · admin"));
    assert!(
        !b.displayed("#pick").await,
        "no host picker outside a fleet"
    );
    let status = format!("//tr[td[text()='{}']]/td[2]/small", c.name);
    assert!(b.text(&status).await.starts_with("Up "), "Docker's words");
    let ports = format!("//tr[td[text()='{}']]/td[4]", c.name);
    assert!(
        b.text(&ports).await.ends_with("→8080/tcp"),
        "the published port"
    );
    b.screenshot("desktop-list").await;

    open_row(&b, &c.name).await;
    let ticks = "return document.getElementById('logs').textContent.includes('tick 3')";
    b.wait_for("live log lines", ticks).await;
    let lines = shown_lines(&b).await;
    let (errs, outs): (Vec<_>, Vec<_>) = lines.iter().partition(|l| l.2);
    assert_eq!(
        errs,
        [&("err".to_string(), "disk almost full".to_string(), true)],
        "stderr is labelled and styled apart"
    );
    assert!(outs.iter().all(|l| l.0 == "out"), "{outs:?}");
    let texts: Vec<&str> = outs.iter().map(|l| l.1.as_str()).collect();
    let expected = ["line 1", "line 2", "line 3", "line 4", "line 5"];
    assert_eq!(texts[..5], expected, "in order, first to last: {texts:?}");
    let counted: Vec<String> = (1..texts.len() - 4).map(|n| format!("tick {n}")).collect();
    assert_eq!(texts[5..], counted, "ticks arrive in order, none missing");

    let chart = "const c = document.getElementById('chart');
        return /CPU \\d/.test(document.getElementById('now').textContent)
            && c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(x => x > 0)";
    b.wait_for("a stats sample drawn in the chart", chart).await;

    b.type_into("#filter", "LINE 3").await;
    let filtered = shown_lines(&b).await;
    assert_eq!(
        filtered,
        [("out".into(), "line 3".into(), false)],
        "filter as you type, any case"
    );
    b.erase("#filter").await;
    assert!(shown_lines(&b).await.len() >= 9, "all lines back");

    b.run("window.sameDocument = true").await;
    assert!(b.displayed("#acts").await, "an admin gets the actions");
    b.click("#acts [data-a=stop]").await;
    page_state(&b, "exited").await;
    assert_eq!(c.status(), "exited", "the button really stopped it");
    b.wait_for(
        "Start enabled",
        "return !document.querySelector('[data-a=start]').disabled",
    )
    .await;
    b.click("#acts [data-a=start]").await;
    page_state(&b, "running").await;
    assert_eq!(c.status(), "running");
    let again = "return [...document.querySelectorAll('#logs div')].filter(d => d.lastChild.textContent == 'line 1').length == 2";
    b.wait_for(
        "the restarted container's lines after the first run's",
        again,
    )
    .await;
    assert_eq!(b.run("return window.sameDocument").await, true, "no reload");
    b.screenshot("desktop-container").await;

    b.click("#back").await;
    assert_eq!(row_state(&b, &c.name).await, "running");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_a_read_token_sees_logs_but_no_action_buttons() {
    let c = Container::run(&[], &["lines:3", "every:500"]);
    let reader = tokens::generate();
    let file = tokens_file(&[("viewer", Role::Read, &reader)]);
    let vars = [
        ("RATE_LIMIT_ENABLED", "false"),
        ("API_TOKENS_FILE", file.to_str().unwrap()),
    ];
    let agent = Agent::start(&vars).await;
    let b = Browser::open(390, 844, true).await;
    b.goto(&agent.url("/")).await;
    b.wait_for(
        "the sign-in form",
        "return !document.getElementById('login').hidden",
    )
    .await;
    b.type_into("#tok", &reader).await;
    b.click("#login button").await;
    assert_eq!(row_state(&b, &c.name).await, "running");
    assert!(b.text("#who").await.starts_with("viewer · read"));
    let fits = "return innerWidth == 390 && document.documentElement.scrollWidth <= innerWidth";
    assert_eq!(b.run(fits).await, true, "no sideways scrolling on a phone");
    b.screenshot("phone-list").await;

    open_row(&b, &c.name).await;
    let lines = "return document.getElementById('logs').textContent.includes('line 3')";
    b.wait_for("log lines", lines).await;
    assert!(!b.displayed("#acts").await, "a read token gets no buttons");
    b.wait_for(
        "a stats sample",
        "return /CPU \\d/.test(document.getElementById('now').textContent)",
    )
    .await;
    assert_eq!(b.run(fits).await, true);
    b.screenshot("phone-container").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_javascript_the_dashboard_says_it_needs_it() {
    let agent = Agent::start(&[]).await;
    let b = Browser::open(1280, 800, false).await;
    b.goto(&agent.url("/")).await;
    let shown = b.text("body").await;
    assert!(shown.contains("This dashboard needs JavaScript"), "{shown}");
    assert!(!b.displayed("#login").await, "no form that could not work");
    b.close().await;
}
