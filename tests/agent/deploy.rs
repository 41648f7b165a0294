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
    let c = Container::adopt(&Daemon::main(), id, name);
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
fn the_readme_opens_with_run_and_test_and_says_what_make_test_does_to_the_machine() {
    let readme = doc("README.md");
    let first = doc_block("README.md", "bash", "");
    let commands: Vec<&str> = first.lines().collect();
    assert_eq!(commands.len(), 2, "{first}");
    assert!(commands[0].starts_with("cargo run --release "), "{first}");
    assert!(commands[1].starts_with("make test "), "{first}");
    // Beside it, before anything else: what `make test` does, which is what
    // its plan and tests/setup.sh do.
    let beside = readme
        .split_once(first.as_str())
        .and_then(|(_, rest)| rest.split("\n\n").nth(1))
        .unwrap();
    // Read, not run: `make -n` still runs a recipe line that calls $(MAKE).
    let makefile = std::fs::read_to_string(format!("{}/Makefile", repo())).unwrap();
    let recipe = makefile
        .split("\ntest: ")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("the Makefile's test target");
    assert!(recipe.contains("bash tests/setup.sh"), "{recipe}");
    let setup = std::fs::read_to_string(format!("{}/tests/setup.sh", repo())).unwrap();
    for (said, done) in [
        ("apt-get install", "apt-get install"),
        ("pip install", "pip install"),
        ("dockerd", "nohup dockerd"),
        ("127.0.0.1:5000", "registry.sh"),
    ] {
        assert!(beside.contains(said), "the README says {said}: {beside}");
        assert!(setup.contains(done), "setup.sh does {done}");
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
    // Its port is published on loopback, which it cannot see from inside:
    // the warning says so and names the setting that acknowledges it.
    assert!(
        logs.contains("inside a container, which cannot see where Docker publishes its port")
            && logs.contains("PLAIN_HTTP_EXPOSURE=loopback"),
        "{logs}"
    );
    assert!(
        !logs.contains("other machines can reach"),
        "not told that other machines reach it: {logs}"
    );
}

#[test]
fn the_image_keeps_its_tls_auto_certificate_in_a_mounted_host_directory() {
    use std::os::unix::fs::{PermissionsExt, chown};
    ensure_image();
    // As docs/tls.md says: a host directory owned by the image's user.
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
    let c = Container::adopt(&Daemon::main(), docker(&args), name);
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

/// A stack deployed from `deploy/swarm-stack.yaml` on this machine's swarm
/// (initialised for it when the daemon is in none, and left after), with
/// the secrets and fleet certificates it was given; removed, with them and
/// its image, when dropped, even on panic.
struct Stack {
    name: String,
    /// Whether the swarm was made for this stack.
    ours: bool,
    /// The files its secrets were made from: `secrets/` and `fleet/`.
    dir: std::path::PathBuf,
    /// The image it pulled, by digest.
    image: Option<String>,
}

impl Stack {
    /// The swarm, a stack name and a directory for its files.
    fn new() -> Stack {
        let state = docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"]);
        let ours = state == "inactive";
        if ours {
            docker(&["swarm", "init", "--advertise-addr", "127.0.0.1"]);
        }
        let name = unique_name("stack").replace('-', "_");
        let dir = temp_dir(&name);
        Stack {
            name,
            ours,
            dir,
            image: None,
        }
    }

    /// `docker stack deploy` of the stack file with `env`: what it said.
    fn deploy(&self, env: &[(&str, String)]) -> Result<String, String> {
        let (ok, said) = run_said(
            Command::new("docker")
                .args(["stack", "deploy", "-c"])
                .arg(format!("{}/deploy/swarm-stack.yaml", repo()))
                .arg(&self.name)
                .envs(env.iter().map(|(k, v)| (k, v))),
        );
        if ok { Ok(said) } else { Err(said) }
    }

    /// The filter that finds the stack's containers.
    fn filter(&self) -> String {
        format!("label=com.docker.stack.namespace={}", self.name)
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["stack", "rm", &self.name])
            .output();
        // Its task stops after `stack rm` returns; the image is free then.
        for _ in 0..60 {
            let left = Command::new("docker")
                .args(["ps", "-aq", "--filter", &self.filter()])
                .output();
            if left.is_ok_and(|o| o.stdout.is_empty()) {
                break;
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        if self.ours {
            let _ = Command::new("docker")
                .args(["swarm", "leave", "--force"])
                .output();
        }
        if let Some(image) = &self.image {
            let _ = Command::new("docker").args(["rmi", image]).output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The environment of process `pid`, as (name, value) pairs.
fn environ(pid: &str) -> Vec<(String, String)> {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    String::from_utf8_lossy(&environ)
        .split('\0')
        .filter_map(|e| e.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Runs the shell image's busybox `args` in a labelled container on
/// `network`, removed when it ends: what it printed.
fn on_network(network: &str, args: &[&str]) -> String {
    let label = format!("{LABEL}=1");
    let mut all = vec!["run", "--rm", "--label", &label, "--network", network];
    all.push(shell_image());
    all.extend(args);
    docker(&all)
}

#[test]
fn the_swarm_stack_pulls_the_image_from_a_registry_is_hardened_and_becomes_healthy() {
    ensure_image();
    let mut stack = Stack::new();
    let (image, digest) = push_to_registry(&stack.name);
    stack.image = Some(format!("{image}@{digest}"));
    let port = free_port().to_string();
    let secrets = stack.dir.join("secrets");
    std::fs::create_dir_all(&secrets).unwrap();
    for (name, value) in [
        ("secret_key", SECRET),
        ("api_password", PASSWORD),
        ("mcp_api_key", MCP_KEY),
        ("metrics_token", METRICS_TOKEN),
    ] {
        std::fs::write(secrets.join(name), format!("{value}\n")).unwrap();
    }
    // The fleet's CA and the service's one certificate, as docs/fleet.md
    // says to issue them for the stack.
    let fleet = issue_fleet_certificates(&stack.dir, &["docker-agent"]);
    let deployed = stack
        .deploy(&[
            ("AGENT_IMAGE", image.clone()),
            ("DOCKER_GID", socket_gid()),
            ("AGENT_PORT", port.clone()),
            ("SECRETS_DIR", secrets.to_string_lossy().into_owned()),
            ("FLEET_DIR", fleet.to_string_lossy().into_owned()),
        ])
        .unwrap_or_else(|said| panic!("stack deploy: {said}"));
    assert!(
        !deployed.contains("Ignoring unsupported options"),
        "every setting of the stack is applied: {deployed}"
    );
    eventually(90, "the global service's task to become healthy", || {
        docker(&["ps", "--filter", &stack.filter(), "--format", "{{.Status}}"])
            .contains("(healthy)")
    });
    let task = docker(&["ps", "-q", "--filter", &stack.filter()]);
    assert_eq!(
        docker(&[
            "inspect",
            "-f",
            "{{.Config.Image}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.HostConfig.PidsLimit}} {{.HostConfig.Memory}} {{.Config.User}}",
            &task
        ]),
        format!(
            "{image}@{digest} true [ALL] 64 67108864 65532:{}",
            socket_gid()
        ),
        "pulled from the registry by digest, read-only, no capabilities, pids and memory limits"
    );
    let (code, probe) = curl(&[&format!("http://127.0.0.1:{port}/api/v1/healthz")]);
    assert_eq!(
        (code, probe.as_str()),
        (0, r#"{"status":"ok","docker_connected":true}"#)
    );
    let login = curl_login(&format!("http://127.0.0.1:{port}"), PASSWORD);
    assert!(
        login.contains("access_token"),
        "the password came from its Swarm secret: {login}"
    );

    // Each *_FILE setting names a file the task holds, the agent's alone,
    // with what was deployed: the secrets and the fleet's certificates.
    let pid = docker(&["inspect", "-f", "{{.State.Pid}}", &task]);
    let env = environ(&pid);
    let setting = |name: &str| {
        env.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{name} is not set: {env:?}"))
    };
    for (name, source) in [
        ("SECRET_KEY_FILE", secrets.join("secret_key")),
        ("API_PASSWORD_FILE", secrets.join("api_password")),
        ("MCP_API_KEY_FILE", secrets.join("mcp_api_key")),
        ("METRICS_TOKEN_FILE", secrets.join("metrics_token")),
        ("FLEET_CA_FILE", fleet.join("ca.pem")),
        ("FLEET_CERT_FILE", fleet.join("docker-agent.pem")),
        ("FLEET_KEY_FILE", fleet.join("docker-agent.key")),
    ] {
        use std::os::unix::fs::MetadataExt;
        let path = setting(name);
        let inside = format!("/proc/{pid}/root{path}");
        let held = std::fs::read(&inside).unwrap_or_else(|e| panic!("{name}={path}: {e}"));
        assert_eq!(held, std::fs::read(&source).unwrap(), "{name}={path}");
        let meta = std::fs::metadata(&inside).unwrap();
        assert_eq!(
            (meta.uid(), meta.mode() & 0o777),
            (65532, 0o400),
            "{name}={path}"
        );
    }
    assert!(
        !env.iter().any(|(_, v)| v.contains("BEGIN")),
        "no key or certificate in the environment"
    );

    // The fleet: the agents' overlay network, which others may join, and
    // the name FLEET_DNS gives, which Swarm resolves on it to every task.
    let network = format!("{}_fleet", stack.name);
    assert_eq!(
        docker(&[
            "network",
            "inspect",
            "-f",
            "{{.Driver}} {{.Attachable}} {{.Scope}}",
            &network
        ]),
        "overlay true swarm"
    );
    let dns = setting("FLEET_DNS");
    let (name, fleet_port) = dns.split_once(':').unwrap();
    assert_eq!((name, fleet_port), ("tasks.docker-agent", "9001"));
    let task_ip = docker(&[
        "inspect",
        "-f",
        &format!("{{{{(index .NetworkSettings.Networks \"{network}\").IPAddress}}}}"),
        &task,
    ]);
    let answer = on_network(&network, &["nslookup", "-type=a", name]);
    let resolved: Vec<&str> = answer
        .split("Name:")
        .skip(1)
        .filter_map(|record| record.split("Address:").nth(1))
        .map(str::trim)
        .collect();
    assert_eq!(resolved, [task_ip.as_str()], "{answer}");
    // What Prometheus on that network scrapes, as docs/fleet.md configures it.
    let metrics = on_network(
        &network,
        &[
            "wget",
            "-qO-",
            "--header",
            &format!("Authorization: Bearer {METRICS_TOKEN}"),
            &format!("http://{name}:9000/metrics"),
        ],
    );
    assert!(metrics.contains("docker_agent_build_info{"), "{metrics}");

    // The agent is a member: FLEET_DNS gives it its own task, which it
    // finds is itself and drops, so it lists its host alone, up.
    let token: Value = serde_json::from_str(&login).unwrap();
    let bearer = format!(
        "Authorization: Bearer {}",
        token["access_token"].as_str().unwrap()
    );
    let hosts_url = format!("http://127.0.0.1:{port}/api/v1/hosts");
    let mut listed = Value::Null;
    eventually(30, "the fleet to find the task is this agent", || {
        listed = serde_json::from_str(&curl(&["-H", &bearer, &hosts_url]).1).unwrap_or_default();
        // The local host's id comes with the first probe round, which
        // resolves FLEET_DNS first.
        let done =
            listed["fleet"] == true && listed["total"] == 1 && listed["hosts"][0]["id"].is_string();
        if !done {
            eprintln!("hosts so far: {listed}");
        }
        done
    });
    assert_eq!(listed["hosts"][0]["source"], "local", "{listed:#}");
    assert_eq!(listed["hosts"][0]["state"], "up", "{listed:#}");
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
        .filter_map(|e| Some((e["name"].as_str()?.into(), e["value"].as_str()?.into())))
        .collect();
    for secret in ["SECRET_KEY", "API_PASSWORD", "MCP_API_KEY", "METRICS_TOKEN"] {
        assert!(
            env.contains(&(format!("{secret}_FILE"), format!("{dir}/{secret}"))),
            "{secret}_FILE names the Secret's key in the mount: {env:?}"
        );
        assert!(env.iter().all(|(name, _)| name != secret), "{env:?}");
    }
}

#[test]
fn the_kubernetes_manifest_passes_kubernetes_schemas_and_a_headless_service_gathers_its_pods_as_a_fleet()
 {
    // Kubernetes's own schemas, strictly (an unknown or misplaced field
    // fails): kubernetes-validate, from tests/requirements.txt.
    let file = format!("{}/deploy/kubernetes.yaml", repo());
    let checked = Command::new("kubernetes-validate")
        .args(["--strict", &file])
        .output()
        .expect("kubernetes-validate: run tests/setup.sh (tests/requirements.txt)");
    assert!(
        checked.status.success(),
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    let docs = yaml("deploy/kubernetes.yaml");
    let kind = |k: &str| {
        docs.as_array()
            .unwrap()
            .iter()
            .find(|d| d["kind"] == k)
            .unwrap_or_else(|| panic!("a {k}"))
            .clone()
    };
    let (ds, svc) = (kind("DaemonSet"), kind("Service"));
    assert_eq!(
        svc["spec"]["clusterIP"], "None",
        "headless: a record per pod"
    );
    assert_eq!(
        svc["spec"]["publishNotReadyAddresses"], true,
        "a pod that cannot reach Docker stays a member"
    );
    let labels = &ds["spec"]["template"]["metadata"]["labels"];
    let selector = svc["spec"]["selector"].as_object().unwrap();
    assert!(!selector.is_empty());
    for (key, value) in selector {
        assert_eq!(
            &labels[key], value,
            "the Service selects the DaemonSet's pods"
        );
    }
    let c = &ds["spec"]["template"]["spec"]["containers"][0];
    let port = |ports: &Value, name: &str| {
        ports
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("a port {name}: {ports}"))
            .clone()
    };
    let (served, listened) = (
        port(&svc["spec"]["ports"], "fleet"),
        port(&c["ports"], "fleet"),
    );
    assert_eq!(
        (&served["port"], &served["targetPort"]),
        (&Value::from(9001), &Value::from("fleet"))
    );
    assert_eq!(listened["containerPort"], 9001);
    assert!(
        listened["hostPort"].is_null(),
        "pod to pod, not on the node's address"
    );

    let env = c["env"].as_array().unwrap();
    let at = |name: &str| {
        env.iter()
            .position(|e| e["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {env:?}"))
    };
    let namespace = &env[at("POD_NAMESPACE")];
    assert_eq!(
        namespace["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.namespace"
    );
    assert!(
        at("POD_NAMESPACE") < at("FLEET_DNS"),
        "defined before it is used"
    );
    assert_eq!(
        env[at("FLEET_DNS")]["value"],
        format!(
            "{}.$(POD_NAMESPACE).svc.cluster.local:9001",
            svc["metadata"]["name"].as_str().unwrap()
        )
    );
    assert_eq!(env[at("FLEET_PORT")]["value"], "9001");

    // The certificates: the Secret docs/fleet.md makes, mounted as files
    // that the FLEET_*_FILE settings name by the keys it gives them.
    let pod = &ds["spec"]["template"]["spec"];
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["secret"]["secretName"] == "docker-agent-fleet")
        .expect("the fleet's Secret as a volume");
    assert_eq!(volume["secret"]["defaultMode"], 0o440);
    let mount = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == volume["name"])
        .expect("mounted");
    assert_eq!(mount["readOnly"], true);
    let dir = mount["mountPath"].as_str().unwrap();
    let made = doc_block(
        "docs/fleet.md",
        "bash",
        "kubectl create secret generic docker-agent-fleet",
    );
    let keys: Vec<&str> = made
        .split("--from-file=")
        .skip(1)
        .filter_map(|rest| rest.split_once('=').map(|(key, _)| key))
        .collect();
    assert_eq!(keys, ["ca.pem", "cert.pem", "key.pem"], "{made}");
    for (setting, key) in ["FLEET_CA_FILE", "FLEET_CERT_FILE", "FLEET_KEY_FILE"]
        .iter()
        .zip(keys)
    {
        assert_eq!(env[at(setting)]["value"], format!("{dir}/{key}"));
    }
}

#[test]
fn the_compose_file_has_safe_defaults() {
    let compose = &yaml("compose.yaml")[0]["services"]["docker-agent"];
    assert_eq!(
        compose["ports"][0], "127.0.0.1:${AGENT_PORT:-9000}:9000",
        "loopback only"
    );
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
    // Compose v1 knows no optional env_file: .env reaches the agent through
    // the names listed without a value, which both versions fill from it.
    assert!(compose["env_file"].is_null(), "v1 cannot load {compose}");
    let env = compose["environment"].as_object().unwrap();
    let mut passed: Vec<&str> = env
        .iter()
        .filter(|(_, value)| value.is_null())
        .map(|(name, _)| name.as_str())
        .collect();
    // Not passed on: HOST and PORT (the image listens on 0.0.0.0:9000, which
    // is what `ports` publishes), DOCKER_HOST (the socket is mounted; a shell
    // pointing the docker CLI at another daemon must not redirect the
    // agent), the secrets (files only, and the metrics token's file is not
    // one the file mounts) and what the file sets itself.
    let kept_out = [
        "HOST",
        "PORT",
        "DOCKER_HOST",
        "SECRET_KEY",
        "API_PASSWORD",
        "MCP_API_KEY",
        "METRICS_TOKEN",
        "METRICS_TOKEN_FILE",
    ];
    let settings = documented_settings();
    let mut expected: Vec<&str> = settings
        .iter()
        .map(String::as_str)
        .filter(|s| !kept_out.contains(s) && env.get(*s).is_none_or(|v| v.is_null()))
        .collect();
    passed.sort_unstable();
    expected.sort_unstable();
    assert_eq!(
        passed, expected,
        "every other setting of docs/configuration.md's table is taken from .env"
    );
    assert_eq!(
        env["PLAIN_HTTP_EXPOSURE"], "loopback",
        "the loopback-only port is acknowledged"
    );
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
        assert!(!env.contains_key(var), "{var} not inline nor from .env");
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

/// The repository's `compose.yaml` as a project of one Compose — v1's
/// `docker-compose` or v2's `docker compose` (both installed by
/// `tests/setup.sh`) — with a unique name and a directory of its own (the
/// `secrets/` a user writes, and `.env` when a test writes one), the agent
/// published on a free loopback port (`AGENT_PORT`), and an override file
/// that adds the test label and a 1 s healthcheck. Brought down, volumes and
/// network included, when dropped, even on panic.
struct Compose {
    command: &'static [&'static str],
    project: String,
    dir: std::path::PathBuf,
    port: u16,
}

impl Compose {
    fn new(command: &'static [&'static str]) -> Compose {
        let project = unique_name("compose").replace('-', "");
        let dir = temp_dir(&project);
        let secrets = dir.join("secrets");
        std::fs::create_dir(&secrets).unwrap();
        let gid: u32 = socket_gid().parse().unwrap();
        for (name, value) in [
            ("secret_key", SECRET),
            ("api_password", PASSWORD),
            ("mcp_api_key", MCP_KEY),
        ] {
            // As docs/deployment.md says: readable by the socket's group alone.
            use std::os::unix::fs::PermissionsExt;
            let file = secrets.join(name);
            std::fs::write(&file, format!("{value}\n")).unwrap();
            std::os::unix::fs::chown(&file, None, Some(gid)).unwrap();
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o440)).unwrap();
        }
        std::fs::write(
            dir.join("test.yaml"),
            format!(
                "services:\n  docker-agent:\n    labels:\n      {LABEL}: \"1\"\n    healthcheck:\n      interval: 1s\n"
            ),
        )
        .unwrap();
        Compose {
            command,
            project,
            dir,
            port: free_port(),
        }
    }

    /// Runs the Compose command with `args` on this project, in a clean
    /// environment (nothing of the test runner's reaches the agent).
    fn run(&self, args: &[&str]) -> std::process::Output {
        let (program, command) = self.command.split_first().unwrap();
        let dir = self.dir.to_string_lossy();
        let file = format!("{}/compose.yaml", repo());
        let test_file = format!("{dir}/test.yaml");
        Command::new(program)
            .args(command.iter())
            .args(["-p", &self.project, "--project-directory", &dir])
            .args(["-f", &file, "-f", &test_file])
            .args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", std::env::var("HOME").unwrap_or("/root".into()))
            .env("DOCKER_HOST", docker_host())
            .env("DOCKER_GID", socket_gid())
            .env("AGENT_PORT", self.port.to_string())
            .output()
            .unwrap()
    }

    /// Runs `args`, which must succeed: stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{:?} {args:?}: {}{}",
            self.command,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The project's containers (Compose labels them with the project).
    fn containers(&self) -> Vec<String> {
        let filter = format!("label=com.docker.compose.project={}", self.project);
        docker(&["ps", "-aq", "--filter", &filter])
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Compose {
    fn drop(&mut self) {
        let _ = self.run(&["down", "-v", "--remove-orphans", "-t", "5"]);
        for id in self.containers() {
            let _ = Command::new("docker").args(["rm", "-f", &id]).output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `compose.yaml` loads with `command` (whose version starts with `major`)
/// without a `.env`, as a new user has none; the stack comes up healthy
/// with the secrets from their files; a `.env` then passes its settings on.
fn compose_loads_and_comes_up(command: &'static [&'static str], major: &str) {
    ensure_image();
    let compose = Compose::new(command);
    let version = compose.ok(&["version", "--short"]);
    assert!(
        version.trim().trim_start_matches('v').starts_with(major),
        "{command:?} is Compose {major}: {version}"
    );
    let config = compose.ok(&["config"]);
    assert!(
        config.contains("SECRET_KEY_FILE") && config.contains(&compose.port.to_string()),
        "{config}"
    );
    compose.ok(&["up", "-d"]);
    let [id] = &compose.containers()[..] else {
        panic!("one container: {:?}", compose.containers());
    };
    eventually(60, "a healthy compose service", || {
        docker(&["inspect", "-f", "{{.State.Health.Status}}", id]) == "healthy"
    });
    assert_eq!(
        docker(&[
            "inspect",
            "-f",
            "{{index .Config.Labels \"docker-agent-test\"}}",
            id
        ]),
        "1"
    );
    let base = format!("http://127.0.0.1:{}", compose.port);
    let login = curl_login(&base, PASSWORD);
    assert!(
        login.contains("access_token"),
        "the password came from its secret file: {login}"
    );
    let mcp = mcp_status(&base, MCP_KEY);
    assert!(
        mcp != "401" && mcp != "000",
        "the MCP key came from its secret file: {mcp}"
    );
    // What the agent's process got: the names listed without a value and
    // set nowhere are not passed on (Docker drops a name without `=`).
    let pid = docker(&["inspect", "-f", "{{.State.Pid}}", id]);
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let environ = String::from_utf8_lossy(&environ);
    let names: Vec<&str> = environ
        .split('\0')
        .filter_map(|e| Some(e.split_once('=')?.0))
        .collect();
    // The settings the file gives a value itself (PLAIN_HTTP_EXPOSURE and
    // the secrets' files) are the only ones.
    let environment = &yaml("compose.yaml")[0]["services"]["docker-agent"]["environment"];
    for setting in documented_settings() {
        assert!(
            !names.contains(&setting.as_str()) || !environment[setting.as_str()].is_null(),
            "{setting} set nowhere, yet given to the agent: {names:?}"
        );
    }
    for secret in ["SECRET_KEY_FILE", "API_PASSWORD_FILE", "MCP_API_KEY_FILE"] {
        assert!(names.contains(&secret), "{secret}: {names:?}");
    }

    // Published on loopback, acknowledged: no warning about plain HTTP; the
    // URLs say they are the container's port.
    let logs = run_ok(Command::new("sh").args(["-c", &format!("docker logs {id} 2>&1")]));
    assert!(!logs.contains("listening without TLS"), "{logs}");
    assert!(
        logs.contains("PLAIN_HTTP_EXPOSURE=loopback says only this host reaches the port"),
        "{logs}"
    );
    assert!(
        logs.contains(
            "docker-agent: dashboard http://localhost:9000/, metrics http://localhost:9000/metrics"
        ) && logs.contains("inside this container"),
        "{logs}"
    );

    std::fs::write(
        compose.dir.join(".env"),
        "CORS_ORIGINS=https://dash.example\nAPI_PASSWORD=not-from-env-file\n",
    )
    .unwrap();
    let config = compose.ok(&["config"]);
    assert!(
        config.contains("CORS_ORIGINS: https://dash.example"),
        "a setting in .env reaches the agent: {config}"
    );
    assert!(
        !config.contains("not-from-env-file"),
        "secrets come from their files only: {config}"
    );
}

#[test]
fn compose_v1_loads_the_compose_file_and_brings_a_healthy_agent_up() {
    compose_loads_and_comes_up(&["docker-compose"], "1.");
}

#[test]
fn compose_v2_loads_the_compose_file_and_brings_a_healthy_agent_up() {
    compose_loads_and_comes_up(&["docker", "compose"], "2.");
}

#[test]
fn the_readmes_docker_run_keeps_every_secret_across_a_restart() {
    ensure_image();
    let dir = temp_dir("readme-run");
    let port = free_port();
    let name = unique_name("readme-run");
    // docs/deployment.md's recipe as a reader runs it, but with the image built
    // already, a name and a port of its own, the test label and a 1 s
    // healthcheck.
    let recipe = doc_block(
        "docs/deployment.md",
        "bash",
        "make image\ndocker run -d --name docker-agent",
    );
    let script = recipe
        .replace("make image\n", "")
        .replace(
            "--name docker-agent",
            &format!("--name {name} --label {LABEL}=1 --health-interval 1s"),
        )
        .replace("127.0.0.1:9000:9000", &format!("127.0.0.1:{port}:9000"));
    assert!(
        script.contains(&name) && script.contains(&format!(":{port}:")),
        "{recipe}"
    );
    let c = Container::adopt(&Daemon::main(), name.clone(), name);
    run_ok(Command::new("sh").args(["-ec", &script]).current_dir(&dir));
    let base = format!("http://127.0.0.1:{port}");
    let (password, mcp_key) = (
        dotenv_value(&dir, "API_PASSWORD"),
        dotenv_value(&dir, "MCP_API_KEY"),
    );
    for run in ["first start", "restart"] {
        if run == "restart" {
            docker(&["restart", &c.id]);
        }
        eventually(60, "a healthy container", || {
            c.inspect("{{.State.Health.Status}}") == "healthy"
        });
        let login = curl_login(&base, &password);
        assert!(login.contains("access_token"), "{run}: {login}");
        let mcp = mcp_status(&base, &mcp_key);
        assert!(
            mcp != "401" && mcp != "000",
            "{run}: the MCP key holds: {mcp}"
        );
    }
    let logs = run_ok(Command::new("sh").args(["-c", &format!("docker logs {} 2>&1", c.id)]));
    assert!(
        !logs.contains("generated"),
        "no secret is generated, at the start or the restart: {logs}"
    );
    assert!(
        !logs.contains("listening without TLS"),
        "its loopback-only port is acknowledged: {logs}"
    );
}

#[test]
fn the_swarm_stack_gives_every_secret_as_a_file() {
    let stack = &yaml("deploy/swarm-stack.yaml")[0];
    let service = &stack["services"]["docker-agent"];
    for (var, secret) in [
        ("SECRET_KEY", "secret_key"),
        ("API_PASSWORD", "api_password"),
        ("MCP_API_KEY", "mcp_api_key"),
        ("METRICS_TOKEN", "metrics_token"),
        ("FLEET_CA", "fleet_ca"),
        ("FLEET_CERT", "fleet_cert"),
        ("FLEET_KEY", "fleet_key"),
    ] {
        assert_eq!(
            service["environment"][format!("{var}_FILE")],
            format!("/run/secrets/{secret}")
        );
        assert!(service["environment"][var].is_null(), "{var} not inline");
        let given: Vec<&Value> = service["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["source"] == secret)
            .collect();
        assert_eq!(given.len(), 1, "{secret} given to the service");
        assert_eq!(
            (&given[0]["uid"], &given[0]["mode"]),
            (&Value::from("65532"), &Value::from(0o400)),
            "{secret}: the agent's user's alone"
        );
        assert!(stack["secrets"][secret]["file"].is_string(), "{secret}");
    }
    // The fleet's files as docs/fleet.md's recipe writes them for the
    // service's one certificate; the CA's key is no secret of the stack.
    for (secret, file) in [
        ("fleet_ca", "ca.pem"),
        ("fleet_cert", "docker-agent.pem"),
        ("fleet_key", "docker-agent.key"),
    ] {
        assert_eq!(
            stack["secrets"][secret]["file"],
            format!("${{FLEET_DIR:-./fleet}}/{file}")
        );
    }
    let files: Vec<&str> = stack["secrets"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|s| s["file"].as_str())
        .collect();
    assert!(!files.iter().any(|f| f.ends_with("/ca.key")), "{files:?}");
}

#[test]
fn the_swarm_stack_is_a_fleet_on_an_attachable_overlay_network_found_through_swarms_dns() {
    let stack = &yaml("deploy/swarm-stack.yaml")[0];
    let services = stack["services"].as_object().unwrap();
    let [(service_name, service)] = services.iter().collect::<Vec<_>>()[..] else {
        panic!("one service: {services:?}");
    };
    assert_eq!(service["deploy"]["mode"], "global", "an agent per node");
    let networks = service["networks"].as_array().unwrap();
    assert_eq!(networks.len(), 1, "{networks:?}");
    let network = &stack["networks"][networks[0].as_str().unwrap()];
    assert_eq!(network["driver"], "overlay");
    assert_eq!(network["attachable"], true, "Prometheus can join it");
    // Swarm names every task of the service `tasks.<service>` on its
    // networks (the stack gives the service its short name there).
    assert_eq!(
        service["environment"]["FLEET_DNS"],
        format!("tasks.{service_name}:9001")
    );
    assert_eq!(service["environment"]["FLEET_PORT"], "9001");
    // The fleet port is the agents' own business, on the overlay network.
    let published: Vec<&Value> = service["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["target"])
        .collect();
    assert_eq!(published, [&Value::from(9000)]);
}
