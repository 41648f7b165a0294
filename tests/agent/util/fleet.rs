//! The fleet harness: several real Docker daemons on this machine, each in a
//! network namespace of its own with its own address, data root and socket
//! (`tests/fleet.sh` builds them), and an agent started inside each
//! namespace beside its daemon, reached from the root namespace over the
//! host's veth.
//!
//! One fleet at a time, across the test threads and test processes of the
//! machine (the hosts, their addresses and the agents' port are shared): a
//! fleet holds the lock `tests/fleet.sh` takes. The daemons outlive a fleet,
//! so the next test finds them up; `make test` takes them down when the
//! tests end, whatever the tests did (`make clean-fleet`, which waits for a
//! fleet still held).

use super::*;
use std::fs::File;
use std::net::SocketAddr;
use std::process::Command;

/// The port every fleet agent listens on, in its own namespace.
pub const FLEET_PORT: u16 = 9000;

/// The hosts' network namespaces are `da-fleet-K`, K from 1.
const PREFIX: &str = "da-fleet";

/// The lock `tests/fleet.sh` takes for each run, and a fleet for its life.
const LOCK: &str = "/run/docker-agent-fleet.lock";

/// Runs `tests/fleet.sh` with `args`, as root, for a process that holds the
/// fleet lock; panics with what it said on failure.
fn fleet_sh(args: &[&str]) -> String {
    run_ok(
        Command::new("bash")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fleet.sh"))
            .args(args)
            .env("FLEET_LOCK_HELD", "1"),
    )
}

/// `program` run inside network namespace `namespace` (`nsenter --net`,
/// which, unlike `ip netns exec`, leaves `/sys` as it is).
fn in_namespace(namespace: &str, program: &str) -> Command {
    let mut cmd = Command::new("nsenter");
    cmd.arg(format!("--net=/var/run/netns/{namespace}"))
        .arg(program);
    cmd
}

/// Hosts `da-fleet-1..N`, each with its daemon and an agent beside it.
pub struct Fleet {
    pub hosts: Vec<Host>,
    /// The lock, held for the fleet's life and released after the hosts.
    _held: File,
}

/// One host of a [`Fleet`]: its namespace, its daemon and its agent. Dropping
/// it removes the labelled containers on its daemon and stops its agent.
pub struct Host {
    /// K, from 1.
    pub number: usize,
    /// Its network namespace: `da-fleet-K`.
    pub namespace: String,
    /// Its daemon, at `unix:///run/docker-agent-fleet/K/docker.sock`.
    pub daemon: Daemon,
    /// A client of its agent, at `10.231.K.2:9000`.
    pub agent: Agent,
    /// Its agent's process; `None` while stopped ([`Host::kill_agent`]).
    process: Option<Process>,
    /// Its agent's settings.
    env: Vec<(String, String)>,
    /// A file its agent sees as `/etc/hosts` ([`Host::resolve_from`]).
    hosts_file: Option<std::path::PathBuf>,
}

impl Fleet {
    /// Waits for any other fleet to end, brings `n` hosts up (`tests/fleet.sh
    /// up n`, which finds the ones already up) with the test images, and
    /// starts an agent in each.
    pub fn start(n: usize) -> Fleet {
        Fleet::start_with(n, |_| Vec::new())
    }

    /// [`Fleet::start`], host K's agent also given the settings `env(K)`.
    pub fn start_with(n: usize, env: impl Fn(usize) -> Vec<(String, String)>) -> Fleet {
        let held = hold();
        fleet_sh(&["up", &n.to_string(), image(), shell_image()]);
        let mut hosts: Vec<Host> = (1..=n).map(|k| Host::spawn(k, &env(k))).collect();
        for host in &mut hosts {
            host.check_address();
        }
        Fleet { hosts, _held: held }
    }

    /// Host K (from 1).
    pub fn host(&self, k: usize) -> &Host {
        &self.hosts[k - 1]
    }

    /// Stops the agents, removes their containers, then takes every host
    /// down (`tests/fleet.sh down`) before another fleet may start. Returns
    /// the lock: another fleet starts once it is dropped.
    pub fn down(self) -> File {
        let Fleet { hosts, _held } = self;
        drop(hosts);
        fleet_sh(&["down"]);
        _held
    }
}

/// Takes the fleet lock (waiting for whoever holds it): `flock` on
/// [`LOCK`], through a descriptor the `flock` child shares with this
/// process, so the lock stays with the returned file until it is closed or
/// the process ends, however it ends.
fn hold() -> File {
    let file = File::options()
        .create(true)
        .append(true)
        .open(LOCK)
        .unwrap_or_else(|e| panic!("{LOCK} (the fleet tests run as root): {e}"));
    // Unbounded: it waits for every fleet before it.
    let locked = Command::new("flock")
        .arg("0")
        .stdin(file.try_clone().unwrap())
        .status()
        .unwrap_or_else(|e| panic!("flock (util-linux) must be installed: {e}"));
    assert!(locked.success(), "flock {LOCK} failed");
    file
}

impl Host {
    /// Starts host K's agent in its namespace, on its daemon.
    fn spawn(k: usize, extra: &[(String, String)]) -> Host {
        let namespace = format!("{PREFIX}-{k}");
        let addr = SocketAddr::from(([10, 231, k as u8, 2], FLEET_PORT));
        let docker_host = format!("unix:///run/docker-agent-fleet/{k}/docker.sock");
        let mut env: Vec<(String, String)> = CREDENTIALS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        env.extend([
            ("DOCKER_HOST".into(), docker_host.clone()),
            ("HOST".into(), addr.ip().to_string()),
            ("PORT".into(), FLEET_PORT.to_string()),
        ]);
        env.extend(extra.iter().cloned());
        let mut host = Host {
            number: k,
            daemon: Daemon::at(&docker_host),
            agent: Agent::at(addr),
            namespace,
            process: None,
            env,
            hosts_file: None,
        };
        host.start_agent();
        host
    }

    /// Starts its agent (again), with the settings it was given.
    pub fn start_agent(&mut self) {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let agent = env!("CARGO_BIN_EXE_docker-agent");
        let cmd = match &self.hosts_file {
            None => in_namespace(&self.namespace, agent),
            Some(file) => {
                // Its own mount namespace, where the file is bound over
                // /etc/hosts: the names it resolves are the test's.
                let mut cmd = in_namespace(&self.namespace, "unshare");
                cmd.args(["--mount", "--propagation", "private", "sh", "-c"])
                    .arg(r#"mount --bind "$0" /etc/hosts && exec "$1""#)
                    .arg(file)
                    .arg(agent);
                cmd
            }
        };
        self.process = Some(Process::spawn_with(cmd, &temp_dir(&self.namespace), &env));
    }

    /// Waits until its agent listens, at the address its client uses.
    pub fn check_address(&mut self) {
        let process = self.process.as_mut().expect("its agent runs");
        let addr = process.address();
        assert_eq!(addr, self.agent.addr.to_string(), "{}", self.namespace);
    }

    /// Starts its agent again, resolving names from `file` as its
    /// `/etc/hosts`; the file may be changed in place while it runs.
    pub fn resolve_from(&mut self, file: &std::path::Path) {
        self.kill_agent();
        self.hosts_file = Some(file.to_path_buf());
        self.start_agent();
        self.check_address();
    }

    /// Kills its agent (SIGKILL: no goodbye to anyone); its daemon runs on.
    pub fn kill_agent(&mut self) {
        drop(self.process.take());
    }

    /// `program` run inside this host's network namespace.
    pub fn command(&self, program: &str) -> Command {
        in_namespace(&self.namespace, program)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.daemon.remove_labelled();
    }
}

/// A fleet CA and a certificate for each of `names`, issued by
/// docs/fleet.md's own `openssl` recipe in a new directory: `ca.pem`, and
/// `NAME.pem` with `NAME.key` for each name.
pub fn certificates(names: &[&str]) -> std::path::PathBuf {
    issue_fleet_certificates(&temp_dir("fleet-certs"), names)
}

/// The settings that make an agent a member with certificate `name` of `dir`.
pub fn member_env(dir: &std::path::Path, name: &str) -> Vec<(String, String)> {
    let file = |f: String| dir.join(f).display().to_string();
    vec![
        ("FLEET_CA_FILE".into(), file("ca.pem".into())),
        ("FLEET_CERT_FILE".into(), file(format!("{name}.pem"))),
        ("FLEET_KEY_FILE".into(), file(format!("{name}.key"))),
        ("FLEET_PROBE_INTERVAL".into(), "1".into()),
    ]
}
