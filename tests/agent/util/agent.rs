//! An agent served in-process on port 0 and a small HTTP client for it.

use super::*;
use docker_agent::app::App;
use docker_agent::config::{Config, Vars};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{HeaderMap, Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::net::SocketAddr;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    /// `resp`, its body read whole.
    pub async fn read(resp: hyper::Response<hyper::body::Incoming>) -> Resp {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// An agent served in-process on 127.0.0.1:0, shut down when dropped.
pub struct Agent {
    pub addr: SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
    stop: std::sync::Mutex<Option<oneshot::Sender<()>>>,
    task: Option<JoinHandle<()>>,
}

/// The settings every test agent starts from; `overrides` win.
pub fn test_vars(overrides: &[(&str, &str)]) -> Vars {
    let host = docker_host();
    let mut pairs = CREDENTIALS.to_vec();
    pairs.extend([("HOST", "127.0.0.1"), ("PORT", "0"), ("DOCKER_HOST", &host)]);
    pairs.extend_from_slice(overrides);
    Vars::from_pairs(pairs)
}

impl Agent {
    pub async fn start(overrides: &[(&str, &str)]) -> Agent {
        let config = Config::from_vars(&test_vars(overrides)).expect("test config");
        Agent::serve(App::new(config)).await
    }

    /// Serves `app` (built by the test, say in a given container).
    pub async fn serve(app: std::sync::Arc<App>) -> Agent {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let port = docker_agent::server::Listening {
            listener,
            tls: None,
            fleet: false,
        };
        let task = tokio::spawn(docker_agent::server::serve(vec![port], app, async {
            let _ = rx.await;
        }));
        Agent {
            addr,
            client: Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
            stop: std::sync::Mutex::new(Some(tx)),
            task: Some(task),
        }
    }

    /// A client for an agent served elsewhere (a [`Process`]).
    pub fn at(addr: SocketAddr) -> Agent {
        Agent {
            addr,
            client: Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
            stop: std::sync::Mutex::new(None),
            task: None,
        }
    }

    /// Tells the server to shut down (as SIGTERM would), without waiting.
    pub fn begin_shutdown(&self) {
        if let Some(tx) = self.stop.lock().unwrap().take() {
            let _ = tx.send(());
        }
    }

    /// Signals shutdown and waits for the server to finish draining.
    pub async fn shutdown(mut self) {
        self.begin_shutdown();
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        let mut req = Request::builder().method(method).uri(self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = self
            .client
            .request(req.body(Full::new(Bytes::copy_from_slice(body))).unwrap())
            .await
            .expect("request failed");
        Resp::read(resp).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        self.request(Method::GET, path, &headers, b"").await
    }

    pub async fn post(&self, path: &str, token: Option<&str>) -> Resp {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("authorization", a.as_str())).collect();
        self.request(Method::POST, path, &headers, b"").await
    }

    pub async fn login_as(&self, username: &str, password: &str) -> Resp {
        let body = serde_json::json!({"username": username, "password": password}).to_string();
        self.request(
            Method::POST,
            "/api/v1/auth/login",
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
        .await
    }

    /// A valid token for the default user.
    pub async fn token(&self) -> String {
        let resp = self.login_as("admin", PASSWORD).await;
        assert_eq!(resp.status, 200, "login: {:?}", resp.body);
        resp.json()["access_token"].as_str().unwrap().to_string()
    }
}

/// A TCP connection to `to` from the loopback address `source` (127.0.0.0/8).
pub async fn connect_from(source: &str, to: SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(source.parse().unwrap(), 0))
        .unwrap();
    socket.connect(to).await.unwrap()
}

/// An HTTP/1.1 connection to an agent from a loopback address of its own,
/// so that the agent sees another client.
pub struct Connection {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    host: String,
}

impl Connection {
    /// Connects to `agent` from `source` (127.0.0.0/8).
    pub async fn from(source: &str, agent: &Agent) -> Connection {
        let stream = connect_from(source, agent.addr).await;
        let io = hyper_util::rt::TokioIo::new(stream);
        let (sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
        tokio::spawn(conn);
        Connection {
            sender,
            host: agent.addr.to_string(),
        }
    }

    /// Sends a request; the response's body is left to the caller (it may
    /// be a stream).
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> hyper::Response<hyper::body::Incoming> {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.host);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(Bytes::from(body.to_string()))).unwrap();
        self.sender.ready().await.unwrap();
        self.sender.send_request(req).await.unwrap()
    }

    /// [`Connection::send`], its response read whole.
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Resp {
        Resp::read(self.send(method, path, headers, body).await).await
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.begin_shutdown();
    }
}
