use crate::helpers::*;
use app::types::ApiKeyScope;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

crate::on_both_backends!(
    event_type_lifecycle,
    event_type_validation_names_every_problem,
    request_bodies_are_checked
);

/// Names in a list answer, without Hookline's own built-in types.
fn user_types(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .filter(|n| !n.starts_with("hookline."))
        .collect()
}

fn order_schema() -> Value {
    json!({
        "type": "object",
        "required": ["id", "total"],
        "properties": {
            "id": {"type": "string"},
            "total": {"type": "number", "minimum": 0},
            "items": {"type": "array", "items": {"type": "object", "required": ["sku"]}}
        }
    })
}

async fn event_type_lifecycle(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    let url = app.url("/api/v1/event-types");
    let (status, created) = api(
        Method::POST,
        url.clone(),
        Some(&key),
        Some(json!({
            "name": "order.created",
            "description": "An order was placed",
            "schema": order_schema(),
            "example": {"id": "o-1", "total": 42.5}
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["archived"], false);
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));

    let (status, body) = api(
        Method::POST,
        url.clone(),
        Some(&key),
        Some(json!({"name": "order.created"})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    let (status, got) = api(
        Method::GET,
        app.url("/api/v1/event-types/order.created"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["schema"], order_schema());
    assert_eq!(got["example"]["total"], 42.5);

    // Replace: archive it with a new description.
    let (status, updated) = api(
        Method::PUT,
        app.url("/api/v1/event-types/order.created"),
        Some(&key),
        Some(json!({
            "description": "Placed orders",
            "schema": order_schema(),
            "example": {"id": "o-1", "total": 1},
            "archived": true
        })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["archived"], true);
    let (_, list) = api(Method::GET, url.clone(), Some(&key), None).await;
    assert!(
        user_types(&list).is_empty(),
        "archived types are hidden by default"
    );
    let (_, list) = api(
        Method::GET,
        format!("{url}?include_archived=true"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(user_types(&list), ["order.created"]);

    let (status, body) = api(
        Method::PUT,
        app.url("/api/v1/event-types/order.created"),
        Some(&key),
        Some(json!({"name": "order.renamed"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    let (status, _) = api(
        Method::DELETE,
        app.url("/api/v1/event-types/order.created"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = api(
        Method::GET,
        app.url("/api/v1/event-types/order.created"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");

    // Every change is in the audit log, with the update as a diff.
    let (_, audit) = api(
        Method::GET,
        app.url("/api/v1/audit?resource=event_type"),
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
    assert_eq!(actions, ["delete", "update", "create"], "{audit}");
    let update = &audit["items"][1];
    assert_eq!(
        update["changes"]["archived"],
        json!({"from": false, "to": true}),
        "{update}"
    );
    assert_eq!(update["actor"], "api-key:test key");
    assert!(update["changes"].get("name").is_none());
    app.stop().await;
}

async fn event_type_validation_names_every_problem(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    let url = app.url("/api/v1/event-types");

    let (status, body) = api(
        Method::POST,
        url.clone(),
        Some(&key),
        Some(json!({
            "name": "Order Created",
            "schema": {"type": "objekt"}
        })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "validation_failed");
    let paths: Vec<String> = error_paths(&body);
    assert!(paths.contains(&"name".to_owned()), "{body}");
    assert!(paths.iter().any(|p| p.starts_with("schema")), "{body}");

    let (status, body) = api(
        Method::POST,
        url.clone(),
        Some(&key),
        Some(json!({
            "name": "order.created",
            "schema": order_schema(),
            "example": {"total": -5, "items": [{}]}
        })),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let paths: Vec<String> = error_paths(&body);
    for expected in ["example", "example.total", "example.items[0]"] {
        assert!(paths.contains(&expected.to_owned()), "{expected} in {body}");
    }

    let (status, _) = api(
        Method::POST,
        url.clone(),
        Some(&key),
        Some(json!({"name": "hookline.endpoint.disabled"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "hookline.* is reserved"
    );

    // Nothing was half-written.
    let (_, list) = api(
        Method::GET,
        format!("{url}?include_archived=true"),
        Some(&key),
        None,
    )
    .await;
    assert!(
        user_types(&list).is_empty(),
        "nothing was half-written: {list}"
    );
    app.stop().await;
}

async fn request_bodies_are_checked(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    let url = app.url("/api/v1/event-types");
    let client = reqwest::Client::new();

    let res = client
        .post(&url)
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("invalid JSON"),
        "{body}"
    );

    let res = client
        .post(&url)
        .bearer_auth(&key)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let (status, body) = api(
        Method::POST,
        url.clone(),
        Some(&key),
        Some(json!({"name": "a.b", "shema": {}})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused: {body}"
    );
    assert!(
        body["message"].as_str().unwrap().contains("shema"),
        "{body}"
    );

    let (status, body) = api(
        Method::POST,
        url.clone(),
        Some(&key),
        Some(json!({"name": "a.b", "archived": "yes"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["path"], "archived", "{body}");

    let big = json!({"name": "a.b", "description": "x".repeat(1024 * 1024 + 10)});
    let (status, body) = api(Method::POST, url.clone(), Some(&key), Some(big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["code"], "payload_too_large");

    let (status, body) = api(
        Method::GET,
        app.url("/api/v1/nothing-here"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    app.stop().await;
}
