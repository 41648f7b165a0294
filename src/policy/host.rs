//! What a container may take from the host.
//!
//! A create body lists what in it reaches outside the container
//! ([`HostRequest`]): privileged mode, the host's (or another container's)
//! namespaces, devices, added capabilities, weakened security options and
//! host paths — bind mounts, and named volumes whose driver options bind a
//! host path or device. Each is refused with 403 naming the field, unless
//! `ALLOW_HOST_ACCESS=true`; a host path is also allowed when it lies under
//! one of the `ALLOW_BIND_MOUNTS_FROM` directories.
//!
//! A host path is judged by where it leads, not how it is spelled: resolved
//! on disk, symlinks and all ([`View::look`]), it must be an existing path
//! under an allowed directory as the agent sees it. A path that does not
//! exist is refused (Docker would create it, as root, wherever the links
//! lead). The agent sees an allowed directory as the host does when it runs
//! on the host, or when the directory is bind-mounted into the agent's
//! container at the same path ([`HostAccess::view`]); where it cannot,
//! paths under it are refused with the mount that fixes it, never judged on
//! their spelling. Docker then gets the resolved path. The same judgement
//! is made again before a container with host paths starts, restarts or is
//! unpaused, so a link swapped in after the create is caught.

use crate::error::{Error, clip};
use std::path::{Component, Path, PathBuf};

/// Something a container asks of the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostRequest {
    /// A field that hands out the host whatever its value (`privileged`,
    /// `network_mode: host`, `devices`, ...).
    Field(&'static str),
    /// A host path: what asks for it (`'binds'`, or a volume of them), the
    /// path as given, and where it leads.
    Path(String, String, Seen),
}

/// Where a host path leads, as the agent found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// This real path, every symlink resolved.
    Real(PathBuf),
    /// Nothing there, as the agent sees it: missing, or a link in it leads
    /// somewhere the agent cannot see.
    Missing,
    /// Under this allowed directory, which the agent cannot see as the
    /// host does.
    Unseen(PathBuf),
    /// Not an absolute path without `..`.
    Invalid,
}

/// `ALLOW_HOST_ACCESS` and `ALLOW_BIND_MOUNTS_FROM`.
#[derive(Debug, Clone, Default)]
pub struct HostAccess {
    pub allowed: bool,
    /// Normalised absolute directories, as configured.
    pub bind_prefixes: Vec<PathBuf>,
}

/// The allowed directories as the agent sees them now.
#[derive(Debug, Default)]
pub struct View {
    /// Real paths of the directories the agent sees as the host does.
    seen: Vec<PathBuf>,
    /// Configured directories it cannot see.
    unseen: Vec<PathBuf>,
}

/// `path` with `.` and repeated `/` dropped, if it is absolute and has no `..`.
pub fn normalise(path: &str) -> Option<PathBuf> {
    let path = Path::new(path);
    let mut out = PathBuf::from("/");
    if !path.is_absolute() {
        return None;
    }
    for part in path.components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

impl View {
    /// Where the host path `given` leads.
    pub fn look(&self, given: &str) -> Seen {
        let Some(path) = normalise(given) else {
            return Seen::Invalid;
        };
        if let Some(dir) = self.unseen.iter().find(|d| path.starts_with(d)) {
            return Seen::Unseen(dir.clone());
        }
        match std::fs::canonicalize(&path) {
            Ok(real) => Seen::Real(real),
            Err(_) => Seen::Missing,
        }
    }

    fn holds(&self, real: &Path) -> bool {
        self.seen.iter().any(|d| real.starts_with(d))
    }
}

impl HostAccess {
    /// The allowed directories as the agent sees them. `own_binds` are the
    /// host paths mounted into the agent's container at the same path
    /// (`None` when the agent runs on the host): a directory is seen when
    /// it lies within one of them, or on the host, when it exists.
    pub fn view(&self, own_binds: Option<&[PathBuf]>) -> View {
        let mut view = View::default();
        for dir in &self.bind_prefixes {
            let visible = own_binds.is_none_or(|binds| binds.iter().any(|b| dir.starts_with(b)));
            match std::fs::canonicalize(dir) {
                Ok(real) if visible => view.seen.push(real),
                _ => view.unseen.push(dir.clone()),
            }
        }
        view
    }

    /// Whether host paths are judged at all (not with `ALLOW_HOST_ACCESS`).
    pub fn judges_paths(&self) -> bool {
        !self.allowed
    }

    /// Whether `path`, as spelled, lies under an allowed directory.
    pub fn under_allowed(&self, path: &str) -> bool {
        normalise(path).is_some_and(|p| self.bind_prefixes.iter().any(|d| p.starts_with(d)))
    }

    /// The first refusal among `requests`, if any; `view` is the allowed
    /// directories as the agent sees them.
    pub fn vet(&self, requests: &[HostRequest], view: &View) -> Result<(), Error> {
        if self.allowed {
            return Ok(());
        }
        requests.iter().try_for_each(|r| match r {
            HostRequest::Field(field) => Err(Error::Denied(format!(
                "'{field}' gives the container access to the host and is refused; \
                 an operator can allow it with ALLOW_HOST_ACCESS=true"
            ))),
            HostRequest::Path(field, given, seen) => self.vet_path(field, given, seen, view),
        })
    }

    fn vet_path(&self, what: &str, given: &str, seen: &Seen, view: &View) -> Result<(), Error> {
        let shown = clip(given, 128);
        let allow = "an operator can allow it there or with ALLOW_HOST_ACCESS=true";
        let why = match seen {
            Seen::Real(real) if view.holds(real) => return Ok(()),
            Seen::Real(real) if real.as_os_str() != given => format!(
                "the host path '{shown}' leads to '{}', which is not under ALLOW_BIND_MOUNTS_FROM ({}); {allow}",
                clip(&real.display().to_string(), 128),
                self.shown_prefixes()
            ),
            Seen::Unseen(dir) => format!(
                "the host path '{shown}' is under '{}', which the agent cannot see: it runs in a \
                 container without that directory mounted at the same path, so it cannot tell \
                 where links in it lead. Mount it into the agent's container at the same path \
                 (docker run -v {0}:{0}:ro ...), or allow host access with ALLOW_HOST_ACCESS=true",
                dir.display()
            ),
            Seen::Missing if self.under_allowed(given) => format!(
                "the host path '{shown}' does not exist (Docker would create it as root), or a \
                 link in it leads where the agent cannot see; create it first"
            ),
            _ => format!(
                "the host path '{shown}' is not under ALLOW_BIND_MOUNTS_FROM ({}); {allow}",
                self.shown_prefixes()
            ),
        };
        Err(Error::Denied(format!("{what}: {why}")))
    }

    fn shown_prefixes(&self) -> String {
        if self.bind_prefixes.is_empty() {
            return "none set".into();
        }
        let shown: Vec<_> = self
            .bind_prefixes
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests;
