use crate::endpoints::event_type;
use crate::helpers::*;
use crate::receiver::{Receiver, Reply};
use app::types::ApiKeyScope;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

crate::on_both_backends!(retention_purges_only_finished_work);

async fn retention_purges_only_finished_work(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.api_key(ApiKeyScope::Admin).await;
    event_type(&app, &key, "order.created", json!({"type": "object"})).await;
    let ok = Receiver::start().await;
    let failing = Receiver::start().await;
    failing.set_default(Reply::status(500));
    for (name, r) in [("ok", &ok), ("failing", &failing)] {
        let (status, _) = api(
            Method::POST,
            app.url("/api/v1/endpoints"),
            Some(&key),
            Some(json!({"name": name, "url": r.url, "retry_schedule": ["1h"]})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, done) = api(
        Method::POST,
        app.url("/api/v1/events"),
        Some(&key),
        Some(json!({"event_type": "order.created", "data": {}})),
    )
    .await;
    ok.wait_for(1, Duration::from_secs(5)).await;
    failing.wait_for(1, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Everything is "old" for this purge; the event with a delivery still retrying stays.
    let purged = app::backend::retention::purge_before(&app.state.db, app::backend::now_ms() + 1)
        .await
        .unwrap();
    assert_eq!(
        purged,
        app::backend::retention::Purged::default(),
        "one delivery still retries: nothing of that event goes"
    );

    // Once every delivery of the event is finished, it goes with its deliveries and attempts.
    let (_, detail) = api(
        Method::GET,
        app.url(&format!("/api/v1/events/{}", done["id"].as_str().unwrap())),
        Some(&key),
        None,
    )
    .await;
    for d in detail["deliveries"].as_array().unwrap() {
        if d["status"] == "failed" {
            crate::sql::execute(
                &app.state.db,
                "UPDATE deliveries SET status = 'dead' WHERE id = $1",
                &[d["id"].as_str().unwrap()],
            )
            .await
            .unwrap();
        }
    }
    let purged = app::backend::retention::purge_before(&app.state.db, app::backend::now_ms() + 1)
        .await
        .unwrap();
    assert_eq!(
        (purged.events, purged.deliveries, purged.attempts),
        (1, 2, 2),
        "{purged:?}"
    );
    let (status, _) = api(
        Method::GET,
        app.url(&format!("/api/v1/events/{}", done["id"].as_str().unwrap())),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Newer than the cutoff: untouched.
    let (_, fresh) = api(
        Method::POST,
        app.url("/api/v1/events"),
        Some(&key),
        Some(json!({"event_type": "order.created", "data": {}})),
    )
    .await;
    let purged =
        app::backend::retention::purge_before(&app.state.db, app::backend::now_ms() - 60_000)
            .await
            .unwrap();
    assert_eq!(purged.events, 0);
    let (status, _) = api(
        Method::GET,
        app.url(&format!("/api/v1/events/{}", fresh["id"].as_str().unwrap())),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    app.stop().await;
}
