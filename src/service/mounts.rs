//! What a container mounts, judged by what Docker will mount: host paths
//! resolved on disk (see [`crate::policy::host`]), and named volumes by
//! the containers that use them and by the host paths their driver
//! options mount.
//!
//! At create, before Docker is asked anything: every host path of `binds`
//! must lead under an allowed directory, and Docker gets the path it leads
//! to. Then, asking Docker: a named volume used by
//! a container out of scope is refused like that container, and one nobody
//! uses is claimable only as [`crate::policy::Policy::claims_unused_volume`]
//! says; a volume whose `local` driver options mount a host path or device
//! (`o=bind,device=/etc`, `device=/dev/sdb1`) is judged as that host path.
//! A volume that does not exist yet is made by the agent, with its labels,
//! just before the container (and removed again if the create fails), so
//! it is the scope's from the start.
//!
//! Before a start, restart or unpause: the host paths of the container
//! that the agent judges ([`crate::policy::Policy::judges_path_of`]) are
//! judged again, so a symlink swapped in since the create is caught.

use super::Service;
use super::access::{labels, summary_facts};
use super::spec::Spec;
use crate::docker::models::{ContainerInspect, ListedContainer, Volume};
use crate::error::{Error, clip};
use crate::policy::host::normalise;
use crate::policy::{HostRequest, Seen, View};
use serde_json::json;
use std::path::PathBuf;

/// `local` driver types whose `device` is remote, not a host path.
const REMOTE: [&str; 4] = ["nfs", "nfs4", "cifs", "smb"];

/// The host path or device a volume's driver options mount, if any.
fn host_device(v: &Volume) -> Option<&str> {
    let options = v.options.as_ref().filter(|_| v.driver == "local")?;
    let device = options.get("device")?;
    let remote = options
        .get("type")
        .is_some_and(|t| REMOTE.contains(&t.as_str()));
    (device.starts_with('/') && !remote).then_some(device.as_str())
}

/// How a refusal names a volume's host path.
fn through(volume: &str) -> String {
    format!("'binds' (the volume '{}')", clip(volume, 128))
}

impl Service {
    /// The allowed directories as the agent sees them now.
    async fn host_view(&self) -> Result<View, Error> {
        let binds = self
            .own_binds
            .get_or_try_init(|| self.find_own_binds())
            .await?;
        Ok(self.policy.host_view(binds.as_deref()))
    }

    /// The host paths bound into the agent's own container at the same
    /// path; `None` when it runs on the host. An own container this daemon
    /// does not know (the agent runs elsewhere) shares none.
    async fn find_own_binds(&self) -> Result<Option<Vec<PathBuf>>, Error> {
        let Some(own) = self.policy.own_container() else {
            return Ok(None);
        };
        let found = self.docker.container(own).await;
        let c = match found {
            Ok(c) => c,
            Err(e) if e.is_not_found() => return Ok(Some(Vec::new())),
            Err(e) => return Err(e.into()),
        };
        let same = |source: &str, destination: &str| {
            let source = normalise(source)?;
            (Some(&source) == normalise(destination).as_ref()).then_some(source)
        };
        Ok(Some(
            c.mounts
                .iter()
                .filter(|m| m.kind == "bind")
                .filter_map(|m| same(&m.source, &m.destination))
                .collect(),
        ))
    }

    /// The volume `name`, or `None` when there is none.
    async fn volume(&self, name: &str) -> Result<Option<Volume>, Error> {
        let found = self.docker.volume(name).await;
        match found {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Every container, running or not, that mounts the volume `name`.
    async fn volume_users(&self, name: &str) -> Result<Vec<ListedContainer>, Error> {
        let filters = json!({"volume": [name]}).to_string();
        Ok(self.docker.containers(true, Some(&filters)).await?)
    }

    /// Refuses a volume outside the scope: one a container out of scope
    /// uses, or one nobody uses that the scope cannot claim.
    async fn vet_volume_scope(&self, v: &Volume) -> Result<(), Error> {
        if !self.policy.scoped() {
            return Ok(());
        }
        let users = self.volume_users(&v.name).await?;
        let in_scope = if users.is_empty() {
            self.policy.claims_unused_volume(labels(v.labels.as_ref()))
        } else {
            users.iter().all(|c| self.policy.sees(summary_facts(c)))
        };
        if in_scope {
            return Ok(());
        }
        Err(Error::Denied(format!(
            "'binds': the volume '{}' is outside the agent's scope: only volumes of containers \
             in scope, or volumes the agent made for them, may be mounted",
            clip(&v.name, 128)
        )))
    }

    /// Judges what a create asks of the host, before Docker is asked
    /// anything about it: the fields that hand out the host, and each host
    /// path of `binds`, rewritten to the path it leads to (see the module
    /// doc). Only an agent in a container asks Docker, once, what it sees.
    pub(super) async fn vet_host_paths(&self, spec: &mut Spec) -> Result<(), Error> {
        let mut asks: Vec<HostRequest> = spec
            .host_fields()
            .into_iter()
            .map(HostRequest::Field)
            .collect();
        if !self.policy.judges_host_paths() {
            return self.policy.vet_host(&asks, &View::default());
        }
        let view = self.host_view().await?;
        for bind in spec.binds.iter().filter(|b| b.is_host_path()) {
            let seen = view.look(&bind.source);
            asks.push(HostRequest::Path(
                "'binds'".into(),
                bind.source.clone(),
                seen,
            ));
        }
        self.policy.vet_host(&asks, &view)?;
        for bind in spec.binds.iter_mut().filter(|b| b.is_host_path()) {
            if let Seen::Real(real) = view.look(&bind.source) {
                bind.source = real.display().to_string();
            }
        }
        Ok(())
    }

    /// Judges a create's named volumes (see the module doc). Returns those
    /// that do not exist yet, for [`Service::make_volumes`].
    pub(super) async fn vet_volumes(&self, spec: &Spec) -> Result<Vec<String>, Error> {
        let mut missing: Vec<String> = Vec::new();
        for bind in spec.binds.iter().filter(|b| !b.is_host_path()) {
            match self.volume(&bind.source).await? {
                None if !missing.contains(&bind.source) => missing.push(bind.source.clone()),
                None => {}
                Some(v) => {
                    self.vet_volume_scope(&v).await?;
                    if let Some(device) = host_device(&v) {
                        self.vet_host_path(through(&v.name), device.to_string())
                            .await?;
                    }
                }
            }
        }
        Ok(missing)
    }

    /// Judges one host path, unless `ALLOW_HOST_ACCESS` allows them all.
    async fn vet_host_path(&self, what: String, path: String) -> Result<(), Error> {
        if !self.policy.judges_host_paths() {
            return Ok(());
        }
        let view = self.host_view().await?;
        let seen = view.look(&path);
        self.policy
            .vet_host(&[HostRequest::Path(what, path, seen)], &view)
    }

    /// Makes the volumes `names` with the agent's labels; on a failure
    /// removes those it made and says why.
    pub(super) async fn make_volumes(&self, names: &[String]) -> Result<Vec<String>, Error> {
        let labels = self.policy.new_volume_labels();
        let mut made = Vec::new();
        for name in names {
            if let Err(e) = self.docker.create_volume(name, &labels).await {
                self.remove_volumes(&made).await;
                return Err(e.into());
            }
            made.push(name.clone());
        }
        Ok(made)
    }

    /// Removes volumes the agent just made for a create that failed.
    pub(super) async fn remove_volumes(&self, names: &[String]) {
        for name in names {
            if let Err(e) = self.docker.remove_volume(name).await {
                log::warn!(volume = name.as_str(), error = e.to_string().as_str(); "a volume made for a failed create could not be removed");
            }
        }
    }

    /// Judges again the host paths of `c` before it starts, restarts or
    /// is unpaused (see the module doc).
    pub(super) async fn vet_mounts_before_start(&self, c: &ContainerInspect) -> Result<(), Error> {
        if !self.policy.judges_host_paths() {
            return Ok(());
        }
        let mut paths = Vec::new();
        for m in &c.mounts {
            match m.kind.as_str() {
                "bind" => paths.push(("'binds'".to_string(), m.source.clone())),
                "volume" if m.driver == "local" => {
                    let v = self.volume(&m.name).await?;
                    if let Some(device) = v.as_ref().and_then(host_device) {
                        paths.push((through(&m.name), device.to_string()));
                    }
                }
                _ => {}
            }
        }
        let own_labels = labels(c.config.labels.as_ref());
        paths.retain(|(_, p)| self.policy.judges_path_of(own_labels, p));
        for (what, path) in paths {
            self.vet_host_path(what, path).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn volume(driver: &str, options: &[(&str, &str)]) -> Volume {
        let options: BTreeMap<String, String> = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Volume {
            name: "v".into(),
            driver: driver.into(),
            options: Some(options),
            ..Volume::default()
        }
    }

    #[test]
    fn volumes_that_mount_a_host_path_or_device_are_found() {
        let bind = volume(
            "local",
            &[("type", "none"), ("o", "bind"), ("device", "/etc")],
        );
        assert_eq!(host_device(&bind), Some("/etc"));
        let disk = volume("local", &[("type", "ext4"), ("device", "/dev/sdb1")]);
        assert_eq!(host_device(&disk), Some("/dev/sdb1"));
        let nfs = volume(
            "local",
            &[
                ("type", "nfs"),
                ("o", "addr=10.0.0.1"),
                ("device", ":/export"),
            ],
        );
        assert_eq!(host_device(&nfs), None);
        let cifs = volume("local", &[("type", "cifs"), ("device", "//server/share")]);
        assert_eq!(host_device(&cifs), None);
        let tmpfs = volume("local", &[("type", "tmpfs"), ("device", "tmpfs")]);
        assert_eq!(host_device(&tmpfs), None);
        let plugin = volume("rexray", &[("device", "/etc")]);
        assert_eq!(host_device(&plugin), None);
        assert_eq!(host_device(&Volume::default()), None);
    }
}
