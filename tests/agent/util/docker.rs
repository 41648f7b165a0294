//! The real daemon from the tests' side: the docker CLI (on the main daemon
//! or another one, a fleet host's), the locally built test images (testbox,
//! and a busybox shell), and labelled containers that remove themselves.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Every container a test creates carries this label (`make test` sweeps it too).
pub const LABEL: &str = "docker-agent-test";

/// Runs the docker CLI on the main daemon and returns its stdout; panics
/// with its stderr on failure.
pub fn docker(args: &[&str]) -> String {
    Daemon::main().docker(args)
}

/// A Docker daemon the tests drive with the CLI: the main one, or another
/// one by its socket (a fleet host's).
#[derive(Clone, Debug)]
pub struct Daemon {
    /// `-H` for the CLI; `None` for the main daemon, which the CLI finds itself.
    host: Option<String>,
}

impl Daemon {
    pub fn main() -> Daemon {
        Daemon { host: None }
    }

    /// The daemon at `host` (`unix:///path/to/docker.sock`).
    pub fn at(host: &str) -> Daemon {
        Daemon {
            host: Some(host.to_string()),
        }
    }

    /// The docker CLI pointed at this daemon.
    fn cli(&self) -> Command {
        let mut cmd = Command::new("docker");
        if let Some(host) = &self.host {
            cmd.args(["-H", host]);
        }
        cmd
    }

    /// Runs the docker CLI on this daemon and returns its stdout; panics
    /// with its stderr on failure.
    pub fn docker(&self, args: &[&str]) -> String {
        run_ok(self.cli().args(args))
    }

    /// Whether this daemon has a container (or image, with `kind` "image") by this reference.
    pub fn exists(&self, kind: &str, reference: &str) -> bool {
        self.cli()
            .args([kind, "inspect", reference])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Force-removes a container, if it is there.
    pub fn remove(&self, id: &str) {
        let _ = self.cli().args(["rm", "-f", id]).output();
    }

    /// Force-removes every container carrying the test [`LABEL`]. Only for a
    /// daemon no one else's tests use (a fleet host's, while the fleet is held).
    pub fn remove_labelled(&self) {
        let filter = format!("label={LABEL}");
        let out = self.cli().args(["ps", "-aq", "--filter", &filter]).output();
        let ids = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
        for id in ids.unwrap_or_default().split_whitespace() {
            self.remove(id);
        }
    }
}

/// The longest any command of the tests may run (a cold cross-compiled
/// build under the suite's load included): one that hangs fails its own
/// test instead of the whole run's deadline.
pub const COMMAND_LIMIT: Duration = Duration::from_secs(30 * 60);

/// Runs a command that must succeed (the docker CLI, openssl, a Python
/// client) and returns its stdout, trimmed; panics with its stderr otherwise.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = output_within(cmd, COMMAND_LIMIT);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Runs `cmd` to its end like [`Command::output`], but kills it once `limit`
/// has passed and panics with what it printed so far: a stuck client fails
/// its own test instead of holding the whole run.
pub fn output_within(cmd: &mut Command, limit: Duration) -> std::process::Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?} must be installed: {e}"));
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    let Some(status) = status else {
        panic!(
            "{cmd:?} did not finish within {limit:?} and was killed; it printed:\n{}\n{}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        );
    };
    std::process::Output {
        status,
        stdout,
        stderr,
    }
}

/// Runs `cmd`, which may fail: whether it succeeded, and all it printed
/// (its stdout, then its stderr).
pub fn run_said(cmd: &mut Command) -> (bool, String) {
    let out = output_within(cmd, COMMAND_LIMIT);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

/// The Docker socket the CLI and the agent both use.
pub fn docker_host() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `name:HASH` for an image built from `source`, and that hash.
fn versioned(name: &str, source: &[u8]) -> (String, String) {
    let hash: String = Sha256::digest(source)
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect();
    (format!("{name}:{hash}"), hash)
}

/// Whether the main daemon has the image `tag`.
fn present(tag: &str) -> bool {
    exists("image", tag)
}

/// The test image, built once per source version from `fixtures/testbox`:
/// compiled with `gcc -static` and imported from a tarball (no registry).
pub fn image() -> &'static str {
    static IMAGE: OnceLock<String> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let src = repo().join("fixtures/testbox/testbox.c");
        let code = std::fs::read(&src).expect("fixtures/testbox/testbox.c");
        let (tag, _) = versioned("docker-agent-testbox", &code);
        if present(&tag) {
            return tag;
        }
        let dir = repo().join("target/testbox");
        std::fs::create_dir_all(&dir).unwrap();
        let bin = dir.join("testbox");
        let status = Command::new("gcc")
            .args(["-static", "-Os", "-s", "-o"])
            .arg(&bin)
            .arg(&src)
            .status()
            .expect("gcc is needed to build the test image");
        assert!(status.success(), "building testbox failed");
        let tar = dir.join("testbox.tar");
        let status = Command::new("tar")
            .arg("-C")
            .arg(&dir)
            .arg("-cf")
            .arg(&tar)
            .arg("testbox")
            .status()
            .unwrap();
        assert!(status.success());
        docker(&[
            "import",
            "-c",
            r#"ENTRYPOINT ["/testbox"]"#,
            tar.to_str().unwrap(),
            &tag,
        ]);
        tag
    })
}

/// Busybox's applets the shell image links in `/bin`.
const APPLETS: [&str; 7] = ["sh", "stty", "id", "sleep", "cat", "pwd", "env"];

/// The shell image: Debian's static busybox (`busybox-static`, which
/// `tests/setup.sh` installs) with `/bin/sh` and a few applets, and an empty
/// `/tmp`, imported from a tarball (no registry). Built once per busybox.
pub fn shell_image() -> &'static str {
    static IMAGE: OnceLock<String> = OnceLock::new();
    IMAGE.get_or_init(|| {
        let busybox = std::fs::read("/bin/busybox")
            .expect("/bin/busybox: install busybox-static (tests/setup.sh does)");
        let (tag, hash) = versioned("docker-agent-shellbox", &busybox);
        if present(&tag) {
            return tag;
        }
        let root = repo().join("target/shellbox").join(&hash);
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        std::fs::write(root.join("bin/busybox"), &busybox).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let exec = std::fs::Permissions::from_mode(0o755);
        std::fs::set_permissions(root.join("bin/busybox"), exec).unwrap();
        for applet in APPLETS {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
        }
        let tar = root.with_extension("tar");
        run_ok(
            Command::new("tar")
                .arg("-C")
                .arg(&root)
                .arg("-cf")
                .arg(&tar)
                .args(["bin", "tmp"]),
        );
        docker(&[
            "import",
            "-c",
            r#"ENTRYPOINT ["/bin/busybox"]"#,
            tar.to_str().unwrap(),
            &tag,
        ]);
        tag
    })
}

/// A unique, recognisable container name.
pub fn unique_name(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "dat-{prefix}-{}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        &docker_agent::random::token(4)[..4]
            .to_ascii_lowercase()
            .replace(['-', '_'], "x")
    )
}

/// A labelled test container, force-removed when dropped (even on panic).
pub struct Container {
    pub id: String,
    pub name: String,
    /// The daemon it is on.
    pub daemon: Daemon,
}

impl Container {
    /// `docker run -d` with extra `docker` options, then testbox steps.
    pub fn run(options: &[&str], steps: &[&str]) -> Container {
        Container::new("run", &["-d"], options, image(), steps)
    }

    /// `docker run -d` of another image holding testbox (a pulled copy).
    pub fn run_image(image: &str, steps: &[&str]) -> Container {
        Container::new("run", &["-d"], &[], image, steps)
    }

    /// `docker create`: exists but not started.
    pub fn create(options: &[&str], steps: &[&str]) -> Container {
        Container::new("create", &[], options, image(), steps)
    }

    /// `docker run -d` of the shell image, running `args` (a busybox applet and its arguments).
    pub fn shell(options: &[&str], args: &[&str]) -> Container {
        Container::new("run", &["-d"], options, shell_image(), args)
    }

    /// [`Container::run`] on `daemon` (a fleet host's, which has the test image).
    pub fn run_on(daemon: &Daemon, options: &[&str], steps: &[&str]) -> Container {
        Container::new_on(daemon, "run", &["-d"], options, image(), steps)
    }

    /// A container made by other means (a recipe, an agent) on `daemon`,
    /// removed when dropped like the others.
    pub fn adopt(daemon: &Daemon, id: String, name: String) -> Container {
        Container {
            id,
            name,
            daemon: daemon.clone(),
        }
    }

    fn new(
        verb: &str,
        verb_opts: &[&str],
        options: &[&str],
        image: &str,
        steps: &[&str],
    ) -> Container {
        Container::new_on(&Daemon::main(), verb, verb_opts, options, image, steps)
    }

    fn new_on(
        daemon: &Daemon,
        verb: &str,
        verb_opts: &[&str],
        options: &[&str],
        image: &str,
        steps: &[&str],
    ) -> Container {
        let name = unique_name(verb);
        let label = format!("{LABEL}=1");
        let mut args = vec![verb];
        args.extend_from_slice(verb_opts);
        args.extend_from_slice(&["--name", &name, "--label", &label]);
        args.extend_from_slice(options);
        args.push(image);
        args.extend_from_slice(steps);
        let id = daemon.docker(&args);
        Container::adopt(daemon, id, name)
    }

    /// `docker inspect --format` on this container.
    pub fn inspect(&self, format: &str) -> String {
        self.daemon
            .docker(&["inspect", "--format", format, &self.id])
    }

    pub fn status(&self) -> String {
        self.inspect("{{.State.Status}}")
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        self.daemon.remove(&self.id);
    }
}

/// A container created through the agent (by id), force-removed when
/// dropped, even on panic: tests create them with the [`LABEL`] label too.
pub struct Made(pub String);

impl Drop for Made {
    fn drop(&mut self) {
        Daemon::main().remove(&self.0);
    }
}

/// Whether the main daemon has a container (or image, with `kind` "image") by this reference.
pub fn exists(kind: &str, reference: &str) -> bool {
    Daemon::main().exists(kind, reference)
}
