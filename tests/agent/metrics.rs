//! `GET /metrics`: who may scrape it, the exposition read line by line
//! against the text format's rules, the container series under cAdvisor's
//! names, the shared collection, and a real Prometheus scraping the agent
//! and answering PromQL about a test container.

use crate::util::*;
use docker_agent::policy::{Role, tokens};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// One sample: its name, labels and value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// An exposition, checked as it is parsed: every line a `# HELP`, a
/// `# TYPE` or a well-formed sample; each family's HELP and TYPE once,
/// before its samples; histograms cumulative, with `+Inf` equal to `_count`.
struct Exposition {
    types: HashMap<String, String>,
    samples: Vec<Sample>,
}

impl Exposition {
    fn parse(text: &str) -> Exposition {
        assert!(text.ends_with('\n'), "the exposition ends with a line feed");
        let mut types = HashMap::new();
        let mut helped = HashMap::new();
        let mut samples = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, _) = rest.split_once(' ').expect(line);
                assert!(
                    helped.insert(name.to_string(), ()).is_none(),
                    "HELP twice: {line}"
                );
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect(line);
                assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
                assert!(helped.contains_key(name), "TYPE before HELP: {line}");
                let had = types.insert(name.to_string(), kind.to_string());
                assert!(had.is_none(), "TYPE twice: {line}");
            } else {
                let sample = sample(line);
                let family = family_of(&sample.name, &types);
                assert!(types.contains_key(family), "sample before its TYPE: {line}");
                samples.push(sample);
            }
        }
        let e = Exposition { types, samples };
        e.check_histograms();
        e
    }

    fn check_histograms(&self) {
        for (family, _) in self.types.iter().filter(|(_, k)| *k == "histogram") {
            let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
            for s in self.named(&format!("{family}_bucket")) {
                let mut labels = s.labels.clone();
                let le = labels.remove("le").expect("a bucket has le");
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap()
                };
                series
                    .entry(format!("{labels:?}"))
                    .or_default()
                    .push((le, s.value));
            }
            assert!(!series.is_empty(), "{family} has buckets");
            for (labels, buckets) in series {
                assert!(
                    buckets
                        .windows(2)
                        .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
                    "{family}{labels}: {buckets:?}"
                );
                let (le, inf) = *buckets.last().unwrap();
                assert_eq!(le, f64::INFINITY, "{family}{labels} ends with +Inf");
                let count_name = format!("{family}_count");
                let count = self
                    .named(&count_name)
                    .find(|s| format!("{:?}", s.labels) == labels)
                    .map(|s| s.value);
                assert_eq!(Some(inf), count, "{family}{labels}: +Inf is the count");
            }
        }
    }

    fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| s.name == name)
    }

    /// The value of `name` whose labels include `with`.
    fn value(&self, name: &str, with: &[(&str, &str)]) -> Option<f64> {
        self.named(name)
            .find(|s| {
                with.iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|s| s.value)
    }
}

fn family_of<'a>(name: &'a str, types: &HashMap<String, String>) -> &'a str {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix)
            && types.get(base).is_some_and(|k| k == "histogram")
        {
            return base;
        }
    }
    name
}

/// A sample line: `name{label="value",...} value`, label values escaped.
fn sample(line: &str) -> Sample {
    let name_end = line.find(['{', ' ']).expect(line);
    let name = &line[..name_end];
    let word = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    assert!(
        name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') && word(name),
        "metric name: {line}"
    );
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(mut body) = rest.strip_prefix('{') {
        loop {
            let (key, after) = body.split_once("=\"").expect(line);
            assert!(!key.is_empty() && word(key), "label name: {line}");
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next().expect(line) {
                    (i, '"') => break i,
                    (_, '\\') => match chars.next().expect(line).1 {
                        'n' => value.push('\n'),
                        c @ ('\\' | '"') => value.push(c),
                        c => panic!("bad escape \\{c}: {line}"),
                    },
                    (_, c) => value.push(c),
                }
            };
            labels.insert(key.to_string(), value);
            let tail = &after[end + 1..];
            match tail.strip_prefix(',') {
                Some(next) => body = next,
                None => {
                    rest = tail.strip_prefix('}').expect(line);
                    break;
                }
            }
        }
    }
    let value = rest.strip_prefix(' ').expect(line);
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().unwrap_or_else(|_| panic!("value: {line}")),
    };
    Sample {
        name: name.to_string(),
        labels,
        value,
    }
}

async fn scrape(agent: &Agent, token: &str) -> Exposition {
    let r = agent.get("/metrics", Some(token)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        r.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    Exposition::parse(std::str::from_utf8(&r.body).expect("UTF-8"))
}

fn collections(e: &Exposition) -> f64 {
    e.value("docker_agent_metrics_collections_total", &[])
        .unwrap()
}

#[tokio::test]
async fn metrics_open_to_a_read_token_or_the_metrics_token_only() {
    let scoped = tokens::generate();
    let file = tokens_file(&[("grafana", Role::Read, &scoped)]);
    let agent = Agent::start(&[
        ("METRICS_TOKEN", METRICS_TOKEN),
        ("API_TOKENS_FILE", file.to_str().unwrap()),
        ("RATE_LIMIT_ENABLED", "false"),
    ])
    .await;
    assert_eq!(agent.get("/metrics", None).await.status, 401);
    assert_eq!(
        agent
            .get("/metrics", Some("scrape-0123456789abcdeX"))
            .await
            .status,
        401
    );
    scrape(&agent, METRICS_TOKEN).await;
    scrape(&agent, &agent.token().await).await;
    scrape(&agent, &scoped).await;
    let elsewhere = agent.get("/api/v1/containers/", Some(METRICS_TOKEN)).await;
    assert_eq!(elsewhere.status, 401, "METRICS_TOKEN opens /metrics only");
}

#[tokio::test]
async fn metrics_enabled_false_removes_the_route() {
    let agent = Agent::start(&[
        ("METRICS_ENABLED", "false"),
        ("METRICS_TOKEN", METRICS_TOKEN),
    ])
    .await;
    let r = agent.get("/metrics", Some(METRICS_TOKEN)).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["detail"], "Not Found");
    assert_eq!(
        agent
            .get("/metrics", Some(&agent.token().await))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn the_exposition_is_well_formed_and_names_containers_as_cadvisor_does() {
    let c = Container::run(&[], &["every:100"]);
    let agent = Agent::start(&[("METRICS_TOKEN", METRICS_TOKEN)]).await;
    let token = agent.token().await;
    assert_eq!(agent.get("/api/v1/containers/", None).await.status, 401);
    let e = scrape(&agent, METRICS_TOKEN).await;
    let id = format!("/docker/{}", c.id);
    let mine = [
        ("name", c.name.as_str()),
        ("id", id.as_str()),
        ("image", image()),
    ];
    let cpu = [("cpu", "total"), mine[0], mine[1], mine[2]];
    assert!(
        e.value("container_cpu_usage_seconds_total", &cpu)
            .is_some_and(|v| v > 0.0)
    );
    for name in [
        "container_memory_usage_bytes",
        "container_memory_working_set_bytes",
        "container_fs_reads_bytes_total",
        "container_fs_writes_bytes_total",
        "container_last_seen",
    ] {
        assert!(
            e.value(name, &mine).is_some(),
            "{name} of the test container"
        );
    }
    let usage = e.value("container_memory_usage_bytes", &mine).unwrap();
    let working = e
        .value("container_memory_working_set_bytes", &mine)
        .unwrap();
    assert!(usage > 0.0 && working <= usage, "{working} <= {usage}");
    let seen = e.value("container_last_seen", &mine).unwrap();
    assert!((seen - now() as f64).abs() < 60.0, "last seen {seen}");
    let eth0 = [mine[0], ("interface", "eth0")];
    assert!(
        e.value("container_network_receive_bytes_total", &eth0)
            .is_some()
    );
    assert!(
        e.value("container_network_transmit_bytes_total", &eth0)
            .is_some()
    );
    let build = e.value(
        "docker_agent_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))],
    );
    assert_eq!(build, Some(1.0));
    assert!(
        e.value("process_resident_memory_bytes", &[])
            .is_some_and(|v| v > 0.0)
    );
    assert!(e.value("docker_agent_ws_subscribers", &[]).is_some());
    assert!(e.types["docker_agent_docker_request_duration_seconds"] == "histogram");
    // The refused list request above, and the login, were counted.
    let e = scrape(&agent, &token).await;
    let read_401 = [("class", "read"), ("status", "401")];
    assert!(
        e.value("docker_agent_http_requests_total", &read_401)
            .is_some_and(|v| v >= 1.0)
    );
    let login_200 = [("class", "login"), ("status", "200")];
    assert!(
        e.value("docker_agent_http_requests_total", &login_200)
            .is_some_and(|v| v >= 1.0)
    );
    let bearer = [("credential", "bearer")];
    assert!(
        e.value("docker_agent_auth_failures_total", &bearer)
            .is_some_and(|v| v >= 1.0)
    );
}

#[tokio::test]
async fn scrapes_within_the_cache_interval_share_one_collection() {
    let _c = Container::run(&[], &["every:100"]);
    let cached = Agent::start(&[
        ("METRICS_TOKEN", METRICS_TOKEN),
        ("METRICS_CACHE_SECONDS", "60"),
    ])
    .await;
    let (a, b) = tokio::join!(
        scrape(&cached, METRICS_TOKEN),
        scrape(&cached, METRICS_TOKEN)
    );
    let c = scrape(&cached, METRICS_TOKEN).await;
    assert_eq!(
        [collections(&a), collections(&b), collections(&c)],
        [1.0; 3]
    );
    let uncached = Agent::start(&[
        ("METRICS_TOKEN", METRICS_TOKEN),
        ("METRICS_CACHE_SECONDS", "0"),
    ])
    .await;
    let first = collections(&scrape(&uncached, METRICS_TOKEN).await);
    let second = collections(&scrape(&uncached, METRICS_TOKEN).await);
    assert_eq!((first, second), (1.0, 2.0));
}

/// A Prometheus server scraping `target` every second with `METRICS_TOKEN`.
async fn prometheus_scraping(target: std::net::SocketAddr) -> Prometheus {
    let config = format!(
        "global: {{scrape_interval: 1s, scrape_timeout: 1s}}\n\
         scrape_configs:\n\
         - job_name: docker-agent\n  \
           authorization: {{credentials: {METRICS_TOKEN}}}\n  \
           static_configs: [{{targets: ['{target}']}}]\n"
    );
    Prometheus::start(&config, None).await
}

#[tokio::test]
async fn prometheus_scrapes_the_agent_and_promql_returns_the_container_cpu_series() {
    let c = Container::run(&[], &["every:100"]);
    // The default cache: one collection serves several 1 s scrapes, however
    // long the daemon takes over it.
    let agent = Agent::start(&[("METRICS_TOKEN", METRICS_TOKEN)]).await;
    let prometheus = prometheus_scraping(agent.addr).await;
    let promql = format!("container_cpu_usage_seconds_total{{name=\"{}\"}}", c.name);
    let deadline = Instant::now() + Duration::from_secs(90);
    let result = loop {
        let found = prometheus.query(&promql).await;
        if let Some(result) = found.filter(|r| r.as_array().is_some_and(|a| !a.is_empty())) {
            break result;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus never returned {promql}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let series = &result[0];
    assert_eq!(series["metric"]["id"], format!("/docker/{}", c.id));
    assert_eq!(series["metric"]["image"], image());
    assert_eq!(series["metric"]["job"], "docker-agent");
    let value: f64 = series["value"][1].as_str().unwrap().parse().unwrap();
    assert!(value > 0.0, "{series}");
    let up = prometheus.query("up{job=\"docker-agent\"}").await.unwrap();
    assert_eq!(up[0]["value"][1], "1", "the scrape succeeds: {up}");
}

/// The `docker_api` label of `docker_agent_build_info`.
fn build_api(e: &Exposition) -> String {
    let build: Vec<&Sample> = e.named("docker_agent_build_info").collect();
    assert_eq!(build.len(), 1);
    assert_eq!(build[0].value, 1.0);
    build[0].labels["docker_api"].clone()
}

#[tokio::test]
async fn build_info_names_the_docker_api_version_negotiated_with_the_daemon() {
    // The real daemon: the lower of its newest version and ours.
    let agent = Agent::start(&[("METRICS_TOKEN", METRICS_TOKEN)]).await;
    let daemon = docker(&["version", "--format", "{{.Server.APIVersion}}"]);
    let parse = |v: &str| {
        let (a, b) = v.split_once('.').unwrap();
        (a.parse::<u32>().unwrap(), b.parse::<u32>().unwrap())
    };
    let (major, minor) = parse(&daemon).min(docker_agent::docker::client::MAX_API);
    let spoken = format!("{major}.{minor}");
    assert_eq!(build_api(&scrape(&agent, METRICS_TOKEN).await), spoken);

    // An older engine (20.10) is spoken to in its own version, and an
    // upgrade under the agent is followed.
    let path = temp_socket("build-info");
    let engine = ScriptedEngine::start(&path, "1.41", "1.12");
    let host = format!("unix://{}", path.display());
    let agent = Agent::start(&[
        ("DOCKER_HOST", host.as_str()),
        ("METRICS_TOKEN", METRICS_TOKEN),
        ("METRICS_CACHE_SECONDS", "0"),
    ])
    .await;
    assert_eq!(build_api(&scrape(&agent, METRICS_TOKEN).await), "1.41");
    engine.set("1.52", "1.44");
    assert_eq!(build_api(&scrape(&agent, METRICS_TOKEN).await), "1.47");
    let _ = std::fs::remove_file(&path);
}
