use crate::endpoints::event_type;
use crate::helpers::*;
use app::types::ApiKeyScope;
use reqwest::{Method, StatusCode};
use serde_json::json;

crate::on_both_backends!(filter_test_and_template_preview);

async fn filter_test_and_template_preview(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    let envelope = json!({"id": "evt_1", "event_type": "order.created", "data": {"total": 80, "order": {"id": "o-9", "lines": [1, 2]}}});

    let (status, v) = api(Method::POST, app.url("/api/v1/filters/test"), Some(&key), Some(json!({
        "filter": {"any": [{"field": "data.total", "op": "gt", "value": 100}, {"field": "data.order.id", "op": "starts_with", "value": "x-"}]},
        "payload": envelope
    }))).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["matches"], false);
    assert_eq!(v["conditions"][0]["actual"], json!([80]));
    assert!(
        v["reason"].as_str().unwrap().starts_with("does not match"),
        "{v}"
    );

    let (status, body) = api(
        Method::POST,
        app.url("/api/v1/filters/test"),
        Some(&key),
        Some(json!({"filter": {"field": "data.total", "op": "gt"}, "payload": {}})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["path"], "filter.value");

    // The event type's example stands in for a payload.
    let (status, _) = api(
        Method::POST,
        app.url("/api/v1/event-types"),
        Some(&key),
        Some(json!({"name": "order.created", "example": {"total": 120}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, v) = api(Method::POST, app.url("/api/v1/filters/test"), Some(&key), Some(json!({
        "filter": {"field": "data.total", "op": "gte", "value": 100}, "event_type": "order.created"}))).await;
    assert_eq!(v["matches"], true, "{v}");
    event_type(&app, &key, "stock.low", json!({"type": "object"})).await;
    let (status, _) = api(
        Method::POST,
        app.url("/api/v1/filters/test"),
        Some(&key),
        Some(json!({
        "filter": {"field": "data.total", "op": "exists"}, "event_type": "stock.low"})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no example, no payload"
    );

    let (status, r) = api(Method::POST, app.url("/api/v1/templates/preview"), Some(&key), Some(json!({
        "template": {"order_id": "{{ data.order.id }}", "amount": "{{ data.total }}", "lines": "{{ data.order.lines }}", "text": "#{{ data.order.id }}"},
        "payload": envelope
    }))).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        r["body"],
        json!({"order_id": "o-9", "amount": 80, "lines": [1, 2], "text": "#o-9"})
    );

    let (status, body) = api(
        Method::POST,
        app.url("/api/v1/templates/preview"),
        Some(&key),
        Some(json!({
        "template": {"zip": "{{ data.customer.zip }}"}, "payload": envelope})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["errors"][0],
        json!({"path": "template.zip", "message": "data.customer.zip is missing in the payload"})
    );
    app.stop().await;
}
