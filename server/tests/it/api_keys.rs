use crate::helpers::*;
use app::types::ApiKeyScope;
use reqwest::{Method, StatusCode};
use serde_json::json;

crate::on_both_backends!(keys_authenticate_scope_and_revoke);

async fn keys_authenticate_scope_and_revoke(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.api_key(ApiKeyScope::Admin).await;
    assert!(admin.starts_with("hlk_") && admin.len() > 40, "{admin}");

    // No key, a malformed header, an unknown key: 401 with a challenge.
    let res = reqwest::get(app.url("/api/v1/event-types")).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized", "{body}");
    let (status, _) = api(
        Method::GET,
        app.url("/api/v1/event-types"),
        Some("hlk_not_a_real_key"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // An admin key creates a publish key; the key is in this answer only.
    let (status, created) = api(
        Method::POST,
        app.url("/api/v1/api-keys"),
        Some(&admin),
        Some(json!({"name": "orders service", "scope": "publish"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let publish = created["key"].as_str().unwrap().to_owned();
    assert!(publish.starts_with(created["prefix"].as_str().unwrap()));
    let (_, list) = api(Method::GET, app.url("/api/v1/api-keys"), Some(&admin), None).await;
    assert!(
        !list.to_string().contains(&publish),
        "lists never show keys: {list}"
    );
    assert_eq!(list["items"].as_array().unwrap().len(), 2);

    // A publish key may publish only: everything else is forbidden.
    let (status, body) = api(
        Method::GET,
        app.url("/api/v1/event-types"),
        Some(&publish),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("publish scope"),
        "{body}"
    );
    let (status, _) = api(
        Method::POST,
        app.url("/api/v1/api-keys"),
        Some(&publish),
        Some(json!({"name": "escalate", "scope": "admin"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Bad input names the field.
    let (status, body) = api(
        Method::POST,
        app.url("/api/v1/api-keys"),
        Some(&admin),
        Some(json!({"name": "x", "scope": "root"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["path"], "scope", "{body}");

    // Revocation takes effect on the next request.
    let id = created["id"].as_str().unwrap();
    let (status, revoked) = api(
        Method::DELETE,
        app.url(&format!("/api/v1/api-keys/{id}")),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert!(revoked["revoked_at"].is_string());
    let (status, _) = api(
        Method::GET,
        app.url("/api/v1/event-types"),
        Some(&publish),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Keys are cached per node; a revocation on another node (another process with its own
    // cache, on the same database) still takes effect on this node's next request.
    let other = app.api_key(ApiKeyScope::Admin).await;
    let (status, _) = api(
        Method::GET,
        app.url("/api/v1/event-types"),
        Some(&other),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "known, now cached");
    let db = app::backend::Db::connect(&app.db_url).await.unwrap();
    let elsewhere = app::backend::access::api_keys::ApiKeys::new(db.clone());
    let listed = elsewhere.list(&app::backend::Actor::cli()).await.unwrap();
    let other_id = listed
        .iter()
        .find(|k| other.starts_with(&k.prefix) && k.revoked_at.is_none() && k.id.as_str() != id)
        .map(|k| k.id.clone())
        .expect("the second admin key is listed");
    elsewhere
        .revoke(&app::backend::Actor::cli(), &other_id)
        .await
        .unwrap();
    db.close().await;
    let (status, _) = api(
        Method::GET,
        app.url("/api/v1/event-types"),
        Some(&other),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "revoked elsewhere");

    let (status, _) = api(
        Method::DELETE,
        app.url("/api/v1/api-keys/key_missing"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The admin key's use was recorded.
    let (_, list) = api(Method::GET, app.url("/api/v1/api-keys"), Some(&admin), None).await;
    assert!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["last_used_at"].is_string()),
        "{list}"
    );
    app.stop().await;
}
