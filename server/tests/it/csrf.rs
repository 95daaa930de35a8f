//! Signed-in writes must come from the dashboard's own origin (finding 7).

use crate::helpers::*;
use app::types::ApiKeyScope;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

crate::on_both_backends!(
    finding_7_cross_origin_form_post_is_refused,
    a_signed_in_write_without_origin_evidence_is_refused,
    a_cross_origin_sign_in_is_refused,
    the_public_url_is_the_origin_that_counts,
);

const NEW_USER: [(&str, &str); 3] = [
    ("email", "intruder@example.com"),
    ("password", "long enough password"),
    ("role", "admin"),
];

/// The same host on another port: same site, so `SameSite=Lax` lets the cookie through.
fn sibling_origin(app: &TestApp) -> String {
    let port: u16 = app.base.rsplit(':').next().unwrap().parse().unwrap();
    format!("http://127.0.0.1:{}", port.wrapping_add(1).max(1))
}

/// A form POST to a server function with the client's cookie and the given headers.
async fn post_form(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    form: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut request = client.post(app.url(&format!("/api/fn/{name}"))).form(form);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// A 403 whose server-function message mentions `needle`.
fn assert_refused(status: StatusCode, body: &Value, needle: &str) {
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let message = body["Forbidden"].as_str().unwrap_or_default();
    assert!(message.contains(needle), "the refusal says why: {body}");
}

async fn user_emails(app: &TestApp, admin: &reqwest::Client) -> Vec<String> {
    let (status, users) = app.call(admin, "list_users", &[]).await;
    assert_eq!(status, StatusCode::OK, "{users}");
    users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect()
}

async fn finding_7_cross_origin_form_post_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let sibling = sibling_origin(&app);

    let (status, body) = post_form(
        &app,
        &admin,
        "create_user",
        &NEW_USER,
        &[("origin", &sibling)],
    )
    .await;
    assert_refused(status, &body, "cross-origin");
    assert_refused(status, &body, &sibling);

    let (status, body) = post_form(
        &app,
        &admin,
        "create_user",
        &NEW_USER,
        &[("sec-fetch-site", "cross-site")],
    )
    .await;
    assert_refused(status, &body, "Sec-Fetch-Site");
    assert_eq!(
        user_emails(&app, &admin).await,
        [ADMIN_EMAIL],
        "no user created"
    );

    // From the dashboard's own origin the same request works.
    let (status, body) = app.call(&admin, "create_user", &NEW_USER).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        user_emails(&app, &admin)
            .await
            .contains(&NEW_USER[0].1.to_owned())
    );

    // An API key needs no Origin, and a foreign one does not matter to it.
    let key = app.api_key(ApiKeyScope::Admin).await;
    let (status, body) = api(
        Method::POST,
        app.url("/api/v1/event-types"),
        Some(&key),
        Some(json!({"name": "order.created", "schema": {"type": "object"}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/event-types"))
        .bearer_auth(&key)
        .header("origin", &sibling)
        .json(&json!({"name": "order.paid", "schema": {"type": "object"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    app.stop().await;
}

async fn a_signed_in_write_without_origin_evidence_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let (status, body) = post_form(&app, &admin, "create_user", &NEW_USER, &[]).await;
    assert_refused(status, &body, "send Origin");
    // Fetch metadata or a same-origin Referer stand in for a missing Origin.
    let referer = app.url("/users");
    let (status, body) = post_form(&app, &admin, "list_users", &[], &[("referer", &referer)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = post_form(
        &app,
        &admin,
        "list_users",
        &[],
        &[("sec-fetch-site", "same-origin")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let foreign_referer = format!("{}/attack.html", sibling_origin(&app));
    let (status, body) = post_form(
        &app,
        &admin,
        "list_users",
        &[],
        &[("referer", &foreign_referer)],
    )
    .await;
    assert_refused(status, &body, "Referer");

    // Without a session cookie there is no authority to borrow: a script signs in bare.
    let script = reqwest::Client::new();
    let (status, body) = post_form(
        &app,
        &script,
        "login",
        &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.stop().await;
}

async fn a_cross_origin_sign_in_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.admin().await;
    let victim = client();
    let (status, body) = post_form(
        &app,
        &victim,
        "login",
        &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        &[("origin", &sibling_origin(&app))],
    )
    .await;
    assert_refused(status, &body, "cross-origin");
    assert!(app.whoami(&victim).await.is_null(), "not signed in");
    // A REST call without a key from another origin is refused the same way.
    let response = reqwest::Client::new()
        .post(app.url("/api/v1/event-types"))
        .header("origin", sibling_origin(&app))
        .json(&json!({"name": "x.y", "schema": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "forbidden", "{body}");
    app.stop().await;
}

async fn the_public_url_is_the_origin_that_counts(backend: Backend) {
    let dir = std::sync::Arc::new(TempDir::new());
    let app = spawn_app_with(fresh_db_url(backend, &dir), dir, |a| {
        a.public_url =
            Some(hookline::guards::origin::PublicUrl::parse("https://hooks.example.com").unwrap())
    })
    .await;
    let admin = client();
    let token = app.setup_token.clone().unwrap();
    let setup = [
        ("token", token.as_str()),
        ("email", ADMIN_EMAIL),
        ("password", ADMIN_PASSWORD),
    ];
    // Behind a proxy the browser's Origin is the public one, not the listen address.
    let (status, body) = post_form(
        &app,
        &admin,
        "create_first_admin",
        &setup,
        &[("origin", &app.base)],
    )
    .await;
    assert_refused(status, &body, "https://hooks.example.com");
    let public = [("origin", "https://hooks.example.com")];
    let (status, body) = post_form(&app, &admin, "create_first_admin", &setup, &public).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = post_form(&app, &admin, "list_users", &[], &public).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.stop().await;
}
