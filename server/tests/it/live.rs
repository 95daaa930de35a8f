//! The live delivery stream ends with its session and is capped per session.

use crate::helpers::*;
use reqwest::StatusCode;
use std::time::{Duration, Instant};

crate::on_both_backends!(
    a_live_stream_ends_at_logout,
    a_live_stream_ends_when_the_session_expires,
    live_streams_are_capped_per_session,
);

pub async fn open(app: &TestApp, client: &reqwest::Client) -> reqwest::Response {
    client
        .get(app.url("/live/deliveries"))
        .send()
        .await
        .unwrap()
}

/// Reads the stream until the server ends it; returns what it sent. Panics if it is still
/// open after `within`.
pub async fn read_until_end(mut stream: reqwest::Response, within: Duration) -> String {
    let deadline = Instant::now() + within;
    let mut seen = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.chunk()).await {
            Ok(Ok(Some(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            Ok(Ok(None)) => return seen,
            Ok(Err(e)) => panic!("stream failed instead of ending: {e}"),
            Err(_) => panic!("stream still open after {within:?}; it sent: {seen}"),
        }
    }
}

/// Panics if the stream ends within `during`.
pub async fn stays_open(mut stream: reqwest::Response, during: Duration) {
    let deadline = Instant::now() + during;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.chunk()).await {
            Ok(Ok(Some(_))) => continue,
            Ok(Ok(None)) => panic!("the stream ended early"),
            Ok(Err(e)) => panic!("the stream failed: {e}"),
            Err(_) => return,
        }
    }
}

async fn a_live_stream_ends_at_logout(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let stream = open(&app, &admin).await;
    assert_eq!(stream.status(), StatusCode::OK);
    let (status, _) = app.call(&admin, "logout", &[]).await;
    assert_eq!(status, StatusCode::OK);
    let seen = read_until_end(stream, Duration::from_secs(15)).await;
    assert!(
        seen.contains("event: end") && seen.contains("unauthorized"),
        "the page is told why: {seen}"
    );
    app.stop().await;
}

async fn a_live_stream_ends_when_the_session_expires(backend: Backend) {
    let app = crate::sessions::spawn_with_session_lifetime(backend, Duration::from_secs(3)).await;
    let admin = app.admin().await;
    let stream = open(&app, &admin).await;
    assert_eq!(stream.status(), StatusCode::OK);
    let seen = read_until_end(stream, Duration::from_secs(20)).await;
    assert!(seen.contains("unauthorized"), "{seen}");
    app.stop().await;
}

async fn live_streams_are_capped_per_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let mut open_streams = Vec::new();
    for _ in 0..4 {
        let stream = open(&app, &admin).await;
        assert_eq!(stream.status(), StatusCode::OK);
        open_streams.push(stream);
    }
    let refused = open(&app, &admin).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "limit_reached", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("at most 4"),
        "{body}"
    );

    // Another session has its own allowance.
    let viewer = app
        .user_with_role(&admin, "viewer@example.com", "viewer")
        .await;
    assert_eq!(open(&app, &viewer).await.status(), StatusCode::OK);

    // Closing one frees its slot (once the server notices the client went away).
    drop(open_streams.pop());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let again = open(&app, &admin).await;
        if again.status() == StatusCode::OK {
            break;
        }
        assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(
            Instant::now() < deadline,
            "the closed stream's slot was never freed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    app.stop().await;
}
