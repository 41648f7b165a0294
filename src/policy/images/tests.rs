use super::*;

fn normal(s: &str) -> String {
    Reference::parse(s).unwrap().normal()
}

#[test]
fn references_take_docker_s_normal_form() {
    assert_eq!(normal("alpine"), "docker.io/library/alpine");
    assert_eq!(normal("alpine:3.20"), "docker.io/library/alpine:3.20");
    assert_eq!(normal("acme/api:1"), "docker.io/acme/api:1");
    assert_eq!(normal("docker.io/alpine"), "docker.io/library/alpine");
    assert_eq!(normal("index.docker.io/acme/x"), "docker.io/acme/x");
    assert_eq!(normal("ghcr.io/acme/api"), "ghcr.io/acme/api");
    assert_eq!(
        normal("127.0.0.1:5000/team/app:v2"),
        "127.0.0.1:5000/team/app:v2"
    );
    assert_eq!(normal("localhost/app"), "localhost/app");
    let digest = format!("sha256:{}", "a".repeat(64));
    let r = Reference::parse(&format!("alpine@{digest}")).unwrap();
    assert_eq!(r.pin, Some(Pin::Digest(digest.clone())));
    assert_eq!(r.to_string(), format!("alpine@{digest}"));
}

#[test]
fn the_tag_comes_from_the_image_the_field_or_latest() {
    let tagged = |image: &str, tag: Option<&str>| {
        Reference::parse(image)
            .and_then(|r| r.tagged(tag))
            .map(|r| r.to_string())
    };
    assert_eq!(tagged("alpine", None).unwrap(), "alpine:latest");
    assert_eq!(tagged("alpine", Some("3.20")).unwrap(), "alpine:3.20");
    assert_eq!(tagged("alpine:3.20", None).unwrap(), "alpine:3.20");
    assert_eq!(tagged("alpine:3.20", Some("3.20")).unwrap(), "alpine:3.20");
    assert_eq!(
        tagged("127.0.0.1:5000/app", None).unwrap(),
        "127.0.0.1:5000/app:latest"
    );
    let digest = format!("alpine@sha256:{}", "0".repeat(64));
    assert_eq!(tagged(&digest, None).unwrap(), digest);
    assert!(
        tagged("alpine:3.20", Some("3.21"))
            .unwrap_err()
            .contains("\"3.20\"")
    );
    assert!(tagged(&digest, Some("3")).unwrap_err().contains("digest"));
    assert!(
        tagged("alpine", Some("-x"))
            .unwrap_err()
            .contains("not a tag")
    );
}

#[test]
fn bad_references_are_refused() {
    for bad in [
        "",
        "Alpine",
        "alpine:",
        "alpine:-x",
        "/alpine",
        "alpine/",
        "a//b",
        "-a",
        "a-",
        "a b",
        "a\nb",
        "registry:99999/app",
        "alpine@sha256:abc",
        "alpine@md5:0000",
        "ünïcode",
        &"a".repeat(256),
        &format!("alpine:{}", "t".repeat(129)),
    ] {
        assert!(Reference::parse(bad).is_err(), "{bad:?}");
    }
}

fn allows(globs: &[&str], reference: &str) -> bool {
    let globs: Vec<String> = globs.iter().map(ToString::to_string).collect();
    allowed(&globs, reference)
}

#[test]
fn an_empty_list_allows_every_image_but_not_a_bad_reference() {
    assert!(allows(&[], "anything/at:all"));
    assert!(!allows(&[], "Not A Reference"));
}

#[test]
fn a_glob_without_a_tag_allows_every_tag_of_what_it_names() {
    let official = ["alpine"];
    for ok in [
        "alpine",
        "alpine:3.20",
        "docker.io/library/alpine:latest",
        &format!("alpine@sha256:{}", "1".repeat(64)),
    ] {
        assert!(allows(&official, ok), "{ok}");
    }
    for no in [
        "alpine-extra",
        "acme/alpine",
        "ghcr.io/library/alpine",
        "nginx",
    ] {
        assert!(!allows(&official, no), "{no}");
    }
}

#[test]
fn globs_are_read_as_references_are() {
    assert!(allows(&["library/alp*"], "alpine:3"));
    assert!(!allows(&["library/*"], "acme/api"));
    assert!(allows(&["*"], "acme/api"));
    assert!(!allows(&["*"], "ghcr.io/acme/api"));
    assert!(allows(&["acme/*"], "acme/api:1"));
    assert!(!allows(&["acme/*"], "alpine"));
    assert!(allows(&["docker.io/*"], "alpine"));
    assert!(allows(&["docker.io/*"], "acme/api"));
    assert!(!allows(&["docker.io/*"], "ghcr.io/acme/api"));
    assert!(allows(&["ghcr.io/acme/*"], "ghcr.io/acme/team/api:2"));
    assert!(!allows(&["ghcr.io/acme/*"], "ghcr.io/acmeevil/api"));
    assert!(allows(&["127.0.0.1:5000/*"], "127.0.0.1:5000/t/app:x"));
    assert!(!allows(&["127.0.0.1:5000/*"], "127.0.0.1:5001/t/app:x"));
}

#[test]
fn a_glob_with_a_tag_allows_just_those_tags() {
    let threes = ["alpine:3.*"];
    assert!(allows(&threes, "alpine:3.20"));
    assert!(!allows(&threes, "alpine:latest"));
    assert!(!allows(&threes, "alpine"));
    assert!(allows(&["nginx:latest", "redis"], "nginx"));
    let digest = format!("alpine@sha256:{}", "2".repeat(64));
    assert!(allows(&["alpine@sha256:*"], &digest));
    assert!(!allows(&["alpine@sha256:*"], "alpine:latest"));
}

#[test]
fn glob_patterns_are_checked() {
    for ok in [
        "alpine",
        "ghcr.io/acme/*",
        "127.0.0.1:5000/*",
        "alpine:3.?",
        "a@sha256:*",
    ] {
        assert!(check_glob(ok).is_ok(), "{ok}");
    }
    for bad in ["", "a b", "a,b", "é", &"a".repeat(513)] {
        assert!(check_glob(bad).is_err(), "{bad:?}");
    }
}
