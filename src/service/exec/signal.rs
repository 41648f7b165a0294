//! Signalling an exec's process. Docker has no API for it (its kill API
//! signals a container's first process, which would take the whole
//! container down), so the agent signals the process itself, by the id
//! Docker reports (`Pid` of the exec's inspect). That id means something
//! only where the agent shares the daemon's process namespace — the agent
//! running on the host, or in a container started with `--pid=host` — and
//! the signal is sent by the `kill` program, which must be on `PATH`
//! (the agent holds no unsafe code to make the system call itself).
//!
//! Before signalling, the process is checked to belong to the container
//! (its `/proc/<pid>/cgroup` names the container's id), so a process id the
//! agent cannot see, or that has ended and been reused by another
//! container's or the host's process, is never signalled.

use std::process::{Command, Stdio};

/// Sends `signal` (`KILL`, `HUP`) to the process `pid` if it belongs to
/// `container`; whether it was sent.
pub async fn send(pid: u32, container: &str, signal: &'static str) -> bool {
    if pid == 0 || !belongs(pid, container) {
        return false;
    }
    let kill = move || {
        Command::new("kill")
            .args(["-s", signal, &pid.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
    };
    match tokio::task::spawn_blocking(kill).await {
        Ok(Ok(status)) => status.success(),
        Ok(Err(e)) => {
            log::warn!(error = e.to_string().as_str(); "cannot run kill to signal an exec's process");
            false
        }
        Err(_) => false,
    }
}

/// Whether process `pid`, as seen from here, is in `container`'s cgroup.
fn belongs(pid: u32, container: &str) -> bool {
    !container.is_empty()
        && std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
            .is_ok_and(|groups| groups.contains(container))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_process_outside_the_container_is_never_signalled() {
        let me = std::process::id();
        assert!(!belongs(me, "0123456789abcdef0123456789abcdef"));
        assert!(!belongs(me, ""));
        assert!(!send(me, "0123456789abcdef0123456789abcdef", "KILL").await);
        assert!(!send(0, "", "KILL").await);
    }
}
