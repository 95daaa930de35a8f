//! Inbound webhooks: sources verify partners' requests (signed here with the official
//! `standardwebhooks` library, or per the provider's documented algorithm), publish them
//! through the normal pipeline, answer duplicates without publishing, and log every
//! request with its verdict and reason.

use crate::endpoints::event_type;
use crate::events::endpoint;
use crate::helpers::*;
use crate::receiver::Receiver;
use app::types::ApiKeyScope;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;

crate::on_both_backends!(
    a_standard_webhooks_source_verifies_dedups_and_publishes,
    a_github_source_rotates_its_secret_and_keeps_to_its_allowlist,
    xml_and_form_bodies_with_an_api_key,
    forwarded_addresses_count_only_from_trusted_proxies,
    each_source_has_its_own_body_limit,
);

pub(crate) const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

pub(crate) async fn post(
    app: &TestApp,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (StatusCode, Value) {
    post_as(app, path, "application/json", headers, body).await
}

/// [`post`] with another content type.
pub(crate) async fn post_as(
    app: &TestApp,
    path: &str,
    content_type: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (StatusCode, Value) {
    let mut req = reqwest::Client::new()
        .post(app.url(path))
        .header("content-type", content_type)
        // Partners post from their own origin: the dashboard's origin check does not apply.
        .header("origin", "https://partner.example")
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub(crate) fn signed(id: &str, ts: i64, body: &[u8]) -> Vec<(&'static str, String)> {
    let wh = standardwebhooks::Webhook::new(SECRET).unwrap();
    vec![
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", ts.to_string()),
        ("webhook-signature", wh.sign(id, ts, body).unwrap()),
    ]
}

pub(crate) fn now() -> i64 {
    app::backend::now_ms() / 1000
}

/// Creates a source from `body`: its id and URL.
pub(crate) async fn create_source(app: &TestApp, key: &str, body: Value) -> (String, String) {
    let (status, s) = api(
        Method::POST,
        app.url("/api/v1/sources"),
        Some(key),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{s}");
    (
        s["id"].as_str().unwrap().to_owned(),
        s["url"].as_str().unwrap().to_owned(),
    )
}

pub(crate) async fn log(app: &TestApp, key: &str, source: &str) -> Vec<Value> {
    let (status, page) = api(
        Method::GET,
        app.url(&format!("/api/v1/sources/{source}/requests")),
        Some(key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().unwrap().clone()
}

async fn a_standard_webhooks_source_verifies_dedups_and_publishes(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(
        &app,
        &key,
        "order.created",
        json!({"type": "object", "required": ["id"]}),
    )
    .await;
    let receiver = Receiver::start().await;
    endpoint(
        &app,
        &key,
        json!({"name": "crm", "url": receiver.url, "event_types": ["order.created"]}),
    )
    .await;
    let (status, source) = api(
        Method::POST,
        app.url("/api/v1/sources"),
        Some(&key),
        Some(json!({"name": "shop", "event_type": "order.created",
                    "verification": {"type": "standard_webhooks", "secret": SECRET}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{source}");
    assert_eq!(source["verification"]["secret"], "***", "masked: {source}");
    let id = source["id"].as_str().unwrap();
    let url = source["url"].as_str().unwrap().to_owned();
    assert_eq!(url, format!("/in/{id}"));

    let body = br#"{"id":"o-1","total":12}"#;
    let headers = signed("msg_1", now(), body);
    let (status, first) = post(&app, &url, &headers, body).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{first}");
    let event_id = first["event_id"].as_str().unwrap().to_owned();
    let hits = receiver.wait_for(1, Duration::from_secs(5)).await;
    let delivered: Value = serde_json::from_slice(&hits[0].body).unwrap();
    assert_eq!(delivered["id"], event_id.as_str());
    assert_eq!(delivered["data"], json!({"id": "o-1", "total": 12}));
    assert_eq!(delivered["current_context"]["source"], id);

    // The partner's retry: answered with the first event, not published again.
    let (status, again) = post(&app, &url, &headers, body).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(
        (again["event_id"].as_str(), again["duplicate"].as_bool()),
        (Some(event_id.as_str()), Some(true))
    );

    // Refused: one byte changed, an old timestamp, a missing header, a wrong secret.
    let (status, r) = post(&app, &url, &headers, br#"{"id":"o-2","total":12}"#).await;
    assert_eq!(
        (status, r["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("signature mismatch"))
    );
    let old = signed("msg_3", now() - 600, body);
    let (status, r) = post(&app, &url, &old, body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(r["error"].as_str().unwrap().contains("min old"), "{r}");
    let (status, _) = post(&app, &url, &headers[..2], body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let other =
        standardwebhooks::Webhook::new("whsec_dGhpcyBpcyBub3QgdGhlIHNlY3JldCBvZiBpdA==").unwrap();
    let ts = now();
    let forged = vec![
        ("webhook-id", "msg_4".to_string()),
        ("webhook-timestamp", ts.to_string()),
        ("webhook-signature", other.sign("msg_4", ts, body).unwrap()),
    ];
    assert_eq!(
        post(&app, &url, &forged, body).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Verified, but not a valid event: refused with the schema's reason, never published.
    let bad = br#"{"total":12}"#;
    let (status, r) = post(&app, &url, &signed("msg_5", now(), bad), bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert!(r["error"].as_str().unwrap().contains("id"), "{r}");

    let entries = log(&app, &key, id).await;
    let verdicts: Vec<&str> = entries
        .iter()
        .map(|e| e["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(
        verdicts,
        [
            "invalid",
            "refused",
            "refused",
            "refused",
            "refused",
            "duplicate",
            "accepted"
        ]
    );
    let accepted = entries.last().unwrap();
    assert_eq!(accepted["event_id"], event_id.as_str());
    assert_eq!(accepted["dedup_key"], "msg_1");
    assert_eq!(
        accepted["headers"]["webhook-signature"], "***",
        "{accepted}"
    );
    assert_eq!(accepted["body"], r#"{"id":"o-1","total":12}"#);
    assert_eq!(entries[4]["reason"], "signature mismatch");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.hits().len(),
        1,
        "only the accepted request became a delivery"
    );

    // The inbound log follows --retention like the delivery log.
    let purged = app::backend::retention::purge_before(&app.state.db, app::backend::now_ms() + 1)
        .await
        .unwrap();
    assert_eq!(purged.inbound_requests, 7, "{purged:?}");
    assert!(log(&app, &key, id).await.is_empty());

    let (status, _) = post(&app, "/in/src_01JD8X5W7R2M9K3Q4T6V8Y0ZAB", &headers, body).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = post(&app, "/in/nope", &headers, body).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.stop().await;
}

pub(crate) fn github(secret: &str, delivery: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    vec![
        ("x-hub-signature-256", format!("sha256={hex}")),
        ("x-github-delivery", delivery.to_owned()),
        ("x-github-event", "push".to_owned()),
    ]
}

async fn a_github_source_rotates_its_secret_and_keeps_to_its_allowlist(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "repo.pushed", json!({"type": "object"})).await;
    let (status, source) = api(
        Method::POST,
        app.url("/api/v1/sources"),
        Some(&key),
        Some(
            json!({"name": "github", "event_type": "repo.pushed", "allowed_ips": ["127.0.0.0/8"],
                    "verification": {"type": "github", "secret": "s1"}}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{source}");
    let id = source["id"].as_str().unwrap().to_owned();
    let url = format!("/in/{id}");
    let body = br#"{"ref":"refs/heads/main"}"#;
    assert_eq!(
        post(&app, &url, &github("s1", "d-1", body), body).await.0,
        StatusCode::ACCEPTED
    );

    let patch = |v: Value| {
        api(
            Method::PATCH,
            app.url(&format!("/api/v1/sources/{id}")),
            Some(&key),
            Some(v),
        )
    };
    let (status, r) = patch(json!({"allowed_ips": ["10.0.0.0/8"]})).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let (status, r) = post(&app, &url, &github("s1", "d-2", body), body).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(r["error"], "address 127.0.0.1 not allowed");

    // A rotation: both secrets pass while the partner switches over.
    let (status, r) = patch(json!({"allowed_ips": [],
        "verification": {"type": "github", "secret": "s2", "previous_secret": "s1"}}))
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["verification"]["previous_secret"], "***");
    assert_eq!(
        post(&app, &url, &github("s1", "d-3", body), body).await.0,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        post(&app, &url, &github("s2", "d-4", body), body).await.0,
        StatusCode::ACCEPTED
    );
    // Sent back masked, the secrets keep their stored values; the old one is then dropped.
    let (status, r) = patch(json!({"verification": {"type": "github", "secret": "***"}})).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        post(&app, &url, &github("s2", "d-5", body), body).await.0,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        post(&app, &url, &github("s1", "d-6", body), body).await.0,
        StatusCode::UNAUTHORIZED
    );
    // The same delivery id again is a duplicate.
    assert_eq!(
        post(&app, &url, &github("s2", "d-5", body), body).await.0,
        StatusCode::OK
    );

    // The event type from the request: GitHub's X-GitHub-Event, through a table.
    let (status, r) = patch(
        json!({"event_type_from": {"header": "X-GitHub-Event", "map": {"push": "repo.pushed"}}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        post(&app, &url, &github("s2", "d-8", body), body).await.0,
        StatusCode::ACCEPTED
    );
    let mut issues = github("s2", "d-9", body);
    issues[2].1 = "issues".into();
    let (status, r) = post(&app, &url, &issues, body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r["error"],
        "header X-GitHub-Event is \"issues\", which maps to no event type"
    );
    let (status, r) = patch(
        json!({"event_type_from": {"header": "X-GitHub-Event", "map": {"issues": "nope.missing"}}}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r["errors"][0]["path"], "event_type_from.map.issues", "{r}");

    // A transform shapes the request (body, headers, query) into the event.
    let (status, r) = patch(json!({"transform": {
        "data": {"branch": "{{ body.ref }}", "delivery": "{{ headers.x-github-delivery }}"},
        "context": {"repo": "{{ query.repo }}"}}}))
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let (status, r) = post(
        &app,
        &format!("{url}?repo=hookline"),
        &github("s2", "d-10", body),
        body,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{r}");
    let (_, event) = api(
        Method::GET,
        app.url(&format!(
            "/api/v1/events/{}",
            r["event_id"].as_str().unwrap()
        )),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(
        event["envelope"]["data"],
        json!({"branch": "refs/heads/main", "delivery": "d-10"})
    );
    assert_eq!(
        event["envelope"]["current_context"],
        json!({"repo": "hookline"})
    );
    let (status, r) = post(&app, &url, &github("s2", "d-11", body), body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r["error"].as_str().unwrap().contains("transform.context"),
        "{r}"
    );

    // Bad settings are named by path; a viewer cannot change a source.
    let (status, r) = api(
        Method::POST,
        app.url("/api/v1/sources"),
        Some(&key),
        Some(json!({"name": "", "event_type": "nope.missing", "allowed_ips": ["10.0.0.0/99"],
                    "verification": {"type": "hmac", "secret": "", "header": "X-Sig", "signed": "{timestamp}"}})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let paths: Vec<&str> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    for p in [
        "name",
        "event_type",
        "allowed_ips[0]",
        "verification.secret",
        "verification.signed",
        "verification.timestamp_header",
    ] {
        assert!(paths.contains(&p), "{p} in {paths:?}");
    }
    let viewer = app.api_key(ApiKeyScope::Publish).await;
    let (status, _) = api(
        Method::DELETE,
        app.url(&format!("/api/v1/sources/{id}")),
        Some(&viewer),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, log) = api(
        Method::GET,
        app.url(&format!("/api/v1/sources/{id}/requests")),
        Some(&key),
        None,
    )
    .await;
    let logged = log["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, _) = api(
        Method::DELETE,
        app.url(&format!("/api/v1/sources/{id}")),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        post(&app, &url, &github("s2", "d-7", body), body).await.0,
        StatusCode::NOT_FOUND
    );
    // Its log goes with it (schemathesis's stateful run found it still readable).
    for (method, path) in [
        (
            Method::GET,
            format!("/api/v1/sources/{id}/requests/{logged}"),
        ),
        (
            Method::POST,
            format!("/api/v1/sources/{id}/requests/{logged}/replay"),
        ),
        (Method::GET, format!("/api/v1/sources/{id}/requests")),
    ] {
        let (status, r) = api(method, app.url(&path), Some(&key), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {r}");
    }
    app.stop().await;
}

async fn xml_and_form_bodies_with_an_api_key(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "partner.note", json!({"type": "object"})).await;
    let (status, source) = api(
        Method::POST,
        app.url("/api/v1/sources"),
        Some(&key),
        Some(json!({"name": "erp", "event_type": "partner.note",
                    "verification": {"type": "api_key", "header": "X-Partner-Key", "query": "key", "key": "k-123"}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{source}");
    let url = source["url"].as_str().unwrap().to_owned();
    let send = |path: String,
                content_type: &'static str,
                headers: Vec<(&'static str, String)>,
                body: &'static str| {
        let app = &app;
        async move {
            let mut req = reqwest::Client::new()
                .post(app.url(&path))
                .header("content-type", content_type)
                .body(body);
            for (k, v) in headers {
                req = req.header(k, v);
            }
            let res = req.send().await.unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let event = |id: String| {
        let (app, key) = (&app, &key);
        async move {
            let (_, e) = api(
                Method::GET,
                app.url(&format!("/api/v1/events/{id}")),
                Some(key),
                None,
            )
            .await;
            e["envelope"]["data"].clone()
        }
    };
    let (status, r) = send(
        url.clone(),
        "application/xml",
        vec![("x-partner-key", "k-123".into())],
        r#"<note id="n-1"><to>ops</to><line>one</line><line>two</line></note>"#,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{r}");
    assert_eq!(
        event(r["event_id"].as_str().unwrap().to_owned()).await,
        json!({"note": {"@id": "n-1", "to": "ops", "line": ["one", "two"]}})
    );
    let (status, r) = send(
        format!("{url}?key=k-123"),
        "application/x-www-form-urlencoded",
        vec![],
        "to=ops&text=hello+there",
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{r}");
    assert_eq!(
        event(r["event_id"].as_str().unwrap().to_owned()).await,
        json!({"to": "ops", "text": "hello there"})
    );

    // A configured answer.
    let source_url = app.url(&format!(
        "/api/v1/sources/{}",
        source["id"].as_str().unwrap()
    ));
    let (status, r) = api(
        Method::PATCH,
        source_url.clone(),
        Some(&key),
        Some(json!({"response": {"status": 200, "body": {"ok": true, "ref": "{{ event_id }}"}}})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let (status, r) = send(
        url.clone(),
        "application/json",
        vec![("x-partner-key", "k-123".into())],
        "{}",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["ok"], true);
    assert!(r["ref"].as_str().unwrap().starts_with("evt_"), "{r}");
    let (status, _) = api(
        Method::PATCH,
        source_url,
        Some(&key),
        Some(json!({"response": {"status": 302}})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let (status, r) = send(
        url.clone(),
        "application/xml",
        vec![("x-partner-key", "k-124".into())],
        "<a/>",
    )
    .await;
    assert_eq!(
        (status, r["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("wrong API key"))
    );
    let (status, r) = send(
        url.clone(),
        "application/xml",
        vec![("x-partner-key", "k-123".into())],
        r#"<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>"#,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r["error"].as_str().unwrap().contains("DOCTYPE"), "{r}");

    let (_, page) = api(
        Method::GET,
        app.url(&format!(
            "/api/v1/sources/{}/requests",
            source["id"].as_str().unwrap()
        )),
        Some(&key),
        None,
    )
    .await;
    let first = page["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        first["headers"]["x-partner-key"], "***",
        "the key is masked in the log: {first}"
    );
    let items = page["items"].as_array().unwrap();
    let by_query = items.iter().find(|i| i["query"] != Value::Null).unwrap();
    assert_eq!(
        by_query["query"], "key=***",
        "so is the key in the query: {by_query}"
    );
    assert!(!page.to_string().contains("k-123"), "{page}");
    app.stop().await;
}

async fn forwarded_addresses_count_only_from_trusted_proxies(backend: Backend) {
    let dir = std::sync::Arc::new(TempDir::new());
    let app = spawn_app_with(fresh_db_url(backend, &dir), dir, |a| {
        a.trusted_proxies = vec![app::backend::cidr::Cidr::parse("127.0.0.1").unwrap()];
    })
    .await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "partner.note", json!({"type": "object"})).await;
    let (status, source) = api(
        Method::POST,
        app.url("/api/v1/sources"),
        Some(&key),
        Some(json!({"name": "behind a proxy", "event_type": "partner.note", "allowed_ips": ["203.0.113.0/24"],
                    "verification": {"type": "none"}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{source}");
    assert!(
        source["warning"].as_str().unwrap().contains("anyone"),
        "{source}"
    );
    let url = source["url"].as_str().unwrap().to_owned();
    let from = |xff: Option<&str>| {
        let headers: Vec<(&'static str, String)> = xff
            .map(|v| ("x-forwarded-for", v.to_owned()))
            .into_iter()
            .collect();
        let (app, url) = (&app, url.clone());
        async move { post(app, &url, &headers, b"{}").await }
    };
    assert_eq!(from(Some("203.0.113.9")).await.0, StatusCode::ACCEPTED);
    let (status, r) = from(None).await;
    assert_eq!(
        (status, r["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("address 127.0.0.1 not allowed"))
    );
    // What the client put in front of the proxy's own hop is not believed.
    let (status, r) = from(Some("203.0.113.9, 198.51.100.1")).await;
    assert_eq!(
        (status, r["error"].as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("address 198.51.100.1 not allowed")
        )
    );
    app.stop().await;
}

/// A source's limit applies while its body is read: over it, 413 and a log entry without
/// the body; a source may take more than `--max-body-bytes` (up to 10 MiB) when set.
async fn each_source_has_its_own_body_limit(backend: Backend) {
    let dir = std::sync::Arc::new(TempDir::new());
    let app = spawn_app_with(fresh_db_url(backend, &dir), dir, |a| {
        a.max_body_bytes = 64 * 1024
    })
    .await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "partner.note", json!({"type": "object"})).await;
    let create = |name: &str, limit: Option<u64>| {
        let mut body =
            json!({"name": name, "event_type": "partner.note", "verification": {"type": "none"}});
        if let Some(n) = limit {
            body["max_body_bytes"] = json!(n);
        }
        let (app, key) = (&app, &key);
        async move {
            let (status, s) = api(
                Method::POST,
                app.url("/api/v1/sources"),
                Some(key),
                Some(body),
            )
            .await;
            (status, s)
        }
    };
    let (_, small) = create("small", Some(1000)).await;
    let (_, large) = create("large", Some(2 * 1024 * 1024)).await;
    let (_, default) = create("default", None).await;
    let body_of = |n: usize| format!("{{\"pad\":\"{}\"}}", "x".repeat(n)).into_bytes();
    let url = |s: &Value| s["url"].as_str().unwrap().to_owned();

    assert_eq!(
        post(&app, &url(&small), &[], &body_of(500)).await.0,
        StatusCode::ACCEPTED
    );
    let (status, r) = post(&app, &url(&small), &[], &body_of(2000)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r["error"], "body over the source's limit of 1000 bytes");
    assert_eq!(
        post(&app, &url(&large), &[], &body_of(1024 * 1024)).await.0,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        post(&app, &url(&default), &[], &body_of(100 * 1024))
            .await
            .0,
        StatusCode::PAYLOAD_TOO_LARGE
    );

    let entries = log(&app, &key, small["id"].as_str().unwrap()).await;
    assert_eq!(entries[0]["verdict"], "invalid");
    assert_eq!(entries[0]["status"], 413);
    assert_eq!(entries[0]["body"], "", "an oversized body is not kept");
    let (status, r) = create("too much", Some(11 * 1024 * 1024)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r["errors"][0]["path"], "max_body_bytes");
    app.stop().await;
}
