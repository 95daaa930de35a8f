//! The REST API's unhappy answers: every error is the documented JSON body (also those the
//! framework writes before a handler runs), query strings are checked like bodies, every
//! list pages the same way, and the OpenAPI document states what the server enforces.

use crate::helpers::*;
use app::types::ApiKeyScope;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

crate::on_both_backends!(
    every_error_is_the_json_error_body,
    query_strings_are_checked_and_name_the_parameter,
    every_list_pages_by_cursor,
    the_document_states_the_answers_and_the_limits
);

/// Sends `body` as is, with the content type given (or none), and reads the JSON answer.
async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    key: &str,
    content_type: Option<&str>,
    body: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut req = reqwest::Client::new()
        .request(method, app.url(path))
        .bearer_auth(key)
        .body(body.to_owned());
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    let res = req.send().await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"));
    (status, headers, body)
}

fn assert_error(status: StatusCode, body: &Value, want: StatusCode, code: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert!(body["errors"].is_array(), "{body}");
}

async fn every_error_is_the_json_error_body(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    let json = Some("application/json");

    let (s, _, b) = raw(&app, Method::GET, "/api/v1/nowhere", &key, None, "").await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    // A path that exists, with a method it does not have: 405 with its methods.
    let (s, h, b) = raw(&app, Method::PUT, "/api/v1/events", &key, json, "{}").await;
    assert_error(s, &b, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let allow = h["allow"].to_str().unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    // A body without a content type, or of another type.
    let event = r#"{"event_type": "x", "data": {}}"#;
    let (s, _, b) = raw(&app, Method::POST, "/api/v1/events", &key, None, event).await;
    assert_error(
        s,
        &b,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let form = Some("application/x-www-form-urlencoded");
    let (s, _, b) = raw(&app, Method::POST, "/api/v1/events", &key, form, event).await;
    assert_error(
        s,
        &b,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    // JSON that does not parse, and none at all.
    let (s, _, b) = raw(
        &app,
        Method::POST,
        "/api/v1/events",
        &key,
        json,
        "{\"data\": [1,",
    )
    .await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "bad_request");
    let (s, _, b) = raw(&app, Method::POST, "/api/v1/endpoints", &key, json, "").await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "bad_request");
    // A NUL character cannot be stored by either database: 422 where it is.
    let nul = r#"{"event_type": "x", "data": {"note": ["ok", "a\u0000b"]}}"#;
    let (s, _, b) = raw(&app, Method::POST, "/api/v1/events", &key, json, nul).await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(error_paths(&b), ["data.note[1]"]);
    // The body is an object (serde would read a struct from an array of its fields).
    let (s, _, b) = raw(
        &app,
        Method::POST,
        "/api/v1/api-keys",
        &key,
        json,
        r#"["n", "admin"]"#,
    )
    .await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    // A name in the path with a control character names nothing.
    let (s, _, b) = raw(
        &app,
        Method::GET,
        "/api/v1/event-types/a%00b",
        &key,
        None,
        "",
    )
    .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    // A filter condition on an empty field is refused where it is, not stored: stored, it
    // broke every later catalog build (and with it every publish).
    let (s, b) = api(
        Method::POST,
        app.url("/api/v1/endpoints"),
        Some(&key),
        Some(json!({"name": "e", "url": "https://example.com/hook",
                    "filter": {"all": [{"field": "", "op": "exists"}]}})),
    )
    .await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(error_paths(&b), ["filter.all[0].field"]);
    // The document's shapes are enforced: serde alone would read the batch settings from
    // an array of their fields.
    let (s, b) = api(
        Method::POST,
        app.url("/api/v1/endpoints"),
        Some(&key),
        Some(json!({"name": "e", "url": "https://example.com/hook", "batch": [10, "1s"]})),
    )
    .await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert_eq!(error_paths(&b), ["batch"]);
    let (s, b) = api(
        Method::POST,
        app.url("/api/v1/event-types"),
        Some(&key),
        Some(json!({"name": "still.works"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let (s, b) = api(
        Method::POST,
        app.url("/api/v1/events"),
        Some(&key),
        Some(json!({"event_type": "still.works", "data": {}})),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    app.stop().await;
}

async fn query_strings_are_checked_and_name_the_parameter(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    let get = |path: &'static str| {
        let (app, key) = (&app, &key);
        async move { raw(app, Method::GET, path, key, None, "").await }
    };
    for (path, param) in [
        ("/api/v1/endpoints?limit=abc", "limit"),
        ("/api/v1/endpoints?limit=-42", "limit"),
        ("/api/v1/endpoints?limit=0", "limit"),
        ("/api/v1/endpoints?limit=501", "limit"),
        ("/api/v1/audit?limit=", "limit"),
        ("/api/v1/events?limit=99999999999", "limit"),
        ("/api/v1/deliveries?status=bogus", "status"),
        ("/api/v1/deliveries?since=", "since"),
        ("/api/v1/events?until=2026-11-23x01:02:03Z", "until"),
        (
            "/api/v1/event-types?include_archived=maybe",
            "include_archived",
        ),
        ("/api/v1/events?cursor=%00", "cursor"),
        ("/api/v1/sources?cursor=%FF", "cursor"),
    ] {
        let (s, _, b) = get(path).await;
        assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
        assert_eq!(error_paths(&b), [param], "{path}: {b}");
    }
    // A parameter the operation does not have is a typo to point out, not to ignore.
    let (s, _, b) = get("/api/v1/deliveries?stauts=dead").await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(b["message"].as_str().unwrap().contains("stauts"), "{b}");
    // Repeated: which one was meant is not guessed.
    let (s, _, b) = get("/api/v1/endpoints?limit=1&limit=2").await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    for ok in [
        "/api/v1/endpoints?limit=500",
        "/api/v1/deliveries?status=in_flight&since=2026-11-23T01:02:03%2B01:00",
        "/api/v1/events?since=2026-11-23t01:02:03z&limit=1",
        "/api/v1/event-types?include_archived=true",
    ] {
        let (s, _, b) = get(ok).await;
        assert_eq!(s, StatusCode::OK, "{ok}: {b}");
    }
    app.stop().await;
}

async fn every_list_pages_by_cursor(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    for n in 0..3 {
        let (s, b) = api(
            Method::POST,
            app.url("/api/v1/api-keys"),
            Some(&key),
            Some(json!({"name": format!("k{n}"), "scope": "publish"})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
        let (s, b) = api(
            Method::POST,
            app.url("/api/v1/event-types"),
            Some(&key),
            Some(json!({"name": format!("paged.t{n}")})),
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{b}");
    }
    // Walk each list two at a time: every item once, and the last page says so.
    // Four keys (the admin's and three); the catalogue holds the built-in types too.
    for (list, total) in [("/api/v1/api-keys", Some(4)), ("/api/v1/event-types", None)] {
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                None => app.url(&format!("{list}?limit=2")),
                Some(c) => app.url(&format!("{list}?limit=2&cursor={c}")),
            };
            let (s, page) = api(Method::GET, url, Some(&key), None).await;
            assert_eq!(s, StatusCode::OK, "{page}");
            let items = page["items"].as_array().unwrap();
            assert!(items.len() <= 2, "{page}");
            for item in items {
                let id = item.get("id").or(item.get("name")).unwrap();
                seen.push(id.as_str().unwrap().to_owned());
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
            assert!(seen.len() < 100, "the cursor moves on");
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), seen.len(), "{list}: no item twice: {seen:?}");
        if let Some(total) = total {
            assert_eq!(seen.len(), total, "{list}: {seen:?}");
        } else {
            for n in 0..3 {
                assert!(seen.contains(&format!("paged.t{n}")), "{seen:?}");
            }
        }
    }
    app.stop().await;
}

async fn the_document_states_the_answers_and_the_limits(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, doc) = api(Method::GET, app.url("/api/v1/openapi.json"), None, None).await;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let answers = op["responses"].as_object().unwrap();
            for code in ["400", "401", "403", "503"] {
                assert!(
                    answers.contains_key(code),
                    "{method} {path} documents {code}"
                );
            }
            if op.get("requestBody").is_some() {
                for code in ["413", "415", "422"] {
                    assert!(
                        answers.contains_key(code),
                        "{method} {path} documents {code}"
                    );
                }
            }
            for (code, answer) in answers.iter().filter(|(c, _)| c.as_str() >= "400") {
                let schema = &answer["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(
                    schema, "#/components/schemas/ApiError",
                    "{method} {path} {code} is the error body"
                );
            }
            for param in op["parameters"].as_array().into_iter().flatten() {
                if param["name"] == "limit" {
                    assert_eq!(param["schema"]["minimum"], 1, "{method} {path}");
                    assert_eq!(param["schema"]["maximum"], 500, "{method} {path}");
                }
            }
        }
    }
    let list = &doc["paths"]["/api/v1/deliveries"]["get"]["parameters"];
    let status = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "status")
        .unwrap();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        status["schema"]["$ref"], "#/components/schemas/DeliveryStatus",
        "{status}"
    );
    assert!(
        schemas["DeliveryStatus"].to_string().contains("in_flight"),
        "the statuses are listed: {}",
        schemas["DeliveryStatus"]
    );
    let required = schemas["NewEventType"]["required"].as_array().unwrap();
    assert!(required.contains(&json!("name")));
    assert!(
        schemas["EventTypeChange"]["properties"]
            .get("name")
            .is_none()
    );
    assert_eq!(
        schemas["PublishBatch"]["properties"]["events"]["maxItems"],
        1000
    );
    assert_eq!(schemas["NewApiKey"]["properties"]["name"]["maxLength"], 100);
    app.stop().await;
}
