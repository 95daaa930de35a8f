//! What a tenant does in the portal, through the portal's server functions with its
//! cookie: its endpoints added, changed, test-fired and deleted; its deliveries seen,
//! retried and replayed, each change in the audit log with the link as the actor. Another
//! tenant's records, or every-tenant ones, are not found; what the link does not grant is
//! refused. Its deliveries come 100 a page, of one status when asked.

use crate::events::endpoint;
use crate::helpers::*;
use crate::receiver::{Receiver, Reply};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

crate::on_both_backends!(
    a_portal_acts_on_its_tenants_records_only,
    a_portal_does_only_what_its_link_grants,
    the_portal_pages_and_filters_its_deliveries
);

/// A signed-in portal: a browser that opened a link for `tenant` granting `capabilities`.
pub async fn open_portal(
    app: &TestApp,
    key: &str,
    tenant: &str,
    capabilities: Value,
) -> (reqwest::Client, String) {
    let (status, made) = api(
        Method::POST,
        app.url("/api/v1/portal-links"),
        Some(key),
        Some(json!({"tenant": tenant, "capabilities": capabilities, "expires_in": "1h"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let browser = client();
    let opened = browser
        .get(made["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    (browser, made["id"].as_str().unwrap().to_owned())
}

async fn publish(app: &TestApp, key: &str, tenant: &str) -> String {
    let (status, e) = api(
        Method::POST,
        app.url("/api/v1/events"),
        Some(key),
        Some(json!({"event_type": "order.created", "data": {"id": "o1"}, "tenant": tenant})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{e}");
    e["id"].as_str().unwrap().to_owned()
}

/// The portal's deliveries, polled until `pick` finds one (or 10 s pass).
async fn portal_delivery_where(
    app: &TestApp,
    browser: &reqwest::Client,
    pick: impl Fn(&Value) -> bool,
) -> (Value, Vec<Value>) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (status, page) = app.call(browser, "portal_deliveries", &[]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let items = page["items"].as_array().unwrap().clone();
        if let Some(found) = items.iter().find(|d| pick(d)) {
            return (found.clone(), items);
        }
        assert!(std::time::Instant::now() < deadline, "not found in {page}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_portal_acts_on_its_tenants_records_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(app::types::ApiKeyScope::Admin).await;
    let (status, body) = api(
        Method::POST,
        app.url("/api/v1/event-types"),
        Some(&key),
        Some(json!({"name": "order.created", "schema": {"type": "object"}, "example": {"id": "sample"}})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let receiver = Receiver::start().await;
    let failing = Receiver::start().await;
    failing.set_default(Reply::status(500));
    let globex = endpoint(&app, &key, json!({"name": "globex-orders", "url": format!("{}/globex", receiver.url), "tenant": "globex"})).await;
    let everyone = endpoint(
        &app,
        &key,
        json!({"name": "every-tenant", "url": format!("{}/all", receiver.url)}),
    )
    .await;
    let flaky = endpoint(&app, &key, json!({"name": "acme-flaky", "url": failing.url, "tenant": "acme", "retry_schedule": ["100ms"]})).await;
    let (browser, link) = open_portal(
        &app,
        &key,
        "acme",
        json!(["manage_endpoints", "test_fire", "replay"]),
    )
    .await;

    // Added in the portal, an endpoint is the tenant's, whatever else is asked.
    let form = |name: &str| json!({"name": name, "url": format!("{}/acme", receiver.url), "event_types": ["order.created"]});
    let (status, made) = app
        .call_json(
            &browser,
            "portal_save_endpoint",
            json!({"id": null, "input": form("acme-crm")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{made}");
    let crm = made["id"].as_str().unwrap().to_owned();
    let (_, stored) = api(
        Method::GET,
        app.url(&format!("/api/v1/endpoints/{crm}")),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(stored["tenant"], "acme", "{stored}");
    let mut smuggled = form("acme-elsewhere");
    smuggled["tenant"] = json!("globex");
    let (status, _) = app
        .call_json(
            &browser,
            "portal_save_endpoint",
            json!({"id": null, "input": smuggled}),
        )
        .await;
    assert!(
        status.is_client_error() || status.is_server_error(),
        "{status}"
    );
    let (_, all) = api(Method::GET, app.url("/api/v1/endpoints"), Some(&key), None).await;
    assert_eq!(
        all["items"].as_array().unwrap().len(),
        4,
        "nothing made from the smuggled tenant: {all}"
    );
    let (status, bad) = app
        .call_json(
            &browser,
            "portal_save_endpoint",
            json!({"id": null, "input": {"name": "", "url": "ftp://x", "event_types": []}}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");

    // Test-fire: its endpoint's answer, and no way to another tenant's or every tenant's.
    let (status, fired) = app
        .call_json(
            &browser,
            "portal_test_fire",
            json!({"id": crm, "input": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{fired}");
    assert_eq!(
        (fired["status"].as_str(), fired["response_status"].as_i64()),
        (Some("succeeded"), Some(200)),
        "{fired}"
    );
    for other in [&globex, &everyone] {
        let (status, refused) = app
            .call_json(
                &browser,
                "portal_test_fire",
                json!({"id": other, "input": {}}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{refused}");
        let (status, _) = app
            .call_json(
                &browser,
                "portal_save_endpoint",
                json!({"id": other, "input": form("taken")}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = app
            .call(&browser, "portal_delete_endpoint", &[("id", other)])
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = app
            .call(&browser, "portal_replay_dead", &[("id", other)])
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    assert!(
        receiver.hits().iter().all(|h| h.path.ends_with("/acme")),
        "only acme's receiver was called: {:?}",
        receiver
            .hits()
            .iter()
            .map(|h| h.path.clone())
            .collect::<Vec<_>>()
    );

    // Signing secrets need `secrets`: this link has not got it.
    let (status, refused) = app.call(&browser, "portal_secret", &[("id", &crm)]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");

    // Deliveries: the tenant's only; another's delivery is not found.
    let theirs = publish(&app, &key, "globex").await;
    let _ours = publish(&app, &key, "acme").await;
    let (dead, items) = portal_delivery_where(&app, &browser, |d| {
        d["endpoint_name"] == "acme-flaky" && d["status"] == "dead"
    })
    .await;
    assert!(
        items
            .iter()
            .all(|d| d["endpoint_name"] == "acme-crm" || d["endpoint_name"] == "acme-flaky"),
        "{items:?}"
    );
    let globex_delivery =
        wait_for_delivery(&app, &key, &theirs, "succeeded", Duration::from_secs(10)).await;
    let globex_delivery = globex_delivery["id"].as_str().unwrap();
    for name in ["portal_delivery", "portal_retry"] {
        let (status, _) = app.call(&browser, name, &[("id", globex_delivery)]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{name}");
    }
    let (status, filtered) = app
        .call(&browser, "portal_deliveries", &[("endpoint", &globex)])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        filtered["items"],
        json!([]),
        "another tenant's endpoint has nothing to show"
    );

    // The dead letter, once its receiver is back: retried by hand, then all replayed.
    let dead_id = dead["id"].as_str().unwrap().to_owned();
    let (status, detail) = app
        .call(&browser, "portal_delivery", &[("id", &dead_id)])
        .await;
    assert_eq!(status, StatusCode::OK, "{detail}");
    assert_eq!(
        detail["attempt_log"].as_array().unwrap().len(),
        2,
        "{detail}"
    );
    failing.set_default(Reply::status(200));
    let (status, retried) = app
        .call(&browser, "portal_retry", &[("id", &dead_id)])
        .await;
    assert_eq!(status, StatusCode::OK, "{retried}");
    portal_delivery_where(&app, &browser, |d| {
        d["id"] == dead_id.as_str() && d["status"] == "succeeded"
    })
    .await;
    failing.set_default(Reply::status(500));
    publish(&app, &key, "acme").await;
    portal_delivery_where(&app, &browser, |d| {
        d["endpoint_name"] == "acme-flaky" && d["status"] == "dead"
    })
    .await;
    failing.set_default(Reply::status(200));
    let (status, replay) = app
        .call(&browser, "portal_replay_dead", &[("id", &flaky)])
        .await;
    assert_eq!(status, StatusCode::OK, "{replay}");
    assert_eq!(replay["total"], 1, "{replay}");

    // Changed and deleted in the portal; each change is the link's in the audit log.
    let mut renamed = form("acme-crm-eu");
    renamed["enabled"] = json!(false);
    let (status, changed) = app
        .call_json(
            &browser,
            "portal_save_endpoint",
            json!({"id": crm, "input": renamed}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (changed["name"].as_str(), changed["enabled"].as_bool()),
        (Some("acme-crm-eu"), Some(false))
    );
    let (status, _) = app
        .call(&browser, "portal_delete_endpoint", &[("id", &crm)])
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, audit) = api(
        Method::GET,
        app.url("/api/v1/audit?limit=100"),
        Some(&key),
        None,
    )
    .await;
    let mut by_link: Vec<(String, String)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == format!("portal-link:{link} (acme)").as_str())
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["resource_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    by_link.sort();
    let mut want: Vec<(String, String)> = [
        ("create", &crm),
        ("delete", &crm),
        ("replay", &flaky),
        ("test_fire", &crm),
        ("update", &crm),
    ]
    .into_iter()
    .map(|(a, r)| (a.to_owned(), r.to_owned()))
    .collect();
    want.sort();
    assert_eq!(by_link, want, "{audit}");
    app.stop().await;
}

async fn a_portal_does_only_what_its_link_grants(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(app::types::ApiKeyScope::Admin).await;
    let ours = endpoint(
        &app,
        &key,
        json!({"name": "acme-crm", "url": "https://crm.example/hooks", "tenant": "acme"}),
    )
    .await;
    let (browser, _) = open_portal(&app, &key, "acme", json!([])).await;
    let (status, summary) = app.call(&browser, "portal_overview", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(summary["read_only"], true);
    let form =
        json!({"name": "acme-new", "url": "https://new.example/hooks", "event_types": ["*"]});
    let refusals = [
        (
            "manage_endpoints",
            app.call_json(
                &browser,
                "portal_save_endpoint",
                json!({"id": null, "input": form}),
            )
            .await,
        ),
        (
            "manage_endpoints",
            app.call(&browser, "portal_delete_endpoint", &[("id", &ours)])
                .await,
        ),
        (
            "test_fire",
            app.call_json(
                &browser,
                "portal_test_fire",
                json!({"id": ours, "input": {}}),
            )
            .await,
        ),
        (
            "replay",
            app.call(&browser, "portal_replay_dead", &[("id", &ours)])
                .await,
        ),
    ];
    for (capability, (status, body)) in refusals {
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert!(
            body.to_string()
                .contains(&format!("does not grant {capability}")),
            "{body}"
        );
    }
    let (status, page) = app.call(&browser, "portal_deliveries", &[]).await;
    assert_eq!(status, StatusCode::OK, "viewing is always granted: {page}");

    // With `secrets`: the tenant's endpoint's secret, rotated; another tenant's not found.
    let theirs = endpoint(
        &app,
        &key,
        json!({"name": "globex-crm", "url": "https://g.example/hooks", "tenant": "globex"}),
    )
    .await;
    let (keeper, _) = open_portal(&app, &key, "acme", json!(["secrets"])).await;
    let (status, secret) = app.call(&keeper, "portal_secret", &[("id", &ours)]).await;
    assert_eq!(status, StatusCode::OK, "{secret}");
    let first = secret["secret"].as_str().unwrap().to_owned();
    assert!(first.starts_with("whsec_"), "{secret}");
    let (status, rotated) = app
        .call(&keeper, "portal_rotate_secret", &[("id", &ours)])
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    assert_eq!(
        rotated["previous_secret"],
        first.as_str(),
        "the old one signs beside it for a day"
    );
    for name in ["portal_secret", "portal_rotate_secret"] {
        let (status, _) = app.call(&keeper, name, &[("id", &theirs)]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{name}");
    }
    // The dashboard's own server functions take no portal cookie, whatever it grants.
    let (status, _) = app
        .call(&browser, "delete_endpoint", &[("id", &ours)])
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, still) = api(
        Method::GET,
        app.url(&format!("/api/v1/endpoints/{ours}")),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(still["name"], "acme-crm");
    app.stop().await;
}

/// 103 deliveries: the newest 100, then the 3 older ones from the cursor, no overlap; of
/// one status, only those.
async fn the_portal_pages_and_filters_its_deliveries(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(app::types::ApiKeyScope::Admin).await;
    crate::endpoints::event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    let receiver = Receiver::start().await;
    endpoint(
        &app,
        &key,
        json!({"name": "acme-crm", "url": receiver.url, "tenant": "acme"}),
    )
    .await;
    let events: Vec<Value> = (0..103)
        .map(|i| json!({"event_type": "order.created", "data": {"id": i}, "tenant": "acme"}))
        .collect();
    let (status, body) = api(
        Method::POST,
        app.url("/api/v1/events/batch"),
        Some(&key),
        Some(json!({"events": events})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (browser, _) = open_portal(&app, &key, "acme", json!([])).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    receiver.wait_for(103, Duration::from_secs(20)).await;
    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (status, first) = app.call(&browser, "portal_deliveries", &[]).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let (_, second) = app
        .call(&browser, "portal_deliveries", &[("cursor", &cursor)])
        .await;
    let (a, b) = (ids(&first), ids(&second));
    assert_eq!((a.len(), b.len()), (100, 3), "{second}");
    assert!(second["next_cursor"].is_null(), "{second}");
    assert!(a.iter().all(|id| !b.contains(id)), "pages do not overlap");
    loop {
        let (_, done) = app
            .call(&browser, "portal_deliveries", &[("status", "succeeded")])
            .await;
        let items = done["items"].as_array().unwrap();
        assert!(items.iter().all(|d| d["status"] == "succeeded"), "{done}");
        if items.len() == 100 && done["next_cursor"].is_string() {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{done}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, dead) = app
        .call(&browser, "portal_deliveries", &[("status", "dead")])
        .await;
    assert_eq!(dead["items"], json!([]), "{dead}");
    let (status, bad) = app
        .call(&browser, "portal_deliveries", &[("status", "lost")])
        .await;
    assert!(
        status.is_client_error(),
        "an unknown status is refused: {status} {bad}"
    );
    app.stop().await;
}
