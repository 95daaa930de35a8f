//! The tenant portal page: a portal link opens it in a browser with no other credentials,
//! becomes an HttpOnly cookie and leaves the address bar; the portal's server functions
//! answer for that tenant only, the dashboard's refuse the cookie, cross-origin writes are
//! refused, and a revoked or forged link opens nothing.

use crate::helpers::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

crate::on_both_backends!(
    a_link_opens_the_portal_for_its_tenant_only,
    the_portal_may_be_framed_by_the_named_origins_only
);

async fn endpoint(app: &TestApp, key: &str, name: &str, tenant: Value) {
    let (status, ep) = api(
        Method::POST,
        app.url("/api/v1/endpoints"),
        Some(key),
        Some(
            json!({"name": name, "url": format!("https://{name}.example/hooks"), "tenant": tenant}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{ep}");
}

async fn link(app: &TestApp, key: &str, tenant: &str) -> (String, String) {
    let (status, made) = api(
        Method::POST,
        app.url("/api/v1/portal-links"),
        Some(key),
        Some(json!({"tenant": tenant, "expires_in": "1h"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    (
        made["id"].as_str().unwrap().to_owned(),
        made["url"].as_str().unwrap().to_owned(),
    )
}

/// A response header's value, empty when absent.
fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// `GET` a page as a browser does (`Accept: text/html`), no redirects followed: status,
/// Location, Set-Cookie, body.
async fn open(client: &reqwest::Client, url: &str) -> (StatusCode, String, String, String) {
    let response = client
        .get(url)
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    let (location, cookie) = (
        header(&response, "location"),
        header(&response, "set-cookie"),
    );
    if response.status() == StatusCode::SEE_OTHER {
        assert_eq!(header(&response, "cache-control"), "no-store");
    }
    let status = response.status();
    (status, location, cookie, response.text().await.unwrap())
}

/// A page's `Content-Security-Policy` and `X-Frame-Options` (empty when absent).
async fn framing(client: &reqwest::Client, url: &str) -> (String, String) {
    let response = client.get(url).send().await.unwrap();
    (
        header(&response, "content-security-policy"),
        header(&response, "x-frame-options"),
    )
}

async fn a_link_opens_the_portal_for_its_tenant_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(app::types::ApiKeyScope::Admin).await;
    endpoint(&app, &key, "acme-orders", json!("acme")).await;
    endpoint(&app, &key, "acme-stock", json!("acme")).await;
    endpoint(&app, &key, "globex-orders", json!("globex")).await;
    endpoint(&app, &key, "every-tenant", Value::Null).await;
    let (id, url) = link(&app, &key, "acme").await;

    // Opening the link sets the cookie and sends the browser on to /portal.
    let browser = client();
    let (status, location, cookie, _) = open(&browser, &url).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/portal");
    let token = url.split_once("?link=").unwrap().1;
    assert!(
        cookie.starts_with(&format!("hookline_portal={token};")),
        "{cookie}"
    );
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute}: {cookie}");
    }
    let max_age: u64 = cookie
        .split("Max-Age=")
        .nth(1)
        .and_then(|v| v.split(';').next())
        .and_then(|v| v.parse().ok())
        .expect("a Max-Age");
    assert!(
        (3590..=3600).contains(&max_age),
        "lives as long as the link: {cookie}"
    );

    // The portal answers for acme and nobody else (an every-tenant endpoint is the operator's).
    let (status, summary) = app.call(&browser, "portal_overview", &[]).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!(summary["tenant"], "acme");
    assert_eq!(summary["read_only"], true);
    let mut names: Vec<&str> = summary["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["acme-orders", "acme-stock"], "{summary}");
    let (status, _, _, html) = open(&browser, &app.url("/portal")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(r#"data-endpoint="acme-orders""#), "{html}");
    let (csp, xfo) = framing(&browser, &app.url("/portal")).await;
    assert_eq!(
        csp, "frame-ancestors 'self'",
        "only Hookline itself frames it by default"
    );
    assert_eq!(xfo, "", "the CSP decides for the portal");
    let (csp, xfo) = framing(&browser, &app.url("/login")).await;
    assert_eq!(
        (csp.as_str(), xfo.as_str()),
        ("frame-ancestors 'none'", "DENY")
    );
    assert!(!html.contains("globex-orders") && !html.contains("every-tenant"));

    // The cookie is no way into the dashboard, and a write from elsewhere is refused.
    let (status, _) = app.call(&browser, "list_endpoints", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, location, _, html) = open(&browser, &app.url("/endpoints")).await;
    assert_eq!(status, StatusCode::FOUND, "{html}");
    assert_eq!(
        location, "/setup",
        "the dashboard sees no one signed in (and no user yet)"
    );
    for origin in [None, Some("https://evil.example")] {
        let mut request = browser
            .post(app.url("/api/fn/portal_overview"))
            .header("accept", "application/json")
            .form(&[("", "")]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let status = request.send().await.unwrap().status();
        assert_eq!(status, StatusCode::FORBIDDEN, "origin {origin:?}");
    }

    // Without the cookie there is nothing to see; a forged link is refused and clears it.
    let stranger = client();
    let (status, _, _, html) = open(&stranger, &app.url("/portal")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("Open the portal from the link"), "{html}");
    assert!(!html.contains("acme-orders"));
    let (status, _) = app.call(&stranger, "portal_overview", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let forged = format!("{}A", url);
    let (status, location, cookie, _) = open(&stranger, &forged).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/portal?refused=invalid");
    assert!(cookie.starts_with("hookline_portal=;") && cookie.contains("Max-Age=0"));
    let (status, _, _, html) = open(&stranger, &app.url("/portal?refused=invalid")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("not a valid portal link"), "{html}");

    // Revoked, the open portal stops answering at once, and the link no longer opens.
    let (status, _) = api(
        Method::DELETE,
        app.url(&format!("/api/v1/portal-links/{id}")),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, refusal) = app.call(&browser, "portal_overview", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refusal}");
    assert!(
        refusal["Forbidden"]
            .as_str()
            .is_some_and(|m| m.contains("revoked")),
        "{refusal}"
    );
    let (status, location, _, _) = open(&client(), &url).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/portal?refused=revoked");
    app.stop().await;
}

/// With `--portal-frame-ancestor` the portal may be framed by that origin (and the cookie
/// is one a cross-site frame sends: `SameSite=None; Secure; Partitioned`); the dashboard
/// still by nobody, and a write from the embedding origin is still refused.
async fn the_portal_may_be_framed_by_the_named_origins_only(backend: Backend) {
    use hookline::guards::origin::PublicUrl;
    let dir = std::sync::Arc::new(TempDir::new());
    let app = spawn_app_with(fresh_db_url(backend, &dir), dir, |a| {
        a.portal_frame_ancestors = vec![PublicUrl::parse("https://app.example.com").unwrap()];
        a.cookie_secure = true;
    })
    .await;
    let key = app.api_key(app::types::ApiKeyScope::Admin).await;
    endpoint(&app, &key, "acme-orders", json!("acme")).await;
    let (_, url) = link(&app, &key, "acme").await;
    let browser = client();
    let (status, _, cookie, _) = open(&browser, &url).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    for attribute in [
        "HttpOnly",
        "SameSite=None",
        "Secure",
        "Partitioned",
        "Path=/",
    ] {
        assert!(cookie.contains(attribute), "{attribute}: {cookie}");
    }
    let (csp, xfo) = framing(&client(), &app.url("/portal")).await;
    assert_eq!(csp, "frame-ancestors 'self' https://app.example.com");
    assert_eq!(xfo, "");
    let (csp, xfo) = framing(&client(), &app.url("/login")).await;
    assert_eq!(
        (csp.as_str(), xfo.as_str()),
        ("frame-ancestors 'none'", "DENY")
    );
    let token = url.split_once("?link=").unwrap().1;
    let status = client()
        .post(app.url("/api/fn/portal_overview"))
        .header("accept", "application/json")
        .header("origin", "https://app.example.com")
        .header("cookie", format!("hookline_portal={token}"))
        .form(&[("", "")])
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "framing is not a licence to write"
    );
    app.stop().await;
}
