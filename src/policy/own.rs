//! Which container the agent runs in, found once at start so that it can
//! refuse to stop or restart itself.
//!
//! In order: the bind mount of `/etc/hostname` in `/proc/self/mountinfo`
//! (Docker mounts it from `.../containers/<id>/hostname`, on cgroup v1 and
//! v2 alike), a 64-hex-digit segment of a path in `/proc/self/cgroup`
//! (cgroup v1, Kubernetes), and last the hostname if it is 12 hex digits
//! (Docker's default hostname is the short id). Outside a container none
//! of these is found; a stale or foreign id (an agent in a container of
//! another daemon) simply matches no container of this one.

/// The agent's own container id (full, or the 12-digit short id), if any.
pub fn detect() -> Option<String> {
    let read = |path| std::fs::read_to_string(path).unwrap_or_default();
    from_mountinfo(&read("/proc/self/mountinfo"))
        .or_else(|| from_cgroup(&read("/proc/self/cgroup")))
        .or_else(|| from_hostname(read("/proc/sys/kernel/hostname").trim()))
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The id in the source of the `/etc/hostname` bind mount.
pub fn from_mountinfo(text: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let mut fields = line.split(' ').skip(3);
        let (root, mount_point) = (fields.next()?, fields.next()?);
        if mount_point != "/etc/hostname" {
            return None;
        }
        let mut parts = root.split('/');
        parts.find(|p| *p == "containers")?;
        parts.next().filter(|id| is_hex(id, 64)).map(str::to_string)
    })
}

/// A container id in a cgroup path (`/docker/<id>`, `docker-<id>.scope`,
/// `/kubepods/.../<id>`).
pub fn from_cgroup(text: &str) -> Option<String> {
    text.lines()
        .filter_map(|line| line.splitn(3, ':').nth(2))
        .flat_map(|path| path.split('/'))
        .map(|seg| {
            let seg = seg.strip_suffix(".scope").unwrap_or(seg);
            seg.rsplit('-').next().unwrap_or(seg)
        })
        .find(|seg| is_hex(seg, 64))
        .map(str::to_string)
}

/// Docker's default hostname: the container's 12-digit short id.
pub fn from_hostname(name: &str) -> Option<String> {
    is_hex(name, 12).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "d2d23d3bd6be0a1e8777596400d74e1dc281deafc3b9858f387033582b4e62aa";

    #[test]
    fn the_hostname_bind_mount_names_the_container() {
        let text = format!(
            "72 50 0:45 / / rw,relatime - overlay overlay rw\n\
             89 72 254:0 /var/lib/docker/containers/{ID}/resolv.conf /etc/resolv.conf rw - ext4 /dev/vda rw\n\
             90 72 254:0 /var/lib/docker/containers/{ID}/hostname /etc/hostname rw - ext4 /dev/vda rw\n"
        );
        assert_eq!(from_mountinfo(&text).as_deref(), Some(ID));
        let own_fs =
            format!("90 72 254:0 /containers/{ID}/hostname /etc/hostname rw - ext4 /dev/sdb rw");
        assert_eq!(from_mountinfo(&own_fs).as_deref(), Some(ID));
    }

    #[test]
    fn the_host_view_of_other_containers_is_not_ours() {
        // On the host, containers' shm mounts are visible, but /etc/hostname is not theirs.
        let host = format!(
            "30 1 254:0 / / rw - ext4 /dev/vda rw\n\
             400 30 0:50 / /var/lib/docker/containers/{ID}/mounts/shm rw - tmpfs shm rw\n"
        );
        assert_eq!(from_mountinfo(&host), None);
        assert_eq!(from_mountinfo(""), None);
    }

    #[test]
    fn cgroup_paths_name_the_container() {
        for text in [
            format!("12:memory:/docker/{ID}\n0::/docker/{ID}"),
            format!("0::/system.slice/docker-{ID}.scope"),
            format!("0::/kubepods/besteffort/pod1234/{ID}"),
        ] {
            assert_eq!(from_cgroup(&text).as_deref(), Some(ID), "{text}");
        }
        for text in [
            "0::/",
            "0::/user.slice/user-1000.slice/session-2.scope",
            "4:memory:/process_api/dfd089de7c6e2b3b8d995521b1466d3a",
        ] {
            assert_eq!(from_cgroup(text), None, "{text}");
        }
    }

    #[test]
    fn only_a_short_id_hostname_counts() {
        assert_eq!(
            from_hostname("d2d23d3bd6be").as_deref(),
            Some("d2d23d3bd6be")
        );
        for other in ["vm", "web-1", "D2D23D3BD6BE", "d2d23d3bd6b", ""] {
            assert_eq!(from_hostname(other), None, "{other}");
        }
    }
}
