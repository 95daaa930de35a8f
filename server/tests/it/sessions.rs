use crate::helpers::*;
use app::with_db;
use reqwest::StatusCode;
use std::time::Duration;

crate::on_both_backends!(
    a_session_survives_a_restart,
    sessions_expire_when_idle,
    cookies_are_http_only_same_site_and_stored_hashed,
);

async fn a_session_survives_a_restart(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let (url, dir) = (app.db_url.clone(), app.dir.clone());
    app.stop().await;

    let restarted = spawn_app_on(url, dir, Duration::from_secs(3600)).await;
    assert!(
        restarted.setup_token.is_none(),
        "no setup token once a user exists"
    );
    // Same cookie jar, new process, new port: the session lives in the database.
    assert_eq!(restarted.whoami(&admin).await["email"], ADMIN_EMAIL);
    restarted.stop().await;
}

async fn sessions_expire_when_idle(backend: Backend) {
    let dir = std::sync::Arc::new(TempDir::new());
    let app = spawn_app_on(fresh_db_url(backend, &dir), dir, Duration::from_secs(2)).await;
    let admin = app.admin().await;
    // Activity keeps it alive past the idle timeout...
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(900)).await;
        assert!(!app.whoami(&admin).await.is_null(), "active session stays");
    }
    // ...and idleness ends it.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(app.whoami(&admin).await.is_null(), "idle session expired");
    let (status, _) = app.call(&admin, "list_users", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

async fn cookies_are_http_only_same_site_and_stored_hashed(backend: Backend) {
    let app = spawn_app(backend).await;
    app.admin().await;
    let response = reqwest::Client::new()
        .post(format!("{}/api/fn/login", app.base))
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("hookline_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let value = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("hookline_session=")
        .to_owned();

    let db = app::backend::Db::connect(&app.db_url).await.unwrap();
    let ids: Vec<String> = with_db!(&db, |pool| sqlx::query_scalar("SELECT id FROM sessions")
        .fetch_all(pool)
        .await)
    .unwrap();
    assert!(!ids.is_empty());
    assert!(
        ids.iter().all(|id| id.len() == 64 && !id.contains(&value)),
        "ids are digests: {ids:?}"
    );
    db.close().await;
    app.stop().await;
}
