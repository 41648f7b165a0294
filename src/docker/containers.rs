//! Containers, as Docker's API has them: list, inspect, the actions,
//! create and remove, logs, stats and processes. Each endpoint is a few
//! lines: the path (every caller-given segment encoded by [`path`]), the
//! call with its deadline, the decoding.

use super::client::Docker;
use super::models::{ContainerInspect, Created, Stats, Top};
use super::{DockerError, path};
use hyper::body::Incoming;
use hyper::{Method, Response, StatusCode};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// What a log read asks Docker for.
#[derive(Debug, Default)]
pub struct LogsQuery<'a> {
    /// Keep the response open for lines to come.
    pub follow: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// Lines from the end; `None` for all.
    pub tail: Option<u32>,
    pub since: Option<&'a str>,
    pub until: Option<&'a str>,
    pub timestamps: bool,
}

fn flag(on: bool) -> &'static str {
    if on { "1" } else { "0" }
}

impl LogsQuery<'_> {
    /// The query string: only what was asked for, every value encoded.
    pub fn query(&self) -> String {
        let tail = self.tail.map_or("all".into(), |t| t.to_string());
        let mut pairs = vec![
            ("stdout", flag(self.stdout)),
            ("stderr", flag(self.stderr)),
            ("tail", tail.as_str()),
        ];
        if self.follow {
            pairs.insert(0, ("follow", "1"));
        }
        if self.timestamps {
            pairs.push(("timestamps", "1"));
        }
        for (k, v) in [("since", self.since), ("until", self.until)] {
            if let Some(v) = v {
                pairs.push((k, v));
            }
        }
        path::query(&pairs)
    }
}

impl Docker {
    /// `GET /containers/json`: every container (`all`) or the running
    /// ones, matching Docker's `filters` (JSON) when given.
    pub async fn containers<T: DeserializeOwned>(
        &self,
        all: bool,
        filters: Option<&str>,
    ) -> Result<Vec<T>, DockerError> {
        let mut pairs = vec![("all", flag(all))];
        pairs.extend(filters.map(|f| ("filters", f)));
        self.get_json(&format!("/containers/json{}", path::query(&pairs)))
            .await
    }

    /// `GET /containers/{id}/json`: a container by id, id prefix or name.
    pub async fn container(&self, id: &str) -> Result<ContainerInspect, DockerError> {
        self.get_json(&path::container(id, "/json")).await
    }

    /// `POST /containers/{id}/{action}` (start, stop, pause, …) with its
    /// query, within `deadline`; Docker's status (204, or 304 "already so").
    pub async fn container_action(
        &self,
        id: &str,
        action: &str,
        query: &[(&str, &str)],
        deadline: Duration,
    ) -> Result<StatusCode, DockerError> {
        let at = path::container(id, &format!("/{action}{}", path::query(query)));
        self.post(&at, deadline).await
    }

    /// A stop or restart, which Docker answers once the container's grace
    /// period is over: sent without a call turn (see [`Docker::post_waiting`]).
    pub async fn container_wait_action(
        &self,
        id: &str,
        action: &str,
        timeout: u32,
        deadline: Duration,
    ) -> Result<StatusCode, DockerError> {
        let t = timeout.to_string();
        let at = path::container(id, &format!("/{action}{}", path::query(&[("t", &t)])));
        self.post_waiting(&at, deadline).await
    }

    /// `POST /containers/create` with Docker's create body.
    pub async fn create_container(
        &self,
        name: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Created, DockerError> {
        let query = name.map_or_else(String::new, |n| path::query(&[("name", n)]));
        let at = format!("/containers/create{query}");
        self.send_json(Method::POST, &at, body, self.timeout())
            .await
    }

    /// `DELETE /containers/{id}`: `force` kills a running one, `volumes`
    /// removes its anonymous volumes too.
    pub async fn remove_container(
        &self,
        id: &str,
        force: bool,
        volumes: bool,
    ) -> Result<(), DockerError> {
        let query = path::query(&[("force", flag(force)), ("v", flag(volumes))]);
        let at = path::container(id, &query);
        self.send_json::<serde_json::Value>(Method::DELETE, &at, Vec::new(), self.timeout())
            .await
            .map(drop)
    }

    /// `GET /containers/{id}/logs`: the response, read as it comes.
    pub async fn container_logs(
        &self,
        id: &str,
        query: &LogsQuery<'_>,
    ) -> Result<Response<Incoming>, DockerError> {
        self.open(&path::container(id, &format!("/logs{}", query.query())))
            .await
    }

    /// `GET /containers/{id}/stats?stream=false`: one sample; `one_shot`
    /// skips Docker's wait for a second sample (no CPU figures then).
    pub async fn container_stats(&self, id: &str, one_shot: bool) -> Result<Stats, DockerError> {
        let query = if one_shot {
            "?stream=false&one-shot=true"
        } else {
            "?stream=false"
        };
        self.get_json(&path::container(id, &format!("/stats{query}")))
            .await
    }

    /// `GET /containers/{id}/stats?stream=1`: a sample a second, read as it comes.
    pub async fn follow_container_stats(
        &self,
        id: &str,
    ) -> Result<Response<Incoming>, DockerError> {
        self.open(&path::container(id, "/stats?stream=1")).await
    }

    /// `GET /containers/{id}/top?ps_args=`: the processes in a container.
    pub async fn container_top(&self, id: &str, ps_args: &str) -> Result<Top, DockerError> {
        let query = path::query(&[("ps_args", ps_args)]);
        self.get_json(&path::container(id, &format!("/top{query}")))
            .await
    }

    /// `POST /containers/{id}/exec`: an exec, created (not started).
    pub async fn create_exec(&self, id: &str, body: Vec<u8>) -> Result<Created, DockerError> {
        let at = path::container(id, "/exec");
        self.send_json(Method::POST, &at, body, self.timeout())
            .await
    }
}
