//! The ARM builds (`make release TARGET=...`, `make image TARGET=...`) run
//! under qemu-user: static for their architecture and within the size
//! budget, `--version`, a start against the real daemon's socket with TLS
//! (ring's ARM code) answering `/api/v1/healthz`, the healthcheck
//! subcommand, and images marked with their platform.

use crate::util::*;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

/// The release size budget of every static binary, x86_64 and ARM.
pub const BUDGET: u64 = 4 * 1024 * 1024;

struct Arm {
    target: &'static str,
    qemu: &'static str,
    compiler: &'static str,
    file_arch: &'static str,
    image: &'static str,
    platform: &'static str,
}

const ARMS: [Arm; 2] = [
    Arm {
        target: "aarch64-unknown-linux-musl",
        qemu: "qemu-aarch64-static",
        compiler: "aarch64-linux-gnu-gcc",
        file_arch: "ARM aarch64",
        image: "docker-agent:latest-arm64",
        platform: "linux/arm64/v8",
    },
    Arm {
        target: "armv7-unknown-linux-musleabihf",
        qemu: "qemu-arm-static",
        compiler: "arm-linux-gnueabihf-gcc",
        file_arch: "ARM, EABI5",
        image: "docker-agent:latest-armv7",
        platform: "linux/arm/v7",
    },
];

fn on_path(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `make -s` with `args` in the repository; panics with its output on failure.
fn make(args: &[&str]) {
    let out = Command::new("make")
        .arg("-s")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("make");
    assert!(
        out.status.success(),
        "make {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The ARM targets whose binary can be built and run here, each built once
/// (`make release` reuses it while the sources are unchanged). A target is
/// skipped, saying why, only when its cross compiler or emulator is missing
/// (`tests/setup.sh` installs both).
fn built() -> &'static [(&'static Arm, PathBuf)] {
    static BUILT: OnceLock<Vec<(&'static Arm, PathBuf)>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let mut ready = Vec::new();
        for arm in &ARMS {
            if let Some(missing) = [arm.compiler, arm.qemu].into_iter().find(|p| !on_path(p)) {
                eprintln!(
                    "skipped {}: {missing} is missing (bash tests/setup.sh installs it)",
                    arm.target
                );
                continue;
            }
            make(&["release", &format!("TARGET={}", arm.target)]);
            let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("target/static")
                .join(arm.target)
                .join("docker-agent");
            ready.push((arm, bin));
        }
        ready
    })
}

#[test]
fn static_binaries_are_static_for_their_architecture_and_within_the_size_budget() {
    if let Some(bin) = std::env::var_os("AGENT_BIN") {
        let size = std::fs::metadata(&bin).unwrap().len();
        assert!(size <= BUDGET, "x86_64: {size} bytes, over {BUDGET}");
        eprintln!("x86_64: {size} bytes");
    }
    for (arm, bin) in built() {
        let kind = run_ok(Command::new("file").arg("-b").arg(bin));
        assert!(
            kind.contains(arm.file_arch) && kind.contains("statically linked"),
            "{}: {kind}",
            arm.target
        );
        let size = std::fs::metadata(bin).unwrap().len();
        assert!(
            size <= BUDGET,
            "{}: {size} bytes, over {BUDGET}",
            arm.target
        );
        eprintln!("{}: {size} bytes", arm.target);
    }
}

#[test]
fn arm_binaries_under_qemu_serve_healthz_against_the_real_daemon_and_pass_their_healthcheck() {
    if let Some(bin) = std::env::var_os("AGENT_BIN") {
        let size = std::fs::metadata(&bin).unwrap().len();
        assert!(size <= BUDGET, "x86_64: {size} bytes, over {BUDGET}");
        eprintln!("x86_64: {size} bytes");
    }
    for (arm, bin) in built() {
        let version = run_ok(Command::new(arm.qemu).arg(bin).arg("--version"));
        assert_eq!(
            version,
            format!("docker-agent {}", env!("CARGO_PKG_VERSION"))
        );

        let dir = temp_dir("arm");
        let mut cmd = Command::new(arm.qemu);
        cmd.arg(bin);
        let mut agent = Process::spawn_with(
            cmd,
            &dir,
            &[
                ("TLS_AUTO", "true"),
                ("API_PASSWORD", PASSWORD),
                ("SECRET_KEY", SECRET),
                ("MCP_API_KEY", MCP_KEY),
            ],
        );
        let port = agent.address().rsplit(':').next().unwrap().to_string();
        let (code, body) = curl(&["-k", &format!("https://127.0.0.1:{port}/api/v1/healthz")]);
        assert_eq!(code, 0, "{}: curl over TLS", arm.target);
        assert_eq!(
            body, r#"{"status":"ok","docker_connected":true}"#,
            "{}",
            arm.target
        );
        let probe = |what: &str| {
            let out = Command::new(arm.qemu)
                .arg(bin)
                .arg("healthcheck")
                .current_dir(&dir)
                .env_clear()
                .env("HOST", "127.0.0.1")
                .env("PORT", &port)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            eprintln!("{} healthcheck {what}: {stderr}", arm.target);
            (out.status.code(), stderr)
        };
        assert_eq!(probe("while up").0, Some(0), "{}", arm.target);

        let (code, _) = agent.terminate();
        assert_eq!(code, 0, "{}: clean exit on SIGTERM", arm.target);
        let (code, why) = probe("after the stop");
        assert_eq!(code, Some(1), "{}", arm.target);
        assert!(why.contains("cannot connect"), "{}: {why}", arm.target);
    }
}

#[test]
fn arm_images_hold_only_the_binary_and_carry_their_platform() {
    // `make image` runs `docker build` for each tag; one at a time.
    static IMAGES: Mutex<()> = Mutex::new(());
    let _one = IMAGES.lock().unwrap_or_else(|e| e.into_inner());
    for (arm, _) in built() {
        make(&["image", &format!("TARGET={}", arm.target)]);
        let platform = docker(&[
            "image",
            "inspect",
            "-f",
            "{{.Os}}/{{.Architecture}}/{{.Variant}}",
            arm.image,
        ]);
        assert_eq!(platform, arm.platform);
        assert_eq!(
            docker(&["image", "inspect", "-f", "{{.Config.User}}", arm.image]),
            "65532:65532"
        );
        let listing = run_ok(Command::new("sh").args([
            "-c",
            &format!(
                "docker save {} | tar -xO --wildcards '*/layer.tar' | tar -t",
                arm.image
            ),
        ]));
        assert_eq!(
            listing, "docker-agent",
            "{}: nothing but the binary",
            arm.target
        );
        // Running an ARM image needs qemu registered with binfmt_misc; where
        // it is not, the binary itself runs under qemu in the test above.
        let handler = format!(
            "/proc/sys/fs/binfmt_misc/{}",
            arm.qemu.trim_end_matches("-static")
        );
        if std::path::Path::new(&handler).exists() {
            let version = docker(&[
                "run",
                "--rm",
                "--label",
                &format!("{LABEL}=1"),
                arm.image,
                "--version",
            ]);
            assert!(version.starts_with("docker-agent "), "{version}");
        } else {
            eprintln!(
                "{}: {platform} inspected, not run: {handler} is absent",
                arm.image
            );
        }
    }
}
