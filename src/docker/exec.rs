//! Execs, as Docker's API has them: start one (attached, over Docker's
//! hijacked connection), inspect it, resize its TTY. Creating one is a
//! container's endpoint ([`Docker::create_exec`]).

use super::client::Docker;
use super::models::ExecInspect;
use super::{DockerError, path};
use hyper::upgrade::Upgraded;

impl Docker {
    /// `POST /exec/{id}/start`, attached: the hijacked connection.
    pub async fn start_exec(&self, id: &str, tty: bool) -> Result<Upgraded, DockerError> {
        let body = if tty {
            br#"{"Detach":false,"Tty":true}"#.as_slice()
        } else {
            br#"{"Detach":false,"Tty":false}"#.as_slice()
        };
        self.hijack(&path::exec(id, "/start"), body).await
    }

    /// `GET /exec/{id}/json`.
    pub async fn exec(&self, id: &str) -> Result<ExecInspect, DockerError> {
        self.get_json(&path::exec(id, "/json")).await
    }

    /// `POST /exec/{id}/resize?h=&w=`.
    pub async fn resize_exec(&self, id: &str, cols: u16, rows: u16) -> Result<(), DockerError> {
        let query = path::query(&[("h", &rows.to_string()), ("w", &cols.to_string())]);
        self.post(&path::exec(id, &format!("/resize{query}")), self.timeout())
            .await
            .map(drop)
    }
}
