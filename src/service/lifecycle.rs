//! Creating and removing containers, and removing images.
//!
//! A create is admitted by the policy (role `admin`, read-only modes), its
//! body read into a [`Spec`] (422 for anything outside the documented
//! fields), and the spec judged by the policy: `IMAGE_ALLOW` against the
//! image Docker resolves the reference to (an id or id prefix is judged by
//! the image it means, and the container made is checked to run that very
//! image), what it asks of the host and mounts ([`super::mounts`]), and
//! the labels that keep it in scope. Docker gets the spec's own JSON and
//! never pulls: a missing image is 404. With `start`, a container that
//! does not start is removed again, with any volume made for it, so
//! nothing is left half-done. Every create and removal, done or refused,
//! is recorded in the audit trail with the image.

use super::Service;
use super::containers::{action, detail};
use super::spec::Spec;
use crate::contract::{ContainerAction, ContainerDetail, ImageRemoval};
use crate::docker::DockerError;
use crate::error::Error;
use crate::input::Input;
use crate::policy::{Caller, Op};
use serde_json::Value;

/// Docker's error, with `more` added to its message, at Docker's status:
/// 409 a conflict, another 4xx a bad request, the rest a failure.
fn docker_said(e: DockerError, more: &str) -> Error {
    match e {
        DockerError::Status { status, message } => {
            let message = format!("{message}{more}");
            match status {
                409 => Error::Conflict(message),
                400..=499 => Error::BadRequest(format!("Docker refused it: {message}")),
                _ => Error::DockerFailed(message),
            }
        }
        other => Error::from(other),
    }
}

/// A reference that could name an image: the characters Docker allows,
/// each `/`-separated part starting with a letter or digit (so no `..`).
/// (It is sent as one encoded path segment whatever it holds; this answers
/// 404 without bothering the daemon.)
fn check_image_ref(image: &str) -> Result<(), Error> {
    let ok = image
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_.-/:@".contains(&b));
    let parts_ok = image
        .split('/')
        .all(|p| p.starts_with(|c: char| c.is_ascii_alphanumeric()));
    if ok && parts_ok && image.len() <= 512 {
        Ok(())
    } else {
        Err(Error::ImageNotFound(image.to_string()))
    }
}

impl Service {
    /// Creates (and with `start`, starts) a container from a create body
    /// (`input`), read into a [`Spec`]. A refusal, a body that does not
    /// read included, is recorded with the name and image as written.
    pub async fn create(
        &self,
        caller: &Caller,
        op: Op,
        mut input: Input<'_>,
    ) -> Result<ContainerDetail, Error> {
        self.permit(caller, op)?;
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("").to_string();
        let written = (text(input.value("name")), text(input.value("image")));
        let mut spec = Spec::read(&mut input);
        let result = match input.finish() {
            Ok(()) => self.create_vetted(&mut spec).await,
            Err(e) => Err(e),
        };
        let id = result.as_ref().map_or("", |c| c.id.as_str());
        let name = result
            .as_ref()
            .map_or(written.0.as_str(), |c| c.name.as_str());
        self.record_lifecycle(caller, op, (id, name), &written.1, &result);
        result
    }

    async fn create_vetted(&self, spec: &mut Spec) -> Result<ContainerDetail, Error> {
        self.vet_host_paths(spec).await?;
        let mut labels = spec.labels.clone();
        self.policy.label_new(spec.name.as_deref(), &mut labels)?;
        let image = self.judge_image(&spec.image).await?;
        let missing = self.vet_volumes(spec).await?;
        let made = self.make_volumes(&missing).await?;
        let created = self.create_container(spec, &labels, &image).await;
        if created.is_err() {
            self.remove_volumes(&made).await;
        }
        let id = created?;
        if spec.start {
            if let Err(e) = self.start_or_remove(&id).await {
                self.remove_volumes(&made).await;
                return Err(e);
            }
        }
        Ok(detail(self.inspect(&id).await?))
    }

    /// The image Docker resolves `reference` to (its id), if `IMAGE_ALLOW`
    /// allows it by one of its tags or digests; 404 when there is none
    /// (403 first if the reference as written is not allowed either).
    async fn judge_image(&self, reference: &str) -> Result<String, Error> {
        let found = self.docker.image(reference).await;
        match found {
            Ok(image) => {
                let tags = image.repo_tags.iter().flatten();
                let names: Vec<&str> = tags
                    .chain(image.repo_digests.iter().flatten())
                    .map(String::as_str)
                    .collect();
                self.policy.check_image_named(reference, &names)?;
                Ok(image.id)
            }
            Err(e) if e.is_not_found() => {
                self.policy.check_image(reference)?;
                Err(Error::ImageNotFound(reference.to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Creates the container of `spec` with `labels`; its id, once Docker
    /// made it from the judged `image` (else it is removed again: the
    /// reference came to mean another image in between).
    async fn create_container(
        &self,
        spec: &Spec,
        labels: &std::collections::BTreeMap<String, String>,
        image: &str,
    ) -> Result<String, Error> {
        let json = serde_json::to_vec(&spec.docker_body(labels)).map_err(|_| Error::Internal)?;
        let created = self
            .docker
            .create_container(spec.name.as_deref(), json)
            .await
            .map_err(|e| match e {
                e if e.is_not_found() => Error::ImageNotFound(spec.image.clone()),
                e => docker_said(e, ""),
            })?;
        let made = self.inspect(&created.id).await?;
        if made.image != image {
            let _ = self.docker.remove_container(&created.id, true, false).await;
            return Err(Error::Conflict(format!(
                "The image '{}' changed while the container was created; nothing was created",
                crate::error::clip(&spec.image, 128)
            )));
        }
        Ok(created.id)
    }

    /// Starts a container just created; if it does not start, removes it.
    async fn start_or_remove(&self, id: &str) -> Result<(), Error> {
        let start = self
            .docker
            .container_action(id, "start", &[], self.docker.timeout())
            .await;
        let Err(e) = start else { return Ok(()) };
        let removed = self.docker.remove_container(id, true, false).await.is_ok();
        let after = if removed {
            "; the container was created but did not start, and was removed"
        } else {
            "; the container was created but did not start, and removing it failed too"
        };
        Err(docker_said(e, after))
    }

    /// Removes a container (`force` kills a running one; `volumes` also
    /// removes its anonymous volumes).
    pub async fn remove(
        &self,
        caller: &Caller,
        op: Op,
        id: &str,
        force: bool,
        volumes: bool,
    ) -> Result<ContainerAction, Error> {
        let c = self.admit(caller, op, id).await?;
        let done = self
            .docker
            .remove_container(&c.id, force, volumes)
            .await
            .map_err(|e| match e {
                e if e.is_not_found() => Error::ContainerNotFound(id.to_string()),
                e => docker_said(e, ""),
            });
        let name = c.name.trim_start_matches('/');
        self.record_lifecycle(caller, op, (&c.id, name), &c.config.image, &done);
        done?;
        Ok(action(id, "removed"))
    }

    /// Removes an image by reference or id (`force` also removes it from
    /// under stopped containers, and untags an image with several tags).
    pub async fn remove_image(
        &self,
        caller: &Caller,
        op: Op,
        image: &str,
        force: bool,
    ) -> Result<ImageRemoval, Error> {
        self.permit(caller, op)?;
        let result = self.remove_image_checked(image, force).await;
        self.record_lifecycle(caller, op, ("", ""), image, &result);
        result
    }

    async fn remove_image_checked(&self, image: &str, force: bool) -> Result<ImageRemoval, Error> {
        check_image_ref(image)?;
        if force {
            self.policy.force_image_removal()?;
        }
        let items = self
            .docker
            .remove_image(image, force)
            .await
            .map_err(|e| match e {
                e if e.is_not_found() => Error::ImageNotFound(image.to_string()),
                e => docker_said(e, ""),
            })?;
        let listed = |key: &str| -> Vec<String> {
            let items = items.as_array().map(Vec::as_slice).unwrap_or_default();
            items
                .iter()
                .filter_map(|i| i[key].as_str().map(String::from))
                .collect()
        };
        Ok(ImageRemoval {
            image: image.to_string(),
            status: "removed",
            message: format!("Image {image} removed successfully"),
            untagged: listed("Untagged"),
            deleted: listed("Deleted"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_are_checked_before_docker_is_asked() {
        for ok in [
            "alpine",
            "alpine:3.20",
            "registry.local:5000/team/app:1",
            "sha256:0be045aa90",
            "app@sha256:ab",
        ] {
            assert!(check_image_ref(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "../../info",
            "a/../b",
            "a//b",
            "/a",
            ".x",
            "a b",
            "a?force=1",
            "é",
            &"a".repeat(513),
        ] {
            assert_eq!(check_image_ref(bad).unwrap_err().status(), 404, "{bad}");
        }
    }
}
