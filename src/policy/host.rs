//! What a container created through the agent may take from the host.
//!
//! The create body lists what in it reaches outside the container
//! ([`HostRequest`]): privileged mode, the host's (or another container's)
//! namespaces, devices, added capabilities, weakened security options and
//! bind mounts of host paths. Each is refused with 403 naming the field,
//! unless `ALLOW_HOST_ACCESS=true`; a bind mount is also allowed when its
//! host path lies under one of the `ALLOW_BIND_MOUNTS_FROM` directories.
//!
//! A host path is judged as written, component by component (`//` and `.`
//! collapse; any `..` is refused, since the daemon would resolve it), and,
//! where the agent sees the path itself (it runs on the host, or the
//! directory is mounted into its container at the same path), once more
//! with its symlinks resolved, so a link inside an allowed directory cannot
//! point the mount elsewhere.

use crate::error::Error;
use std::path::{Component, Path, PathBuf};

/// Something a create body asks of the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostRequest {
    /// A field that hands out the host whatever its value (`privileged`,
    /// `network_mode: host`, `devices`, ...).
    Field(&'static str),
    /// A bind mount of this host path (field `binds`).
    Bind(String),
}

/// `ALLOW_HOST_ACCESS` and `ALLOW_BIND_MOUNTS_FROM`.
#[derive(Debug, Clone, Default)]
pub struct HostAccess {
    pub allowed: bool,
    /// Normalised absolute directories.
    pub bind_prefixes: Vec<PathBuf>,
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

impl HostAccess {
    /// The first refusal among `requests`, if any.
    pub fn vet(&self, requests: &[HostRequest]) -> Result<(), Error> {
        if self.allowed {
            return Ok(());
        }
        requests.iter().try_for_each(|r| match r {
            HostRequest::Field(field) => Err(Error::Denied(format!(
                "'{field}' gives the container access to the host and is refused; \
                 an operator can allow it with ALLOW_HOST_ACCESS=true"
            ))),
            HostRequest::Bind(path) if self.bind_allowed(path) => Ok(()),
            HostRequest::Bind(path) => Err(Error::Denied(format!(
                "'binds': the host path '{}' is not under ALLOW_BIND_MOUNTS_FROM ({}); \
                 an operator can allow it there or with ALLOW_HOST_ACCESS=true",
                crate::error::clip(path, 128),
                self.shown_prefixes()
            ))),
        })
    }

    fn bind_allowed(&self, path: &str) -> bool {
        let Some(path) = normalise(path) else {
            return false;
        };
        let under = |p: &Path| self.bind_prefixes.iter().any(|pre| p.starts_with(pre));
        under(&path) && std::fs::canonicalize(&path).map_or(true, |real| under(&real))
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
mod tests {
    use super::*;

    fn access(prefixes: &[&str]) -> HostAccess {
        HostAccess {
            allowed: false,
            bind_prefixes: prefixes.iter().map(PathBuf::from).collect(),
        }
    }

    #[test]
    fn paths_are_normalised_and_parent_steps_refused() {
        assert_eq!(
            normalise("/srv//data/./x/"),
            Some(PathBuf::from("/srv/data/x"))
        );
        assert_eq!(normalise("/"), Some(PathBuf::from("/")));
        for bad in ["srv/data", "/srv/../etc", "/srv/data/..", "", "./x"] {
            assert_eq!(normalise(bad), None, "{bad}");
        }
    }

    #[test]
    fn binds_are_allowed_only_under_a_prefix_on_component_boundaries() {
        let a = access(&["/srv/data"]);
        for ok in ["/srv/data", "/srv/data/app", "/srv//data/./app"] {
            assert!(a.vet(&[HostRequest::Bind(ok.into())]).is_ok(), "{ok}");
        }
        for bad in [
            "/srv/database",
            "/srv",
            "/etc",
            "/srv/data/../../etc",
            "relative",
        ] {
            let e = a.vet(&[HostRequest::Bind(bad.into())]).unwrap_err();
            assert_eq!(e.status(), 403, "{bad}");
            assert!(
                e.message().contains("ALLOW_BIND_MOUNTS_FROM (/srv/data)"),
                "{}",
                e.message()
            );
        }
    }

    #[test]
    fn a_symlink_out_of_an_allowed_directory_is_refused() {
        let dir = std::env::temp_dir().join(format!("binds-{}", crate::random::token(6)));
        std::fs::create_dir_all(dir.join("inside")).unwrap();
        std::os::unix::fs::symlink("/etc", dir.join("escape")).unwrap();
        let a = access(&[dir.to_str().unwrap()]);
        let bind = |p: &str| HostRequest::Bind(dir.join(p).display().to_string());
        assert!(a.vet(&[bind("inside")]).is_ok());
        assert!(a.vet(&[bind("escape")]).is_err(), "the link leads to /etc");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn host_fields_are_refused_by_name_unless_host_access_is_allowed() {
        let a = access(&[]);
        let e = a.vet(&[HostRequest::Field("privileged")]).unwrap_err();
        assert_eq!(e.status(), 403);
        assert!(
            e.message()
                .starts_with("'privileged' gives the container access to the host")
        );
        assert!(e.message().contains("ALLOW_HOST_ACCESS=true"));
        assert!(a.vet(&[]).is_ok());
        let open = HostAccess { allowed: true, ..a };
        let all = [
            HostRequest::Field("devices"),
            HostRequest::Bind("/etc".into()),
        ];
        assert!(open.vet(&all).is_ok());
    }
}
