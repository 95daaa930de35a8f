use crate::endpoints::event_type;
use crate::helpers::*;
use app::types::ApiKeyScope;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;

crate::on_both_backends!(
    publish_routes_by_type_tenant_and_filter,
    schema_errors_list_every_path,
    idempotency_returns_the_same_event,
    batches_are_all_or_nothing,
    the_outbox_is_one_transaction,
    publish_scope_and_limits,
    concurrent_publishes_share_commits_and_keep_idempotency,
);

fn order_schema() -> Value {
    json!({"type": "object", "required": ["id", "total"],
           "properties": {"id": {"type": "string"}, "total": {"type": "number", "minimum": 0},
                          "items": {"type": "array", "items": {"type": "object", "required": ["sku"]}}}})
}

pub async fn endpoint(app: &TestApp, key: &str, body: Value) -> String {
    let (status, ep) = api(
        Method::POST,
        app.url("/api/v1/endpoints"),
        Some(key),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ep}");
    ep["id"].as_str().unwrap().to_owned()
}

async fn publish(app: &TestApp, key: &str, body: Value) -> (StatusCode, Value) {
    api(
        Method::POST,
        app.url("/api/v1/events"),
        Some(key),
        Some(body),
    )
    .await
}

async fn delivered_to(app: &TestApp, key: &str, event_id: &str) -> Vec<String> {
    let (status, e) = api(
        Method::GET,
        app.url(&format!("/api/v1/events/{event_id}")),
        Some(key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{e}");
    let mut v: Vec<String> = e["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["endpoint_id"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

async fn publish_routes_by_type_tenant_and_filter(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", order_schema()).await;
    event_type(&app, &key, "order.shipped", json!({"type": "object"})).await;
    event_type(&app, &key, "stock.low", json!({"type": "object"})).await;
    let all = endpoint(
        &app,
        &key,
        json!({"name": "all", "url": "https://all.example"}),
    )
    .await;
    let orders = endpoint(
        &app,
        &key,
        json!({"name": "orders", "url": "https://o.example", "event_types": ["order.*"]}),
    )
    .await;
    let big = endpoint(&app, &key, json!({"name": "big", "url": "https://b.example", "event_types": ["order.created"],
        "filter": {"all": [{"field": "data.total", "op": "gte", "value": 100}, {"field": "data.items[*].sku", "op": "starts_with", "value": "BK-"}]}})).await;
    let acme = endpoint(
        &app,
        &key,
        json!({"name": "acme", "url": "https://acme.example", "tenant": "acme"}),
    )
    .await;
    let _off = endpoint(
        &app,
        &key,
        json!({"name": "off", "url": "https://off.example", "enabled": false}),
    )
    .await;

    let (status, small) = publish(
        &app,
        &key,
        json!({"event_type": "order.created", "data": {"id": "o1", "total": 5}}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{small}");
    assert!(small["id"].as_str().unwrap().starts_with("evt_"));
    assert_eq!(small["deliveries"], 2);
    let mut want = vec![all.clone(), orders.clone()];
    want.sort();
    assert_eq!(
        delivered_to(&app, &key, small["id"].as_str().unwrap()).await,
        want
    );

    let (_, large) = publish(&app, &key, json!({"event_type": "order.created", "data": {"id": "o2", "total": 150, "items": [{"sku": "TS-1"}, {"sku": "BK-2"}]}})).await;
    assert_eq!(
        large["deliveries"], 3,
        "the filter lets it through: {large}"
    );
    let mut want = vec![all.clone(), orders.clone(), big.clone()];
    want.sort();
    assert_eq!(
        delivered_to(&app, &key, large["id"].as_str().unwrap()).await,
        want
    );

    let (_, tenant) = publish(
        &app,
        &key,
        json!({"event_type": "stock.low", "data": {}, "tenant": "acme"}),
    )
    .await;
    let mut want = vec![all.clone(), acme.clone()];
    want.sort();
    assert_eq!(
        delivered_to(&app, &key, tenant["id"].as_str().unwrap()).await,
        want
    );
    let (_, other) = publish(
        &app,
        &key,
        json!({"event_type": "stock.low", "data": {}, "tenant": "globex"}),
    )
    .await;
    assert_eq!(
        delivered_to(&app, &key, other["id"].as_str().unwrap()).await,
        vec![all.clone()]
    );

    // The envelope is what receivers get.
    let (_, detail) = api(
        Method::GET,
        app.url(&format!("/api/v1/events/{}", large["id"].as_str().unwrap())),
        Some(&key),
        None,
    )
    .await;
    let env = &detail["envelope"];
    assert_eq!(env["id"], large["id"]);
    assert_eq!(env["event_type"], "order.created");
    assert_eq!(env["current_context"], json!({}));
    assert_eq!(env["data"]["total"], 150);
    assert!(env["event_time"].as_str().unwrap().ends_with('Z'));
    // The engine picks it up at once; these hosts do not resolve, so it may already be
    // waiting for a retry. What matters here is that the outbox row exists.
    let status = detail["deliveries"][0]["status"].as_str().unwrap();
    assert!(
        ["pending", "in_flight", "failed"].contains(&status),
        "{status}"
    );

    // A new endpoint takes part at once (the routing cache follows changes).
    let late = endpoint(
        &app,
        &key,
        json!({"name": "late", "url": "https://late.example", "event_types": ["order.shipped"]}),
    )
    .await;
    let (_, shipped) = publish(
        &app,
        &key,
        json!({"event_type": "order.shipped", "data": {}}),
    )
    .await;
    let mut want = vec![all.clone(), orders.clone(), late];
    want.sort();
    assert_eq!(
        delivered_to(&app, &key, shipped["id"].as_str().unwrap()).await,
        want
    );

    // Listing, newest first, by type and time.
    let (_, page) = api(
        Method::GET,
        app.url("/api/v1/events?event_type=order.created&limit=1"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(page["items"][0]["id"], large["id"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, page2) = api(
        Method::GET,
        app.url(&format!(
            "/api/v1/events?event_type=order.created&limit=1&cursor={cursor}"
        )),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(page2["items"][0]["id"], small["id"]);
    let (status, body) = api(
        Method::GET,
        app.url("/api/v1/events?since=yesterday"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, none) = api(
        Method::GET,
        app.url("/api/v1/events?since=2100-01-01T00:00:00Z"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(none["items"], json!([]));
    app.stop().await;
}

async fn schema_errors_list_every_path(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", order_schema()).await;
    endpoint(
        &app,
        &key,
        json!({"name": "all", "url": "https://all.example"}),
    )
    .await;
    let (status, body) = publish(
        &app,
        &key,
        json!({"event_type": "order.created", "data": {"total": -1, "items": [{"qty": 1}]}}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let paths: Vec<String> = error_paths(&body);
    for p in ["data", "data.total", "data.items[0]"] {
        assert!(paths.contains(&p.to_owned()), "{p} in {body}");
    }
    let (status, body) = publish(
        &app,
        &key,
        json!({"event_type": "order.unknown", "data": {}}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["path"], "event_type");
    let (status, body) = publish(
        &app,
        &key,
        json!({"event_type": "order.created", "data": {"id": "x", "total": 1}, "context": "nope"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["path"], "context");
    let (_, page) = api(Method::GET, app.url("/api/v1/events"), Some(&key), None).await;
    assert_eq!(
        page["items"],
        json!([]),
        "refused events leave nothing behind"
    );
    app.stop().await;
}

async fn idempotency_returns_the_same_event(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Publish).await;
    let admin = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &admin, "order.created", json!({"type": "object"})).await;
    endpoint(
        &app,
        &admin,
        json!({"name": "all", "url": "https://all.example"}),
    )
    .await;
    let body =
        json!({"event_type": "order.created", "data": {"n": 1}, "idempotency_key": "order-1001"});
    let (s1, first) = publish(&app, &key, body.clone()).await;
    let (s2, second) = publish(&app, &key, body).await;
    assert_eq!((s1, s2), (StatusCode::ACCEPTED, StatusCode::ACCEPTED));
    assert_eq!(first, second, "same event, same answer");

    // The header works the same way, and replays are marked.
    let res = reqwest::Client::new()
        .post(app.url("/api/v1/events"))
        .bearer_auth(&key)
        .header("Idempotency-Key", "order-1001")
        .json(&json!({"event_type": "order.created", "data": {"n": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    let third: Value = res.json().await.unwrap();
    assert_eq!(third["id"], first["id"]);

    let (_, other) = publish(
        &app,
        &key,
        json!({"event_type": "order.created", "data": {}, "idempotency_key": "order-1002"}),
    )
    .await;
    assert_ne!(other["id"], first["id"]);
    let (_, page) = api(Method::GET, app.url("/api/v1/events"), Some(&admin), None).await;
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        2,
        "no second fan-out: {page}"
    );
    let (_, detail) = api(
        Method::GET,
        app.url(&format!("/api/v1/events/{}", first["id"].as_str().unwrap())),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(detail["deliveries"].as_array().unwrap().len(), 1);
    // Two events were accepted (replays are not counted again), and /metrics says so.
    let metrics = reqwest::get(app.url("/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l == "hookline_events_accepted_total 2"),
        "{metrics}"
    );
    app.stop().await;
}

async fn batches_are_all_or_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", order_schema()).await;
    endpoint(
        &app,
        &key,
        json!({"name": "all", "url": "https://all.example"}),
    )
    .await;
    let good = |i: usize| json!({"event_type": "order.created", "data": {"id": format!("o{i}"), "total": i}});
    let mut events: Vec<Value> = (0..10).map(good).collect();
    events[3] = json!({"event_type": "order.created", "data": {"id": 3}});
    events[7]["event_type"] = json!("nope.nope");
    let (status, body) = api(
        Method::POST,
        app.url("/api/v1/events/batch"),
        Some(&key),
        Some(json!({"events": events})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let paths: Vec<String> = error_paths(&body);
    assert!(
        paths.contains(&"events[3].data".to_owned())
            && paths.contains(&"events[3].data.id".to_owned()),
        "{body}"
    );
    assert!(paths.contains(&"events[7].event_type".to_owned()), "{body}");
    let (_, page) = api(Method::GET, app.url("/api/v1/events"), Some(&key), None).await;
    assert_eq!(
        page["items"],
        json!([]),
        "nothing stored from a refused batch"
    );

    let events: Vec<Value> = (0..1000).map(good).collect();
    let (status, body) = api(
        Method::POST,
        app.url("/api/v1/events/batch"),
        Some(&key),
        Some(json!({"events": events})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["events"].as_array().unwrap().len(), 1000);
    assert_eq!(body["deliveries"], 1000);

    let events: Vec<Value> = (0..1001).map(good).collect();
    let (status, body) = api(
        Method::POST,
        app.url("/api/v1/events/batch"),
        Some(&key),
        Some(json!({"events": events})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["path"], "events");
    app.stop().await;
}

async fn the_outbox_is_one_transaction(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    endpoint(&app, &key, json!({"name": "a", "url": "https://a.example"})).await;
    endpoint(&app, &key, json!({"name": "b", "url": "https://b.example"})).await;

    app.state
        .shared
        .faults
        .fail_after_event_insert
        .store(true, Ordering::SeqCst);
    let (status, body) = publish(
        &app,
        &key,
        json!({"event_type": "order.created", "data": {}, "idempotency_key": "k1"}),
    )
    .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert!(
        !body.to_string().contains("injected"),
        "internal causes stay in the log: {body}"
    );
    let (status, _) = api(Method::POST, app.url("/api/v1/events/batch"), Some(&key),
        Some(json!({"events": [{"event_type": "order.created", "data": {}}, {"event_type": "order.created", "data": {}}]}))).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    app.state
        .shared
        .faults
        .fail_after_event_insert
        .store(false, Ordering::SeqCst);

    let db = app::backend::Db::connect(&app.db_url).await.unwrap();
    let [counts]: [(i64, i64, i64); 1] = crate::sql::rows(
        &db,
        "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM deliveries), (SELECT COUNT(*) FROM idempotency_keys)",
        &[],
    )
    .await
    .try_into()
    .unwrap();
    assert_eq!(
        counts,
        (0, 0, 0),
        "a failure between the event row and its deliveries leaves neither"
    );

    // And the same key works afterwards: nothing half-claimed it.
    let (status, ok) = publish(
        &app,
        &key,
        json!({"event_type": "order.created", "data": {}, "idempotency_key": "k1"}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{ok}");
    assert_eq!(ok["deliveries"], 2);
    let [counts]: [(i64, i64); 1] = crate::sql::rows(
        &db,
        "SELECT (SELECT COUNT(*) FROM events), (SELECT COUNT(*) FROM deliveries)",
        &[],
    )
    .await
    .try_into()
    .unwrap();
    assert_eq!(counts, (1, 2));
    db.close().await;
    app.stop().await;
}

async fn publish_scope_and_limits(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.api_key(ApiKeyScope::Admin).await;
    let publish_key = app.api_key(ApiKeyScope::Publish).await;
    event_type(&app, &admin, "order.created", json!({"type": "object"})).await;
    let (status, _) = publish(
        &app,
        &publish_key,
        json!({"event_type": "order.created", "data": {}}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "publish keys publish");
    let (status, _) = api(
        Method::GET,
        app.url("/api/v1/events"),
        Some(&publish_key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "and do nothing else");
    let (status, _) = publish(
        &app,
        "hlk_wrong",
        json!({"event_type": "order.created", "data": {}}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Dashboard viewers cannot publish; the session door checks the same rule.
    let big = json!({"event_type": "order.created", "data": {"blob": "x".repeat(1024 * 1024)}});
    let (status, body) = publish(&app, &admin, big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let (status, body) = publish(&app, &admin, json!({"event_type": "order.created"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["message"].as_str().unwrap().contains("data"), "{body}");
    app.stop().await;
}

/// Single publishes arriving together are committed together; each keeps its own answer,
/// and one idempotency key still means one event.
async fn concurrent_publishes_share_commits_and_keep_idempotency(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    endpoint(
        &app,
        &key,
        json!({"name": "all", "url": "https://all.example"}),
    )
    .await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (url, key) = (app.url("/api/v1/events"), key.clone());
        let body = if i % 2 == 0 {
            json!({"event_type": "order.created", "data": {"same": true}, "idempotency_key": "same-key"})
        } else {
            json!({"event_type": "order.created", "data": {"i": i}})
        };
        tasks.push(tokio::spawn(async move {
            api(Method::POST, url, Some(&key), Some(body)).await
        }));
    }
    let mut keyed = std::collections::HashSet::new();
    let mut unkeyed = std::collections::HashSet::new();
    for (i, t) in tasks.into_iter().enumerate() {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let id = body["id"].as_str().unwrap().to_owned();
        if i % 2 == 0 {
            keyed.insert(id);
        } else {
            unkeyed.insert(id);
        }
    }
    assert_eq!(keyed.len(), 1, "one key, one event");
    assert_eq!(unkeyed.len(), 20, "every other publish is its own event");
    let (_, page) = api(
        Method::GET,
        app.url("/api/v1/events?limit=100"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 21);
    app.stop().await;
}
