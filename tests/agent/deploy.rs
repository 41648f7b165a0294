//! What users deploy: the FROM-scratch image (non-root, healthy, refusing
//! to stop itself, clean stop, deaf to a loopback `HOST` from an env file,
//! its `TLS_AUTO` certificate kept in a mounted directory),
//! the compose file, the Swarm stack (pushed to the local registry and
//! deployed on a one-node swarm) and the Kubernetes DaemonSet (checked
//! field by field; no cluster here).

use crate::util::*;
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

const IMAGE: &str = "docker-agent:latest";

fn repo() -> &'static str {
    env!("CARGO_MANIFEST_DIR")
}

/// Builds the image with `make image` unless it is already there.
fn ensure_image() {
    let have = Command::new("docker")
        .args(["image", "inspect", IMAGE])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        let status = Command::new("make")
            .args(["-s", "image"])
            .current_dir(repo())
            .status()
            .expect("make");
        assert!(status.success(), "make image failed");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn socket_gid() -> String {
    let socket = docker_host().trim_start_matches("unix://").to_string();
    let out = Command::new("stat")
        .args(["-c", "%g", &socket])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Polls `check` once a second, at most `secs` times.
fn eventually(secs: u64, what: &str, mut check: impl FnMut() -> bool) {
    for _ in 0..secs {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    panic!("timed out waiting for {what}");
}

/// A labelled container of the image with the socket and its group, its
/// port 9000 published on a free loopback port, and `options`; returned
/// once its healthcheck passes, with that port.
fn run_healthy(name: &str, options: &[&str]) -> (Container, u16) {
    let port = free_port();
    let name = unique_name(name);
    let socket = docker_host().trim_start_matches("unix://").to_string();
    let (label, volume) = (
        format!("{LABEL}=1"),
        format!("{socket}:/var/run/docker.sock"),
    );
    let (gid, publish) = (socket_gid(), format!("127.0.0.1:{port}:9000"));
    let mut args = vec![
        "run", "-d", "--name", &name, "--label", &label, "-v", &volume,
    ];
    args.extend([
        "--group-add",
        &gid,
        "-p",
        &publish,
        "--health-interval",
        "1s",
    ]);
    args.extend(options);
    args.push(IMAGE);
    let id = docker(&args);
    let c = Container { id, name };
    eventually(60, "a healthy container", || {
        c.inspect("{{.State.Health.Status}}") == "healthy"
    });
    (c, port)
}

/// A YAML file as JSON, read by PyYAML.
fn yaml(path: &str) -> Value {
    let script =
        "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))";
    let out = Command::new("python3")
        .args(["-c", script, &format!("{}/{path}", repo())])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cannot parse {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_image_holds_only_the_binary_runs_non_root_refuses_to_stop_itself_and_stops_cleanly() {
    ensure_image();
    assert_eq!(
        docker(&["image", "inspect", "-f", "{{len .RootFS.Layers}}", IMAGE]),
        "1"
    );
    assert_eq!(
        docker(&["image", "inspect", "-f", "{{.Config.User}}", IMAGE]),
        "65532:65532"
    );
    let listing = Command::new("sh")
        .args([
            "-c",
            &format!("docker save {IMAGE} | tar -xO --wildcards '*/layer.tar' | tar -t"),
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&listing.stdout).trim(),
        "docker-agent",
        "nothing but the binary"
    );

    let password = format!("API_PASSWORD={PASSWORD}");
    let (c, port) = run_healthy(
        "image",
        &[
            "-e",
            &password,
            "--read-only",
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges:true",
        ],
    );
    let pid = c.inspect("{{.State.Pid}}");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert!(
        uid.split_whitespace().skip(1).all(|u| u == "65532"),
        "{uid}"
    );

    let base = format!("http://127.0.0.1:{port}");
    let login = Command::new("curl")
        .args([
            "-s",
            "-X",
            "POST",
            &format!("{base}/api/v1/auth/login"),
            "-d",
            &format!(r#"{{"username":"admin","password":"{PASSWORD}"}}"#),
        ])
        .output()
        .unwrap();
    let token: Value = serde_json::from_slice(&login.stdout).unwrap();
    let bearer = format!(
        "Authorization: Bearer {}",
        token["access_token"].as_str().unwrap()
    );
    let list = Command::new("curl")
        .args(["-s", "-H", &bearer, &format!("{base}/api/v1/containers/")])
        .output()
        .unwrap();
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert!(
        list["containers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["name"] == c.name.as_str()),
        "it sees itself"
    );
    let stop_itself = Command::new("curl")
        .args(["-s", "-w", " %{http_code}", "-X", "POST", "-H", &bearer])
        .arg(format!("{base}/api/v1/containers/{}/stop", c.name))
        .output()
        .unwrap();
    let answer = String::from_utf8_lossy(&stop_itself.stdout);
    assert!(
        answer.ends_with(" 409") && answer.contains("runs this agent"),
        "it found its own container and refuses to stop it: {answer}"
    );
    assert_eq!(c.status(), "running");

    docker(&["stop", &c.id]);
    assert_eq!(
        c.inspect("{{.State.ExitCode}}"),
        "0",
        "exited on SIGTERM within the grace period (a kill would be 137)"
    );
}

#[test]
fn building_an_image_runs_no_test_setup_and_installs_nothing() {
    for args in [
        vec!["-n", "image"],
        vec!["-n", "image", "TARGET=aarch64-unknown-linux-musl"],
    ] {
        let plan = run_ok(Command::new("make").args(&args).current_dir(repo()));
        assert!(plan.contains("scripts/static-build.sh"), "{plan}");
        assert!(plan.contains("docker build"), "{plan}");
        for installer in ["setup.sh", "apt-get", "pip", "dockerd", "registry.sh"] {
            assert!(
                !plan.contains(installer),
                "make {args:?} runs {installer}: {plan}"
            );
        }
    }
}

#[test]
fn the_image_serves_its_published_port_whatever_host_an_env_file_says() {
    ensure_image();
    let dir = temp_dir("env-file");
    let env_file = dir.join(".env");
    // A `.env` written for `cargo run` on the host, reused with --env-file.
    std::fs::write(
        &env_file,
        format!("HOST=127.0.0.1\nAPI_PASSWORD={PASSWORD}\nSECRET_KEY={SECRET}\n"),
    )
    .unwrap();
    let (c, port) = run_healthy("env-file", &["--env-file", &env_file.to_string_lossy()]);
    let (code, body) = curl(&[&format!("http://127.0.0.1:{port}/api/v1/healthz")]);
    assert_eq!(code, 0, "the published port answers");
    assert_eq!(body, r#"{"status":"ok","docker_connected":true}"#);
    let logs = run_ok(Command::new("sh").args(["-c", &format!("docker logs {} 2>&1", c.id)]));
    assert!(
        logs.contains(r#""address":"0.0.0.0:9000""#),
        "it listens on every address of the container: {logs}"
    );
}

#[test]
fn the_image_keeps_its_tls_auto_certificate_in_a_mounted_host_directory() {
    use std::os::unix::fs::{PermissionsExt, chown};
    ensure_image();
    // As the README's TLS section says: a host directory owned by the image's user.
    let kept = temp_dir("image-tls");
    chown(&kept, Some(65532), Some(65532)).unwrap();
    std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o700)).unwrap();
    let password = format!("API_PASSWORD={PASSWORD}");
    let options = |dir: &std::path::Path| {
        let mount = format!("{}:/tls", dir.display());
        let tls = [
            "-e",
            "TLS_AUTO=true",
            "-e",
            "TLS_AUTO_DIR=/tls",
            "-v",
            &mount,
        ];
        let hardened = [
            "--read-only",
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges:true",
        ];
        let mut all = vec!["-e".to_string(), password.clone()];
        all.extend(tls.iter().chain(&hardened).map(|s| s.to_string()));
        all
    };
    let fingerprint = |port: u16| {
        let script = format!(
            "openssl s_client -connect 127.0.0.1:{port} </dev/null 2>/dev/null | \
             openssl x509 -noout -fingerprint -sha256"
        );
        let out = run_ok(Command::new("sh").args(["-c", &script]));
        out.trim().split_once('=').unwrap().1.to_string()
    };
    let start = |dir: &std::path::Path| {
        let options = options(dir);
        let options: Vec<&str> = options.iter().map(String::as_str).collect();
        let (c, port) = run_healthy("image-tls", &options);
        let served = fingerprint(port);
        let logs = run_ok(Command::new("sh").args(["-c", &format!("docker logs {} 2>&1", c.id)]));
        assert!(
            logs.contains(&format!("TLS certificate SHA-256 fingerprint: {served}")),
            "{logs}"
        );
        served
    };
    let first = start(&kept);
    assert_eq!(
        start(&kept),
        first,
        "a new container serves the kept certificate"
    );
    assert!(kept.join("tls-auto-key.pem").exists());

    // A directory the image's user cannot write stops the start, saying why.
    let root_owned = temp_dir("image-tls-root");
    std::fs::set_permissions(&root_owned, std::fs::Permissions::from_mode(0o755)).unwrap();
    let name = unique_name("image-tls-denied");
    let label = format!("{LABEL}=1");
    let mut args = vec!["run", "-d", "--name", &name, "--label", &label];
    let options = options(&root_owned);
    args.extend(options.iter().map(String::as_str));
    args.push(IMAGE);
    let c = Container {
        id: docker(&args),
        name,
    };
    eventually(30, "the container to exit", || c.status() == "exited");
    assert_eq!(c.inspect("{{.State.ExitCode}}"), "2");
    let logs = run_ok(Command::new("sh").args(["-c", &format!("docker logs {} 2>&1", c.id)]));
    assert!(
        logs.contains("TLS_AUTO_DIR: /tls: cannot write there")
            && logs.contains("the agent runs as uid 65532"),
        "{logs}"
    );
}

/// The image pushed to the local registry (`tests/setup.sh` starts it on
/// 127.0.0.1:5000) under a tag of its own, and its local copy of that tag
/// removed, so that a node has to pull it: (reference, digest).
fn push_to_registry(tag: &str) -> (String, String) {
    let name = format!("127.0.0.1:5000/docker-agent:{tag}");
    docker(&["tag", IMAGE, &name]);
    let pushed = docker(&["push", &name]);
    docker(&["rmi", &name]);
    let digest = pushed
        .split_whitespace()
        .find(|w| w.starts_with("sha256:"))
        .expect("push prints the digest")
        .to_string();
    (name, digest)
}

#[test]
fn the_swarm_stack_pulls_the_image_from_a_registry_is_hardened_and_becomes_healthy() {
    ensure_image();
    let state = docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"]);
    let ours = state == "inactive";
    if ours {
        docker(&["swarm", "init", "--advertise-addr", "127.0.0.1"]);
    }
    let stack = unique_name("stack").replace('-', "_");
    let (image, digest) = push_to_registry(&stack);
    let port = free_port().to_string();
    let secrets = std::env::temp_dir().join(&stack);
    std::fs::create_dir_all(&secrets).unwrap();
    for (name, value) in [
        ("secret_key", SECRET),
        ("api_password", PASSWORD),
        ("mcp_api_key", MCP_KEY),
    ] {
        std::fs::write(secrets.join(name), format!("{value}\n")).unwrap();
    }
    let deploy = Command::new("docker")
        .args([
            "stack",
            "deploy",
            "-c",
            &format!("{}/deploy/swarm-stack.yaml", repo()),
            &stack,
        ])
        .envs([
            ("AGENT_IMAGE", image.clone()),
            ("DOCKER_GID", socket_gid()),
            ("AGENT_PORT", port.clone()),
            ("SECRETS_DIR", secrets.to_string_lossy().into_owned()),
        ])
        .output()
        .unwrap();
    let filter = format!("label=com.docker.stack.namespace={stack}");
    let healthy = deploy.status.success() && {
        let mut ok = false;
        for _ in 0..90 {
            if docker(&["ps", "--filter", &filter, "--format", "{{.Status}}"]).contains("(healthy)")
            {
                ok = true;
                break;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        ok
    };
    let task = docker(&["ps", "-q", "--filter", &filter]);
    let hardening = Command::new("docker")
        .args(["inspect", "-f"])
        .arg("{{.Config.Image}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.HostConfig.PidsLimit}} {{.HostConfig.Memory}} {{.Config.User}}")
        .arg(&task)
        .output()
        .unwrap();
    let probe = Command::new("curl")
        .args(["-s", &format!("http://127.0.0.1:{port}/api/v1/healthz")])
        .output()
        .unwrap();
    let login = Command::new("curl")
        .args([
            "-s",
            "-X",
            "POST",
            &format!("http://127.0.0.1:{port}/api/v1/auth/login"),
            "-d",
            &format!(r#"{{"username":"admin","password":"{PASSWORD}"}}"#),
        ])
        .output()
        .unwrap();
    let _ = Command::new("docker")
        .args(["stack", "rm", &stack])
        .output();
    let _ = std::fs::remove_dir_all(&secrets);
    if ours {
        let _ = Command::new("docker")
            .args(["swarm", "leave", "--force"])
            .output();
    }
    let deployed = format!(
        "{}{}",
        String::from_utf8_lossy(&deploy.stdout),
        String::from_utf8_lossy(&deploy.stderr)
    );
    assert!(deploy.status.success(), "stack deploy: {deployed}");
    assert!(
        !deployed.contains("Ignoring unsupported options"),
        "every setting of the stack is applied: {deployed}"
    );
    assert!(healthy, "the global service's task became healthy");
    assert_eq!(
        String::from_utf8_lossy(&hardening.stdout).trim(),
        format!(
            "{image}@{digest} true [ALL] 64 67108864 65532:{}",
            socket_gid()
        ),
        "pulled from the registry by digest, read-only, no capabilities, pids and memory limits"
    );
    assert_eq!(
        String::from_utf8_lossy(&probe.stdout),
        r#"{"status":"ok","docker_connected":true}"#
    );
    let login = String::from_utf8_lossy(&login.stdout);
    assert!(
        login.contains("access_token"),
        "the password came from its Swarm secret: {login}"
    );
    let _ = Command::new("docker")
        .args(["rmi", &format!("{image}@{digest}")])
        .output();
}

#[test]
fn the_kubernetes_daemonset_is_hardened_and_probed() {
    let docs = yaml("deploy/kubernetes.yaml");
    let ds = &docs[0];
    assert_eq!(ds["kind"], "DaemonSet");
    let pod = &ds["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], 65532);
    let c = &pod["containers"][0];
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(c["securityContext"]["capabilities"]["drop"][0], "ALL");
    // Liveness asks only whether the process answers (/healthz is 200 even
    // when Docker is not); readiness runs the healthcheck subcommand, which
    // fails while Docker is unreachable.
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/api/v1/healthz");
    assert_eq!(c["livenessProbe"]["httpGet"]["port"], 9000);
    assert!(c["readinessProbe"]["httpGet"].is_null());
    assert_eq!(
        c["readinessProbe"]["exec"]["command"],
        serde_json::json!(["/docker-agent", "healthcheck"])
    );
    assert!(c["readinessProbe"]["timeoutSeconds"].as_u64().unwrap() >= 5);
    assert_eq!(
        pod["volumes"][0]["hostPath"]["path"],
        "/var/run/docker.sock"
    );
    assert_eq!(c["volumeMounts"][0]["mountPath"], "/var/run/docker.sock");
    // Secrets arrive as files from the Secret, never as environment values.
    assert!(c["envFrom"].is_null(), "no secret in the environment");
    assert_eq!(pod["volumes"][1]["secret"]["secretName"], "docker-agent");
    assert_eq!(pod["volumes"][1]["secret"]["defaultMode"], 0o440);
    assert_eq!(pod["securityContext"]["fsGroup"], 65532);
    let mount = &c["volumeMounts"][1];
    assert_eq!(mount["name"], pod["volumes"][1]["name"]);
    assert_eq!(mount["readOnly"], true);
    let dir = mount["mountPath"].as_str().unwrap();
    let env: Vec<(String, String)> = c["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().into(),
                e["value"].as_str().unwrap().into(),
            )
        })
        .collect();
    for secret in ["SECRET_KEY", "API_PASSWORD", "MCP_API_KEY"] {
        assert!(
            env.contains(&(format!("{secret}_FILE"), format!("{dir}/{secret}"))),
            "{secret}_FILE names the Secret's key in the mount: {env:?}"
        );
        assert!(env.iter().all(|(name, _)| name != secret), "{env:?}");
    }
}

#[test]
fn the_compose_file_has_safe_defaults() {
    let compose = &yaml("compose.yaml")[0]["services"]["docker-agent"];
    assert_eq!(compose["ports"][0], "127.0.0.1:9000:9000", "loopback only");
    assert_eq!(compose["read_only"], true);
    assert_eq!(compose["cap_drop"][0], "ALL");
    assert_eq!(compose["security_opt"][0], "no-new-privileges:true");
    assert!(
        compose["group_add"][0]
            .as_str()
            .unwrap()
            .contains("DOCKER_GID")
    );
    assert_eq!(
        compose["volumes"][0],
        "/var/run/docker.sock:/var/run/docker.sock"
    );
    assert_eq!(compose["env_file"][0]["path"], ".env");
    assert_eq!(compose["env_file"][0]["required"], false);
    let top = &yaml("compose.yaml")[0]["secrets"];
    for (var, secret) in [
        ("SECRET_KEY", "secret_key"),
        ("API_PASSWORD", "api_password"),
        ("MCP_API_KEY", "mcp_api_key"),
    ] {
        assert_eq!(
            compose["environment"][format!("{var}_FILE")],
            format!("/run/secrets/{secret}")
        );
        assert!(compose["environment"][var].is_null(), "{var} not inline");
        assert!(
            compose["secrets"]
                .as_array()
                .unwrap()
                .contains(&Value::from(secret)),
            "{secret} given to the service"
        );
        assert_eq!(top[secret]["file"], format!("./secrets/{secret}"));
    }
}
