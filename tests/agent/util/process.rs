//! The real `docker-agent` binary (or another program) as a child process:
//! its output lines, its address, its memory and open files, and how it exits.

use super::*;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

/// A running agent process whose output is collected line by line.
pub struct Process {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Process {
    pub fn spawn(dir: &Path, env: &[(&str, &str)]) -> Process {
        Process::spawn_with(Command::new(env!("CARGO_BIN_EXE_docker-agent")), dir, env)
    }

    /// Runs `$AGENT_BIN` if set (the shipped static build, say), else the
    /// binary this test run built.
    pub fn spawn_chosen(dir: &Path, env: &[(&str, &str)]) -> Process {
        match std::env::var_os("AGENT_BIN") {
            Some(bin) => Process::spawn_with(Command::new(bin), dir, env),
            None => Process::spawn(dir, env),
        }
    }

    /// Runs the agent as `nobody` with no groups (the tests run as root,
    /// which file permissions do not stop).
    pub fn spawn_as_nobody(dir: &Path, env: &[(&str, &str)]) -> Process {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_docker-agent"));
        Process::spawn_with(cmd, dir, env)
    }

    /// Runs `cmd` (the agent under an emulator, say) as [`Process::spawn`] runs the agent.
    pub fn spawn_with(mut cmd: Command, dir: &Path, env: &[(&str, &str)]) -> Process {
        cmd.current_dir(dir)
            .env_clear()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.env("DOCKER_HOST", docker_host())
            .env("HOST", "127.0.0.1")
            .env("PORT", "0");
        for (k, v) in env {
            cmd.env(k, v);
        }
        Process::from_command(cmd)
    }

    /// Runs `cmd`, collecting the lines of whichever of its stdout and
    /// stderr it pipes.
    pub fn from_command(mut cmd: Command) -> Process {
        let mut child = cmd.spawn().unwrap();
        let (tx, lines) = mpsc::channel();
        let stdout = child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>);
        let stderr = child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>);
        for stream in stdout.into_iter().chain(stderr) {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        Process {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The next output line (bounded wait).
    pub fn next_line(&mut self) -> String {
        let line = self
            .lines
            .recv_timeout(Duration::from_secs(20))
            .expect("a line from the process");
        self.seen.push(line.clone());
        line
    }

    /// Waits (bounded) for a line containing `needle` and returns it.
    pub fn wait_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
            return l.clone();
        }
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.seen.push(line.clone());
            if line.contains(needle) {
                return line;
            }
        }
        panic!("no line containing {needle:?}; got {:#?}", self.seen);
    }

    /// The address from the "listening" log line.
    pub fn address(&mut self) -> String {
        let line = self.wait_line("docker-agent listening");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        v["address"].as_str().unwrap().to_string()
    }

    /// The address from the readable (`DEBUG=true`) "listening" line.
    pub fn plain_address(&mut self) -> String {
        let line = self.wait_line("docker-agent listening");
        let after = line.split("address=").nth(1).expect("an address= field");
        after.split_whitespace().next().unwrap().to_string()
    }

    /// Sends SIGTERM and returns the exit code and every output line.
    pub fn terminate(mut self) -> (i32, Vec<String>) {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        let code = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status.code().unwrap_or(-1);
            }
            assert!(
                Instant::now() < deadline,
                "agent did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(100));
        self.seen.extend(self.lines.try_iter());
        (code, std::mem::take(&mut self.seen))
    }

    pub fn wait_exit(mut self) -> (i32, String) {
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        self.seen.extend(self.lines.try_iter());
        (status.code().unwrap_or(-1), self.seen.join("\n"))
    }
}

impl Process {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now, in KiB.
    pub fn rss_kib(&self) -> u64 {
        rss_of(self.pid()).expect("the agent is running")
    }

    /// Open file descriptors now (entries of `/proc/<pid>/fd`).
    pub fn open_fds(&self) -> usize {
        self.fd_links().len()
    }

    /// How many of the open descriptors are Unix-domain sockets.
    pub fn open_unix_sockets(&self) -> usize {
        let table = std::fs::read_to_string("/proc/net/unix").unwrap_or_default();
        let unix: std::collections::HashSet<&str> = table
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().nth(6))
            .collect();
        self.fd_links()
            .iter()
            .filter_map(|l| l.strip_prefix("socket:[")?.strip_suffix(']'))
            .filter(|inode| unix.contains(inode))
            .count()
    }

    fn fd_links(&self) -> Vec<String> {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .expect("the agent is running")
            .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
            .map(|p| p.to_string_lossy().into_owned())
            .collect()
    }

    /// Samples RSS every 200 ms until the task is aborted; keeps the peak.
    pub fn watch_rss(&self) -> (Arc<AtomicU64>, tokio::task::JoinHandle<()>) {
        let peak = Arc::new(AtomicU64::new(self.rss_kib()));
        let (pid, max) = (self.pid(), peak.clone());
        let task = tokio::spawn(async move {
            loop {
                if let Some(kib) = rss_of(pid) {
                    max.fetch_max(kib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        (peak, task)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh directory under the system's temporary one (an agent's working directory).
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(unique_name(name));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Resident memory of process `pid` in KiB (from `/proc/<pid>/status`).
pub fn rss_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
