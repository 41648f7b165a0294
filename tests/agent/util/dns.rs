//! A DNS server of the test's: `dnsmasq` (Debian's `dnsmasq-base`) on a
//! loopback address, answering A records for the names it is given and
//! nothing else (no upstream, no hosts file, no DHCP); stopped when dropped.

use super::*;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

pub struct Dns {
    /// Where it answers, on port 53 (a `resolv.conf` names no port).
    pub address: Ipv4Addr,
    _process: Process,
}

impl Dns {
    /// Answers each `(name, address)` record at `address`:53; a name given
    /// several times has an A record for each address.
    pub fn start(address: Ipv4Addr, records: &[(&str, Ipv4Addr)]) -> Dns {
        if Command::new("dnsmasq").arg("--version").output().is_err() {
            panic!("dnsmasq is needed: run tests/setup.sh (Debian's dnsmasq-base)");
        }
        let dir = temp_dir("dnsmasq");
        let mut cmd = Command::new("dnsmasq");
        cmd.args(["--keep-in-foreground", "--conf-file=/dev/null"])
            .args([
                "--no-resolv",
                "--no-hosts",
                "--no-poll",
                "--bind-interfaces",
            ])
            .arg(format!("--listen-address={address}"))
            .arg("--port=53")
            .arg(format!("--pid-file={}", dir.join("dnsmasq.pid").display()))
            .arg("--log-facility=-")
            .args(
                records
                    .iter()
                    .map(|(name, ip)| format!("--host-record={name},{ip}")),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut process = Process::from_command(cmd);
        // It logs this once its sockets are bound (or why it could not, and exits).
        process.wait_line("started, version");
        Dns {
            address,
            _process: process,
        }
    }
}
