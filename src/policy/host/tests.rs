use super::*;

fn access(prefixes: &[&str]) -> HostAccess {
    HostAccess {
        allowed: false,
        bind_prefixes: prefixes.iter().map(PathBuf::from).collect(),
    }
}

/// A fresh directory with `inside/`, a link `escape` to `/etc`, and a
/// link `back` to `inside`.
fn tree() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("binds-{}", crate::random::token(6)));
    std::fs::create_dir_all(dir.join("inside")).unwrap();
    std::os::unix::fs::symlink("/etc", dir.join("escape")).unwrap();
    std::os::unix::fs::symlink("inside", dir.join("back")).unwrap();
    dir
}

fn vet(a: &HostAccess, view: &View, path: &str) -> Result<(), Error> {
    let r = HostRequest::Path("'binds'".into(), path.into(), view.look(path));
    a.vet(&[r], view)
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
fn paths_are_judged_where_they_lead() {
    let dir = tree();
    let a = access(&[dir.to_str().unwrap()]);
    let view = a.view(None);
    let at = |p: &str| dir.join(p).display().to_string();
    assert!(vet(&a, &view, &at("inside")).is_ok());
    assert!(
        vet(&a, &view, &at("back")).is_ok(),
        "a link that stays inside"
    );
    assert_eq!(
        view.look(&at("back")),
        Seen::Real(std::fs::canonicalize(dir.join("inside")).unwrap())
    );
    let e = vet(&a, &view, &at("escape")).unwrap_err();
    assert_eq!(e.status(), 403);
    assert!(e.message().contains("leads to '/etc'"), "{}", e.message());
    let e = vet(&a, &view, &at("escape/new-dir")).unwrap_err();
    assert!(e.message().contains("does not exist"), "{}", e.message());
    let e = vet(&a, &view, &at("inside/missing")).unwrap_err();
    assert!(e.message().contains("does not exist"), "{}", e.message());
    for outside in ["/etc", "/tmp", "relative", "/srv/../etc"] {
        let e = vet(&a, &view, outside).unwrap_err();
        assert!(
            e.message().contains("is not under ALLOW_BIND_MOUNTS_FROM"),
            "{outside}: {}",
            e.message()
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn binds_are_allowed_only_under_a_prefix_on_component_boundaries() {
    let dir = tree();
    let sibling = format!("{}-more", dir.display());
    std::fs::create_dir_all(&sibling).unwrap();
    let a = access(&[dir.to_str().unwrap()]);
    let view = a.view(None);
    assert!(vet(&a, &view, &format!("{}//inside/.", dir.display())).is_ok());
    let e = vet(&a, &view, &sibling).unwrap_err();
    assert!(e.message().contains("is not under"), "{}", e.message());
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&sibling).unwrap();
}

#[test]
fn a_directory_the_agent_cannot_see_refuses_paths_under_it_with_the_fix() {
    let dir = tree();
    let a = access(&[dir.to_str().unwrap()]);
    let in_container = a.view(Some(&[PathBuf::from("/somewhere/else")]));
    let e = vet(&a, &in_container, &dir.join("inside").display().to_string()).unwrap_err();
    let fix = format!("-v {0}:{0}:ro", dir.display());
    assert!(e.message().contains(&fix), "{}", e.message());
    let mounted = a.view(Some(std::slice::from_ref(&dir)));
    assert!(vet(&a, &mounted, &dir.join("inside").display().to_string()).is_ok());
    let missing = access(&["/no/such/allowed/dir"]);
    let e = vet(&missing, &missing.view(None), "/no/such/allowed/dir/x").unwrap_err();
    assert!(e.message().contains("cannot see"), "{}", e.message());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn host_fields_are_refused_by_name_unless_host_access_is_allowed() {
    let a = access(&[]);
    let view = a.view(None);
    let e = a
        .vet(&[HostRequest::Field("privileged")], &view)
        .unwrap_err();
    assert_eq!(e.status(), 403);
    assert!(
        e.message()
            .starts_with("'privileged' gives the container access to the host")
    );
    assert!(e.message().contains("ALLOW_HOST_ACCESS=true"));
    assert!(a.vet(&[], &view).is_ok());
    let open = HostAccess { allowed: true, ..a };
    let all = [
        HostRequest::Field("devices"),
        HostRequest::Path("'binds'".into(), "/etc".into(), Seen::Real("/etc".into())),
    ];
    assert!(open.vet(&all, &view).is_ok());
}
