//! Login and token checks. The hostile tokens (`alg: none`, other keys
//! and algorithms, bad claims, oversized) are rows of [`crate::hostile_table`].

use crate::util::*;
use jsonwebtoken::Algorithm;
use serde_json::json;

#[tokio::test]
async fn login_returns_a_bearer_token_that_auth_check_accepts() {
    let agent = Agent::start(&[]).await;
    let resp = agent.login_as("admin", PASSWORD).await;
    assert_eq!(resp.status, 200);
    let body = resp.json();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 1800);
    let token = body["access_token"].as_str().unwrap();
    let check = agent.get("/api/v1/auth/check", Some(token)).await;
    assert_eq!(check.status, 200);
    assert_eq!(
        check.json(),
        json!({"authenticated": true, "username": "admin", "role": "admin", "read_only": false, "can_operate": true})
    );
}

#[tokio::test]
async fn token_lifetime_follows_access_token_expire_minutes() {
    let agent = Agent::start(&[("ACCESS_TOKEN_EXPIRE_MINUTES", "5")]).await;
    assert_eq!(
        agent.login_as("admin", PASSWORD).await.json()["expires_in"],
        300
    );
}

#[tokio::test]
async fn wrong_credentials_are_401_with_www_authenticate() {
    let agent = Agent::start(&[]).await;
    for (user, pass) in [("admin", "nope"), ("root", PASSWORD)] {
        let resp = agent.login_as(user, pass).await;
        assert_eq!(resp.status, 401);
        assert_eq!(resp.header("www-authenticate"), Some("Bearer"));
        assert_eq!(
            resp.json(),
            json!({"detail": "Invalid username or password"})
        );
    }
}

#[tokio::test]
async fn malformed_login_bodies_are_422_with_field_details() {
    let agent = Agent::start(&[]).await;
    let post = |body: &'static str| {
        agent.request(
            hyper::Method::POST,
            "/api/v1/auth/login",
            &[],
            body.as_bytes(),
        )
    };
    let resp = post(r#"{"username": ""}"#).await;
    assert_eq!(resp.status, 422);
    let detail = resp.json()["detail"].clone();
    assert_eq!(detail[0]["loc"], json!(["body", "username"]));
    assert_eq!(detail[0]["type"], "string_too_short");
    assert_eq!(detail[1]["loc"], json!(["body", "password"]));
    assert_eq!(detail[1]["type"], "missing");
    assert_eq!(
        post("not json").await.json()["detail"][0]["type"],
        "json_invalid"
    );
    assert_eq!(post("").await.json()["detail"][0]["type"], "missing");
}

#[tokio::test]
async fn protected_routes_need_a_token() {
    let agent = Agent::start(&[]).await;
    for path in [
        "/api/v1/containers/",
        "/api/v1/images/",
        "/api/v1/version",
        "/api/v1/health",
        "/api/v1/auth/check",
        "/api/v1/stats/x",
        "/api/v1/containers/x/logs",
    ] {
        let resp = agent.get(path, None).await;
        assert_eq!(resp.status, 401, "{path}");
        assert_eq!(resp.header("www-authenticate"), Some("Bearer"));
        assert_eq!(resp.json(), json!({"detail": "Not authenticated"}));
    }
    assert_eq!(
        agent.post("/api/v1/containers/x/start", None).await.status,
        401
    );
}

#[tokio::test]
async fn a_token_in_the_query_of_a_rest_route_is_refused_naming_the_bearer_header() {
    let agent = Agent::start(&[]).await;
    let token = agent.token().await;
    let detail = "Not authenticated: a REST route takes the token in the Authorization header \
        (Authorization: Bearer <token>), not in the query string, where only the WebSocket \
        streams read it";
    for path in [
        format!("/api/v1/containers/?token={token}"),
        format!("/api/v1/containers/x/logs?tail=5&token={token}"),
        format!("/metrics?token={token}"),
        "/api/v1/version?token=".to_string(),
    ] {
        let resp = agent.get(&path, None).await;
        assert_eq!(resp.status, 401, "{path}: a valid token there is not read");
        assert_eq!(resp.header("www-authenticate"), Some("Bearer"));
        assert_eq!(resp.json(), json!({"detail": detail}), "{path}");
    }
    let resp = agent
        .post(&format!("/api/v1/containers/x/start?token={token}"), None)
        .await;
    assert_eq!(resp.json(), json!({"detail": detail}));
}

#[tokio::test]
async fn tokens_from_a_mainstream_jwt_library_are_accepted() {
    let agent = Agent::start(&[("ALGORITHM", "HS384")]).await;
    let token = oracle_token(
        Algorithm::HS384,
        &json!({"sub": "ops", "exp": now() + 600, "iat": now()}),
        SECRET.as_bytes(),
    );
    let resp = agent.get("/api/v1/auth/check", Some(&token)).await;
    assert_eq!(
        resp.json(),
        json!({"authenticated": true, "username": "ops", "role": "admin", "read_only": false, "can_operate": true})
    );
    let ours = agent.token().await;
    let mut validation = jsonwebtoken::Validation::new(Algorithm::HS384);
    validation.set_required_spec_claims(&["exp", "sub", "iat"]);
    let decoded = jsonwebtoken::decode::<serde_json::Value>(
        &ours,
        &jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()),
        &validation,
    )
    .unwrap();
    assert_eq!(decoded.claims["sub"], "admin");
}

#[tokio::test]
async fn mcp_key_guesses_are_limited_like_logins() {
    let agent = Agent::start(&[]).await;
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}).to_string();
    let with_key = |key: &'static str| {
        let (agent, init) = (&agent, init.clone());
        async move {
            let auth = format!("Bearer {key}");
            agent
                .request(
                    hyper::Method::POST,
                    "/mcp",
                    &[
                        ("authorization", auth.as_str()),
                        ("content-type", "application/json"),
                        ("accept", "application/json, text/event-stream"),
                    ],
                    init.as_bytes(),
                )
                .await
        }
    };
    assert_eq!(with_key(MCP_KEY).await.status, 200, "the right key passes");
    for _ in 0..5 {
        assert_eq!(with_key("guess").await.status, 401);
    }
    let refused = with_key(MCP_KEY).await;
    assert_eq!(
        refused.status, 429,
        "after five failures even the right key waits: no oracle"
    );
    assert!(refused.header("retry-after").is_some());
    assert_eq!(
        agent.login_as("admin", PASSWORD).await.status,
        429,
        "one budget with the password"
    );
}
