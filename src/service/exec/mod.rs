//! Commands run in containers: one-shot ([`Service::exec`]: the output
//! collected, bounded, within a timeout) and interactive
//! ([`Service::open_terminal`]: a TTY relayed by the WebSocket route).
//! Both are `Op::EXEC` for the policy (off unless `EXEC_ENABLED`, `admin`
//! only, refused in read-only modes and in the agent's own container), and
//! each run is recorded in the audit trail with its command line and how
//! it ended.
//!
//! The output of a one-shot command is read to its end, whatever its size:
//! past [`MAX_OUTPUT`] a stream is read and dropped (and the answer says
//! `truncated`), so a command never blocks on a full pipe and memory stays
//! bounded. At its timeout the command's process is killed where the agent
//! can reach it (see [`signal`]) and the connection to it closed; the
//! answer says `timed_out`, with no exit code.
//!
//! - [`request`]: the request's fields and their checks.
//! - [`signal`]: signalling an exec's process.

pub mod request;
mod signal;

use super::Service;
use super::access::{facts, record};
use crate::docker::frames::{FrameDecoder, StreamKind};
use crate::docker::models::{ContainerInspect, Created, ExecInspect};

use crate::contract::ExecResult;
use crate::error::Error;
use crate::policy::{Caller, Op};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use request::ExecRequest;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// Most bytes kept of each output stream.
pub const MAX_OUTPUT: usize = 1 << 20;
/// How long the exit code may take to show after the output ends.
const EXIT_WAIT: Duration = Duration::from_secs(2);

/// A command's output so far.
#[derive(Default)]
struct Output {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    truncated: bool,
}

impl Output {
    fn keep(&mut self, stream: StreamKind, data: &[u8]) {
        let to = match stream {
            StreamKind::Stdout => &mut self.stdout,
            _ => &mut self.stderr,
        };
        let room = MAX_OUTPUT - to.len();
        to.extend_from_slice(&data[..data.len().min(room)]);
        self.truncated |= data.len() > room;
    }

    /// Reads Docker's multiplexed stream to its end.
    async fn read_all(&mut self, mut from: impl AsyncRead + Unpin) -> Result<(), Error> {
        let mut frames = FrameDecoder::new();
        let mut buf = vec![0; 16 * 1024];
        let broken = |e: &dyn std::fmt::Display| Error::DockerFailed(format!("exec output: {e}"));
        loop {
            let n = from.read(&mut buf).await.map_err(|e| broken(&e))?;
            if n == 0 {
                return frames.finish().map_err(|e| broken(&e));
            }
            frames.push(&buf[..n]);
            while let Some(frame) = frames.next_frame().map_err(|e| broken(&e))? {
                self.keep(frame.stream, &frame.data);
            }
        }
    }

    fn result(self, exit_code: Option<i64>, timed_out: bool) -> ExecResult {
        ExecResult {
            exit_code,
            stdout: String::from_utf8_lossy(&self.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&self.stderr).into_owned(),
            truncated: self.truncated,
            timed_out,
        }
    }
}

/// An interactive command (its connection is handed out beside it).
pub struct Terminal {
    pub exec_id: String,
    /// The operation it was opened as, for its audit record.
    op: Op,
    container: ContainerInspect,
    cmd: Vec<String>,
}

impl Service {
    /// Runs `req` in container `id` to its end or its timeout.
    pub async fn exec(
        &self,
        caller: &Caller,
        op: Op,
        id: &str,
        req: &ExecRequest,
    ) -> Result<ExecResult, Error> {
        let c = self.admit(caller, op, id).await?;
        let result = self.run(&c, id, req).await;
        let r = record(caller, op, Some(facts(&c))).command(&req.cmd);
        self.audit.record(match &result {
            Ok(done) if done.timed_out => r.failed(&format!(
                "timed out after {} s; the process was killed",
                req.timeout.as_secs()
            )),
            Ok(done) => r.exit_code(done.exit_code),
            Err(e) => r.refusal(e),
        });
        result
    }

    async fn run(
        &self,
        c: &ContainerInspect,
        id: &str,
        req: &ExecRequest,
    ) -> Result<ExecResult, Error> {
        let exec_id = self.create_exec(c, id, req, false).await?;
        let io = self.start_exec(&exec_id, false).await?;
        let mut output = Output::default();
        match tokio::time::timeout(req.timeout, output.read_all(TokioIo::new(io))).await {
            Ok(read) => {
                read?;
                let code = self.exit_code(&exec_id).await;
                Ok(output.result(code, false))
            }
            Err(_) => {
                self.signal(&exec_id, &c.id, "KILL").await;
                Ok(output.result(None, true))
            }
        }
    }

    /// Creates the exec of `req` in `c` (running, else 409).
    async fn create_exec(
        &self,
        c: &ContainerInspect,
        id: &str,
        req: &ExecRequest,
        tty: bool,
    ) -> Result<String, Error> {
        if !c.state.running {
            return Err(Error::Conflict(format!(
                "Container {} is not running",
                c.name.trim_start_matches('/')
            )));
        }
        let body = serde_json::json!({
            "AttachStdin": tty, "AttachStdout": true, "AttachStderr": true, "Tty": tty,
            "Cmd": req.cmd, "Env": req.env, "WorkingDir": req.workdir, "User": req.user,
        });
        let created: Created = self
            .docker
            .create_exec(&c.id, body.to_string().into_bytes())
            .await
            .map_err(|e| Error::for_container(e, id))?;
        Ok(created.id)
    }

    /// Starts an exec attached: Docker's hijacked connection to it.
    async fn start_exec(&self, exec_id: &str, tty: bool) -> Result<Upgraded, Error> {
        Ok(self.docker.start_exec(exec_id, tty).await?)
    }

    async fn inspect_exec(&self, exec_id: &str) -> Option<ExecInspect> {
        self.docker.exec(exec_id).await.ok()
    }

    /// The exit code of an exec whose output has ended (`None` if it
    /// does not show within [`EXIT_WAIT`]).
    async fn exit_code(&self, exec_id: &str) -> Option<i64> {
        let waited = tokio::time::timeout(EXIT_WAIT, async {
            loop {
                match self.inspect_exec(exec_id).await {
                    Some(e) if !e.running => return e.exit_code,
                    Some(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                    None => return None,
                }
            }
        });
        waited.await.ok().flatten()
    }

    /// Sends `signal` to the exec's process, if it still runs and the
    /// agent can reach it.
    async fn signal(&self, exec_id: &str, container: &str, signal: &'static str) {
        let Some(e) = self.inspect_exec(exec_id).await.filter(|e| e.running) else {
            return;
        };
        if !signal::send(e.pid, container, signal).await {
            log::warn!(exec = exec_id, pid = e.pid; "cannot signal an exec's process: the agent does not share the daemon's process namespace, or has no kill program");
        }
    }

    /// Starts `cmd` in container `id` with a TTY, for the WebSocket route:
    /// the terminal, and Docker's hijacked connection to it.
    pub async fn open_terminal(
        &self,
        caller: &Caller,
        op: Op,
        id: &str,
        cmd: Vec<String>,
    ) -> Result<(Terminal, TokioIo<Upgraded>), Error> {
        let c = self.admit(caller, op, id).await?;
        let req = ExecRequest {
            cmd,
            env: Vec::new(),
            workdir: None,
            user: None,
            timeout: Duration::ZERO,
        };
        let opened = async {
            let exec_id = self.create_exec(&c, id, &req, true).await?;
            let io = self.start_exec(&exec_id, true).await?;
            Ok::<_, Error>((exec_id, io))
        };
        let (exec_id, io) = opened.await.inspect_err(|e| {
            let r = record(caller, op, Some(facts(&c))).command(&req.cmd);
            self.audit.record(r.refusal(e));
        })?;
        let t = Terminal {
            exec_id,
            op,
            container: c,
            cmd: req.cmd,
        };
        Ok((t, TokioIo::new(io)))
    }

    /// Resizes a terminal's TTY.
    pub async fn resize_terminal(&self, exec_id: &str, cols: u16, rows: u16) -> Result<(), Error> {
        Ok(self.docker.resize_exec(exec_id, cols, rows).await?)
    }

    /// Ends a terminal whose peer went away: its process gets a hangup
    /// (SIGHUP, where the agent can reach it), as at the end of a terminal
    /// session. The connection itself closes with the terminal.
    pub async fn hang_up(&self, t: &Terminal) {
        self.signal(&t.exec_id, &t.container.id, "HUP").await;
    }

    /// Records how a terminal ended; returns its exit code once the
    /// process has ended (`None` when it has not, or is unknown).
    pub async fn close_terminal(&self, caller: &Caller, t: Terminal) -> Option<i64> {
        let code = self.exit_code(&t.exec_id).await;
        let r = record(caller, t.op, Some(facts(&t.container))).command(&t.cmd);
        self.audit.record(r.exit_code(code));
        code
    }
}
