use crate::helpers::*;
use app::types::ApiKeyScope;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

crate::on_both_backends!(
    endpoint_lifecycle_secrets_and_masking,
    endpoint_validation_names_every_field,
    endpoint_permissions,
    ids_are_checked_at_the_edge,
);

pub async fn event_type(app: &TestApp, key: &str, name: &str, schema: Value) {
    let (status, body) = api(
        Method::POST,
        app.url("/api/v1/event-types"),
        Some(key),
        Some(json!({"name": name, "schema": schema})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn endpoint_lifecycle_secrets_and_masking(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    let (status, ep) = api(
        Method::POST,
        app.url("/api/v1/endpoints"),
        Some(&key),
        Some(json!({
            "name": "crm",
            "url": "https://crm.example.com/hooks",
            "event_types": ["order.created", "stock.*"],
            "headers": {"X-Team": "sales"},
            "auth": {"type": "basic", "username": "hook", "password": "hunter2"},
            "retry_schedule": ["5s", "5m", "2h"],
            "rate_limit_per_minute": 600,
            "max_concurrency": 4,
            "ordered": true,
            "format": "xml",
            "template": {"order": "{{ data.id }}"},
            "tenant": "acme"
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ep}");
    let id = ep["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("ep_"));
    assert_eq!(
        ep["auth"],
        json!({"type": "basic", "username": "hook", "password": "***"})
    );
    assert_eq!(ep["timeout"], "30s");
    assert_eq!(ep["enabled"], true);
    assert_eq!(ep["format"], "xml");

    let (_, list) = api(Method::GET, app.url("/api/v1/endpoints"), Some(&key), None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert!(
        !list.to_string().contains("hunter2"),
        "credentials never in lists: {list}"
    );

    // The signing secret: whsec_ + base64 of 32 bytes.
    let (status, s1) = api(
        Method::GET,
        app.url(&format!("/api/v1/endpoints/{id}/secret")),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let first = s1["secret"].as_str().unwrap().to_owned();
    assert!(
        first.starts_with("whsec_") && first.len() >= 6 + 44,
        "{first}"
    );
    let (status, s2) = api(
        Method::POST,
        app.url(&format!("/api/v1/endpoints/{id}/secret/rotate")),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{s2}");
    assert_ne!(s2["secret"], first);
    assert_eq!(
        s2["previous_secret"], first,
        "the old secret keeps signing during the overlap"
    );
    assert!(s2["previous_expires_at"].is_string());

    // PATCH merges: only what is sent changes; the password survives a rename.
    let (status, patched) = api(
        Method::PATCH,
        app.url(&format!("/api/v1/endpoints/{id}")),
        Some(&key),
        Some(json!({"name": "crm-eu", "tenant": null})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["name"], "crm-eu");
    assert_eq!(patched["tenant"], Value::Null);
    assert_eq!(patched["max_concurrency"], 4);
    let stored = app.state.endpoints.all_enabled().await.unwrap();
    assert!(
        matches!(&stored[0].settings.auth, app::types::endpoints::EndpointAuth::Basic { password, .. } if password == "hunter2")
    );
    let (status, body) = api(
        Method::PATCH,
        app.url(&format!("/api/v1/endpoints/{id}")),
        Some(&key),
        Some(json!({"timeout": "1h", "colour": "red"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // The audit log has every change, with the password masked.
    let (_, audit) = api(
        Method::GET,
        app.url("/api/v1/audit?resource=endpoint"),
        Some(&key),
        None,
    )
    .await;
    let actions: Vec<_> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["update", "rotate", "create"], "{audit}");
    assert!(
        !audit.to_string().contains("hunter2") && !audit.to_string().contains(&first),
        "{audit}"
    );
    assert_eq!(
        audit["items"][0]["changes"]["name"],
        json!({"from": "crm", "to": "crm-eu"})
    );

    let (status, _) = api(
        Method::DELETE,
        app.url(&format!("/api/v1/endpoints/{id}")),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api(
        Method::GET,
        app.url(&format!("/api/v1/endpoints/{id}")),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.stop().await;
}

async fn endpoint_validation_names_every_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    let (status, body) = api(
        Method::POST,
        app.url("/api/v1/endpoints"),
        Some(&key),
        Some(json!({
            "name": "x", "url": "ftp://files.example.com", "event_types": ["order.created"],
            "headers": {"Webhook-Signature": "forged"}, "timeout": "soon",
            "filter": {"all": [{"field": "data.total", "op": "between", "value": 1}]}
        })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let paths: Vec<String> = error_paths(&body);
    assert_eq!(
        paths,
        [
            "url",
            "event_types[0]",
            "filter.all[0].op",
            "headers.Webhook-Signature",
            "timeout"
        ],
        "{body}"
    );
    let (status, body) = api(
        Method::POST,
        app.url("/api/v1/endpoints"),
        Some(&key),
        Some(json!({"url": "https://x.example"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["message"].as_str().unwrap().contains("name"), "{body}");
    let (_, list) = api(Method::GET, app.url("/api/v1/endpoints"), Some(&key), None).await;
    assert_eq!(list["items"], json!([]), "nothing half-written");
    app.stop().await;
}

async fn endpoint_permissions(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    let publish = app.api_key(ApiKeyScope::Publish).await;
    let (status, ep) = api(
        Method::POST,
        app.url("/api/v1/endpoints"),
        Some(&key),
        Some(json!({"name": "a", "url": "https://a.example"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = ep["id"].as_str().unwrap();
    for (method, path) in [
        (Method::GET, "/api/v1/endpoints".to_string()),
        (Method::GET, format!("/api/v1/endpoints/{id}/secret")),
        (
            Method::POST,
            format!("/api/v1/endpoints/{id}/secret/rotate"),
        ),
        (Method::DELETE, format!("/api/v1/endpoints/{id}")),
    ] {
        let (status, _) = api(method.clone(), app.url(&path), Some(&publish), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}");
    }
    app.stop().await;
}

/// A malformed id, or one of another kind, is a 404 that says what such an id looks like,
/// from the REST API and the server functions alike; a caller without a key learns nothing.
async fn ids_are_checked_at_the_edge(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    let delivery_like = "dlv_01JD8X5W7R2M9K3Q4T6V8Y0ZAB";
    for (path, kind) in [
        ("/api/v1/endpoints/nope".to_string(), "ep_"),
        (format!("/api/v1/endpoints/{delivery_like}"), "ep_"),
        (
            "/api/v1/deliveries/ep_01JD8X5W7R2M9K3Q4T6V8Y0ZAB".to_string(),
            "dlv_",
        ),
        ("/api/v1/events/%27%20OR%201%3D1".to_string(), "evt_"),
    ] {
        let (status, body) = api(Method::GET, app.url(&path), Some(&key), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["code"], "not_found", "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains(kind) && message.contains("look like"),
            "{path}: {message}"
        );
        let (status, _) = api(Method::GET, app.url(&path), None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
    }
    // Well-formed but unknown: the lookup's own 404.
    let (status, body) = api(
        Method::GET,
        app.url("/api/v1/endpoints/ep_01JD8X5W7R2M9K3Q4T6V8Y0ZAB"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(
        !body["message"].as_str().unwrap().contains("look like"),
        "{body}"
    );

    let admin = app.admin().await;
    let response = admin
        .post(app.url("/api/fn/get_delivery"))
        .header("origin", &app.base)
        .form(&[("id", "not-an-id")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let text = response.text().await.unwrap();
    assert!(
        text.contains("dlv_") && text.contains("look like"),
        "{text}"
    );
    app.stop().await;
}
