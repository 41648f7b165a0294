//! What a container may reach on the host, judged by what Docker will do:
//! bind sources resolved through symlinks at create and again before a
//! start, restart or unpause; image ids judged by the image they mean; and
//! named volumes judged by who uses them and what their options mount.

use crate::lifecycle::{bearer, body, create, detail, inspect};
use crate::util::*;
use docker_agent::app::App;
use docker_agent::config::Config;
use docker_agent::policy::{Role, tokens};
use hyper::Method;
use serde_json::json;
use std::path::Path;

/// A named volume, removed (with force) when dropped, even on panic.
struct Volume(String);

impl Volume {
    fn create(options: &[&str]) -> Volume {
        let name = unique_name("vol");
        let mut args = vec!["volume", "create", "--label", "docker-agent-test=1"];
        args.extend_from_slice(options);
        args.push(&name);
        docker(&args);
        Volume(name)
    }

    /// A volume of that name the agent is expected to make.
    fn expected() -> Volume {
        Volume(unique_name("vol"))
    }
}

impl Drop for Volume {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["volume", "rm", "-f", &self.0])
            .output();
    }
}

async fn act(agent: &Agent, token: &str, id: &str, action: &str) -> Resp {
    agent
        .post(&format!("/api/v1/containers/{id}/{action}"), Some(token))
        .await
}

fn bound(dir: &Path) -> String {
    dir.to_str().unwrap().to_string()
}

#[tokio::test]
async fn a_bind_is_judged_where_its_links_lead_and_docker_gets_that_path() {
    let allowed = temp_dir("allowed");
    std::fs::create_dir_all(allowed.join("inside")).unwrap();
    std::os::unix::fs::symlink("inside", allowed.join("back")).unwrap();
    let agent = Agent::start(&[
        ("ALLOW_BIND_MOUNTS_FROM", &bound(&allowed)),
        ("RATE_LIMIT_ENABLED", "false"),
    ])
    .await;
    let token = agent.token().await;

    // A container given the allowed directory plants a link to / in it.
    let planter = Container::shell(
        &["-v", &format!("{}:/a", bound(&allowed))],
        &["ln", "-s", "/", "/a/link"],
    );
    docker(&["wait", &planter.id]);
    assert!(allowed.join("link").is_symlink());

    let missing = format!("/tmp/{}", unique_name("escape"));
    for source in [
        format!("{}/link{missing}", bound(&allowed)),
        format!("{}/link/etc", bound(&allowed)),
        format!("{}/inside/not-yet", bound(&allowed)),
    ] {
        let (name, b) = body(json!({"binds": [format!("{source}:/x")]}));
        let (resp, _made) = create(&agent, &token, &b).await;
        assert_eq!(resp.status, 403, "{source}: {:?}", resp.body);
        assert!(
            detail(&resp).starts_with("'binds': the host path"),
            "{}",
            detail(&resp)
        );
        assert!(!exists("container", &name), "{source}: nothing created");
    }
    assert!(
        !Path::new(&missing).exists(),
        "Docker made nothing on the host"
    );

    let (_, b) = body(json!({"binds": [format!("{}/back:/x:ro", bound(&allowed))]}));
    let (resp, made) = create(&agent, &token, &b).await;
    assert_eq!(
        resp.status, 201,
        "a link that stays inside: {:?}",
        resp.body
    );
    let real = std::fs::canonicalize(allowed.join("inside")).unwrap();
    assert_eq!(
        inspect(&made.unwrap().0, "{{range .HostConfig.Binds}}{{.}}{{end}}"),
        format!("{}:/x:ro", real.display()),
        "Docker got the resolved path"
    );
}

#[tokio::test]
async fn a_link_swapped_in_after_the_create_is_refused_at_start_restart_and_unpause() {
    let allowed = temp_dir("allowed");
    for dir in ["x/etc", "y"] {
        std::fs::create_dir_all(allowed.join(dir)).unwrap();
    }
    let operator = tokens::generate();
    let file = tokens_file(&[("ops", Role::Operate, &operator)]);
    let agent = Agent::start(&[
        ("ALLOW_BIND_MOUNTS_FROM", &bound(&allowed)),
        ("API_TOKENS_FILE", file.to_str().unwrap()),
        ("RATE_LIMIT_ENABLED", "false"),
    ])
    .await;
    let token = agent.token().await;
    let (_, b) = body(json!({"binds": [format!("{}/x/etc:/hostetc:ro", bound(&allowed))]}));
    let (resp, made) = create(&agent, &token, &b).await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    let id = made.as_ref().unwrap().0.clone();
    let (_, b) = body(json!({"binds": [format!("{}/y:/y", bound(&allowed))], "start": true}));
    let (resp, running) = create(&agent, &token, &b).await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    let running = running.unwrap();
    docker(&["pause", &running.0]);

    std::fs::remove_dir_all(allowed.join("x")).unwrap();
    std::os::unix::fs::symlink("/", allowed.join("x")).unwrap();
    std::fs::remove_dir_all(allowed.join("y")).unwrap();
    std::os::unix::fs::symlink("/etc", allowed.join("y")).unwrap();

    for action in ["start", "restart"] {
        let resp = act(&agent, &operator, &id, action).await;
        assert_eq!(resp.status, 403, "{action}: {:?}", resp.body);
        assert!(
            detail(&resp).contains("leads to '/etc'"),
            "{}",
            detail(&resp)
        );
        assert_eq!(inspect(&id, "{{.State.Running}}"), "false", "{action}");
    }
    let resp = act(&agent, &operator, &running.0, "unpause").await;
    assert_eq!(resp.status, 403, "unpause: {:?}", resp.body);
    assert_eq!(inspect(&running.0, "{{.State.Paused}}"), "true");

    // Put back as it was, the same container starts.
    std::fs::remove_file(allowed.join("x")).unwrap();
    std::fs::create_dir_all(allowed.join("x/etc")).unwrap();
    let resp = act(&agent, &operator, &id, "start").await;
    assert_eq!(resp.status, 200, "{:?}", resp.body);
}

#[tokio::test]
async fn an_allowed_directory_the_agent_cannot_see_refuses_host_binds_with_the_fix() {
    let allowed = temp_dir("allowed");
    std::fs::create_dir_all(allowed.join("data")).unwrap();
    let source = format!("{}/data:/data", bound(&allowed));
    let vars = test_vars(&[
        ("ALLOW_BIND_MOUNTS_FROM", &bound(&allowed)),
        ("RATE_LIMIT_ENABLED", "false"),
    ]);

    // The agent in a container without the directory mounted: it cannot look.
    let blind = Container::run(&[], &["wait"]);
    let config = Config::from_vars(&vars).unwrap();
    let agent = Agent::serve(App::in_container(config, Some(blind.id.clone()))).await;
    let token = agent.token().await;
    let (name, b) = body(json!({"binds": [source.clone()]}));
    let (resp, _made) = create(&agent, &token, &b).await;
    assert_eq!(resp.status, 403, "{:?}", resp.body);
    let fix = format!("-v {0}:{0}:ro", bound(&allowed));
    assert!(detail(&resp).contains(&fix), "{}", detail(&resp));
    assert!(!exists("container", &name));

    // Mounted at the same path, it can.
    let seeing = Container::run(&["-v", &format!("{0}:{0}:ro", bound(&allowed))], &["wait"]);
    let config = Config::from_vars(&vars).unwrap();
    let agent = Agent::serve(App::in_container(config, Some(seeing.id.clone()))).await;
    let token = agent.token().await;
    let (_, b) = body(json!({"binds": [source]}));
    let (resp, _made) = create(&agent, &token, &b).await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
}

#[tokio::test]
async fn an_image_id_is_judged_by_the_image_it_means() {
    // An image known only by a name outside IMAGE_ALLOW.
    let source = Container::create(&[], &["wait"]);
    let outside = format!("127.0.0.1:5000/{}:1", unique_name("outside"));
    docker(&["commit", &source.id, &outside]);
    struct Untag(String);
    impl Drop for Untag {
        fn drop(&mut self) {
            let _ = std::process::Command::new("docker")
                .args(["rmi", "-f", &self.0])
                .output();
        }
    }
    let _untag = Untag(outside.clone());
    let agent = Agent::start(&[
        ("IMAGE_ALLOW", "library/*"),
        ("RATE_LIMIT_ENABLED", "false"),
    ])
    .await;
    let token = agent.token().await;

    let id = docker(&["image", "inspect", "--format", "{{.Id}}", &outside]);
    let hex = id.strip_prefix("sha256:").unwrap();
    for reference in [id.clone(), hex[..12].to_string(), hex[..8].to_string()] {
        let (name, mut b) = body(json!({}));
        b["image"] = json!(reference);
        let (resp, _made) = create(&agent, &token, &b).await;
        assert_eq!(resp.status, 403, "{reference}: {:?}", resp.body);
        assert_eq!(
            detail(&resp),
            format!("IMAGE_ALLOW does not allow the image '{reference}'")
        );
        assert!(!exists("container", &name), "{reference}");
    }

    // The test image is docker-agent-testbox, one of library/*: its id is allowed.
    let allowed_id = docker(&["image", "inspect", "--format", "{{.Id}}", image()]);
    let (_, mut b) = body(json!({}));
    b["image"] = json!(allowed_id[7..19]);
    let (resp, made) = create(&agent, &token, &b).await;
    assert_eq!(
        resp.status, 201,
        "an id of an allowed image: {:?}",
        resp.body
    );
    assert_eq!(inspect(&made.unwrap().0, "{{.Image}}"), allowed_id);
}

#[tokio::test]
async fn volumes_of_containers_outside_the_scope_and_unclaimed_ones_are_refused() {
    let scope = format!("docker-agent-test.scope={}", unique_name("s"));
    let agent = Agent::start(&[("SCOPE_LABEL", &scope), ("RATE_LIMIT_ENABLED", "false")]).await;
    let token = agent.token().await;

    let outdata = Volume::create(&[]);
    let _outside = Container::run(&["-v", &format!("{}:/d", outdata.0)], &["wait"]);
    let unused = Volume::create(&[]);
    for volume in [&outdata.0, &unused.0] {
        let (name, b) = body(json!({"binds": [format!("{volume}:/d")]}));
        let (resp, _made) = create(&agent, &token, &b).await;
        assert_eq!(resp.status, 403, "{volume}: {:?}", resp.body);
        assert!(
            detail(&resp).contains("is outside the agent's scope"),
            "{}",
            detail(&resp)
        );
        assert!(!exists("container", &name));
    }

    // A volume that does not exist is made for the scope, and stays its own.
    let fresh = Volume::expected();
    let (_, b) = body(json!({"binds": [format!("{}:/d", fresh.0)]}));
    let (resp, first) = create(&agent, &token, &b).await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    let labels: serde_json::Value = serde_json::from_str(&docker(&[
        "volume",
        "inspect",
        "--format",
        "{{json .Labels}}",
        &fresh.0,
    ]))
    .unwrap();
    let (key, value) = scope.split_once('=').unwrap();
    assert_eq!(labels[key], value, "{labels}");
    assert_eq!(labels["docker-agent.created-by"], "Docker Agent");
    drop(first);
    let (_, b) = body(json!({"binds": [format!("{}:/d", fresh.0)]}));
    let (resp, _second) = create(&agent, &token, &b).await;
    assert_eq!(
        resp.status, 201,
        "the scope's own volume, unused again: {:?}",
        resp.body
    );

    // A create that fails leaves no volume behind.
    let taken = Container::create(&[], &["wait"]);
    let never = Volume::expected();
    let (_, mut b) = body(json!({"binds": [format!("{}:/d", never.0)]}));
    b["name"] = json!(taken.name);
    let (resp, _made) = create(&agent, &token, &b).await;
    assert_eq!(resp.status, 409, "{:?}", resp.body);
    assert!(
        !exists("volume", &never.0),
        "the volume made for it is gone"
    );
}

#[tokio::test]
async fn a_volume_whose_options_bind_a_host_path_is_judged_as_that_path() {
    let allowed = temp_dir("allowed");
    std::fs::create_dir_all(allowed.join("data")).unwrap();
    let agent = Agent::start(&[
        ("ALLOW_BIND_MOUNTS_FROM", &bound(&allowed)),
        ("RATE_LIMIT_ENABLED", "false"),
    ])
    .await;
    let token = agent.token().await;
    let bind = |device: &str| {
        Volume::create(&[
            "--driver",
            "local",
            "-o",
            "type=none",
            "-o",
            "o=bind",
            "-o",
            &format!("device={device}"),
        ])
    };
    let etc = bind("/etc");
    let (name, b) = body(json!({"binds": [format!("{}:/d", etc.0)]}));
    let (resp, _made) = create(&agent, &token, &b).await;
    assert_eq!(resp.status, 403, "{:?}", resp.body);
    assert_eq!(
        detail(&resp),
        format!(
            "'binds' (the volume '{}'): the host path '/etc' is not under ALLOW_BIND_MOUNTS_FROM ({}); \
             an operator can allow it there or with ALLOW_HOST_ACCESS=true",
            etc.0,
            bound(&allowed)
        )
    );
    assert!(!exists("container", &name));

    let data = bind(&format!("{}/data", bound(&allowed)));
    let (_, b) = body(json!({"binds": [format!("{}:/d", data.0)]}));
    let (resp, made) = create(&agent, &token, &b).await;
    assert_eq!(resp.status, 201, "{:?}", resp.body);
    let made = made.unwrap();

    // Its directory swapped for a link, it no longer starts.
    std::fs::remove_dir_all(allowed.join("data")).unwrap();
    std::os::unix::fs::symlink("/etc", allowed.join("data")).unwrap();
    let auth = bearer(&token);
    let resp = agent
        .request(
            Method::POST,
            &format!("/api/v1/containers/{}/start", made.0),
            &[("authorization", &auth)],
            b"",
        )
        .await;
    assert_eq!(resp.status, 403, "{:?}", resp.body);
    assert!(
        detail(&resp).contains("leads to '/etc'"),
        "{}",
        detail(&resp)
    );
}
