# docker-agent: the static binary alone, FROM scratch.
#
# Built offline by `make image`, which first builds target/static/docker-agent
# (`make release`) and then copies it in: no base image, no registry, no
# shell, no libc. Runs as an unprivileged user; to reach the Docker socket,
# add the socket's group at run time (`--group-add $(stat -c %g /var/run/docker.sock)`).
FROM scratch
ARG BIN=target/static/docker-agent
COPY ${BIN} /docker-agent
USER 65532:65532
EXPOSE 9000
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 CMD ["/docker-agent", "healthcheck", "--host", "0.0.0.0"]
ENTRYPOINT ["/docker-agent"]
# Every address of the container, whatever HOST an --env-file brings: a
# HOST=127.0.0.1 written for `cargo run` would leave the published port dead.
CMD ["serve", "--host", "0.0.0.0"]
