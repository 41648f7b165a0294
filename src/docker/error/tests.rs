use super::*;
use serde_json::json;

fn unix(cause: Cause) -> Unreachable {
    Unreachable {
        endpoint: Endpoint::Unix("/run/d.sock".into()),
        cause,
    }
}

#[test]
fn the_os_error_is_found_in_the_chain_of_causes() {
    #[derive(Debug)]
    struct Wrapper(io::Error);
    impl fmt::Display for Wrapper {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("client error (Connect)")
        }
    }
    impl std::error::Error for Wrapper {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    let endpoint = Endpoint::Unix("/run/d.sock".into());
    let cases = [
        (io::ErrorKind::PermissionDenied, Cause::PermissionDenied),
        (io::ErrorKind::NotFound, Cause::NotFound),
        (io::ErrorKind::ConnectionRefused, Cause::Refused),
    ];
    for (kind, cause) in cases {
        let err = Wrapper(io::Error::from(kind));
        assert_eq!(Unreachable::classify(&endpoint, &err).cause, cause);
    }
    let reset = Wrapper(io::Error::new(io::ErrorKind::ConnectionReset, "reset"));
    assert_eq!(
        Unreachable::classify(&endpoint, &reset).cause,
        Cause::Other("reset".into())
    );
}

#[test]
fn messages_name_the_socket_the_os_error_and_the_fix() {
    assert_eq!(
        unix(Cause::PermissionDenied).to_string(),
        "cannot open the Docker socket /run/d.sock: permission denied — run the agent in the \
             socket's group (docker run --group-add $(stat -c %g /run/d.sock)) or set DOCKER_HOST"
    );
    assert_eq!(
        unix(Cause::PermissionDenied).summary(),
        "cannot open the Docker socket: permission denied"
    );
    let tcp = Unreachable {
        endpoint: Endpoint::Tcp("10.0.0.5:2375".into()),
        cause: Cause::Other("timed out".into()),
    };
    assert_eq!(
        tcp.to_string(),
        "cannot reach the Docker daemon at tcp://10.0.0.5:2375: timed out — check that the \
             daemon listens there or set DOCKER_HOST"
    );
    assert_eq!(tcp.summary(), "cannot reach the Docker daemon: timed out");
    for cause in [Cause::NotFound, Cause::Refused, Cause::Other("x".into())] {
        let u = unix(cause);
        assert!(u.to_string().contains("DOCKER_HOST"), "{u}");
        assert!(!u.summary().contains("/run/d.sock"), "{}", u.summary());
    }
}

#[test]
fn docker_errors_map_to_statuses() {
    let status = |e: DockerError| Error::from(e).status();
    assert_eq!(
        status(DockerError::Unavailable(
            "connect: /var/run/docker.sock".into()
        )),
        503
    );
    assert_eq!(status(DockerError::Timeout), 504);
    assert_eq!(
        status(DockerError::Status {
            status: 409,
            message: "busy".into()
        }),
        409
    );
    assert_eq!(
        status(DockerError::Status {
            status: 500,
            message: "boom".into()
        }),
        502
    );
    assert_eq!(
        status(DockerError::Status {
            status: 404,
            message: "no image".into()
        }),
        502
    );
    assert_eq!(status(DockerError::Protocol("bad json".into())), 502);
}

#[test]
fn container_calls_map_404_to_not_found() {
    let e = Error::for_container(
        DockerError::Status {
            status: 404,
            message: "No such container: x".into(),
        },
        "web",
    );
    assert_eq!(e.status(), 404);
    assert_eq!(e.body(), json!({"detail": "Container 'web' not found"}));
}

#[test]
fn unavailable_detail_hides_the_socket_path() {
    let e = Error::from(DockerError::Unavailable(
        "connect /var/run/docker.sock: ENOENT".into(),
    ));
    assert_eq!(e.body(), json!({"detail": "Docker service is unavailable"}));
}

#[test]
fn pull_errors_say_not_found_or_credentials() {
    let docker = |status, message: &str| DockerError::Status {
        status,
        message: message.into(),
    };
    let e = Error::for_image(docker(404, "manifest unknown"), "app:1");
    assert_eq!(
        (
            e.status(),
            e.message().starts_with("Image 'app:1' not found")
        ),
        (404, true)
    );
    for (status, message) in [
        (
            500,
            "Head \"http://r/v2/a/manifests/1\": no basic auth credentials",
        ),
        (500, "unauthorized: authentication required"),
        (401, "who are you"),
    ] {
        let e = Error::for_image(docker(status, message), "app:1");
        assert_eq!(e.status(), 401, "{message}");
        assert!(e.message().contains(message), "{}", e.message());
    }
    let refused = docker(500, "dial tcp 127.0.0.1:5009: connect: connection refused");
    assert_eq!(Error::for_image(refused, "app:1").status(), 502);
}
