use crate::helpers::*;
use reqwest::StatusCode;
use std::time::Duration;

crate::on_both_backends!(
    a_session_survives_a_restart,
    sessions_expire_when_idle,
    cookies_are_http_only_same_site_and_stored_hashed,
    a_request_in_flight_does_not_undo_a_logout,
    sessions_end_at_their_lifetime_however_active,
);

async fn stored_sessions(app: &TestApp) -> i64 {
    let db = app::backend::Db::connect(&app.db_url).await.unwrap();
    let n = crate::sql::count(&db, "SELECT COUNT(*) FROM sessions").await;
    db.close().await;
    n
}

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
    let ids: Vec<String> = crate::sql::column(&db, "SELECT id FROM sessions", &[]).await;
    assert!(!ids.is_empty());
    assert!(
        ids.iter().all(|id| id.len() == 64 && !id.contains(&value)),
        "ids are digests: {ids:?}"
    );
    db.close().await;
    app.stop().await;
}

async fn a_request_in_flight_does_not_undo_a_logout(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let (receiver, endpoint, _) = crate::limits::slow_endpoint(&app, Duration::from_secs(3)).await;
    // A slow request starts with the session...
    let slow = crate::limits::test_fire_from_dashboard(&app, &admin, &endpoint);
    let sign_out = async {
        receiver.wait_for(1, Duration::from_secs(10)).await;
        // ...and the user signs out while it runs.
        let (status, _) = app.call(&admin, "logout", &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(app.whoami(&admin).await.is_null());
    };
    let ((status, body), ()) = tokio::join!(slow, sign_out);
    assert_eq!(
        status,
        StatusCode::OK,
        "the slow request itself finishes: {body}"
    );
    // Its end-of-request write did not bring the session back.
    assert!(app.whoami(&admin).await.is_null(), "still signed out");
    assert_eq!(stored_sessions(&app).await, 0);
    let (status, _) = app.call(&admin, "list_users", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

/// A server whose sessions last `lifetime` from sign-in.
pub async fn spawn_with_session_lifetime(backend: Backend, lifetime: Duration) -> TestApp {
    let dir = std::sync::Arc::new(TempDir::new());
    spawn_app_with(fresh_db_url(backend, &dir), dir, |a| {
        a.session_max_lifetime = lifetime
    })
    .await
}

async fn sessions_end_at_their_lifetime_however_active(backend: Backend) {
    let app = spawn_with_session_lifetime(backend, Duration::from_secs(3)).await;
    let admin = app.admin().await;
    let started = std::time::Instant::now();
    // Active well within the idle timeout the whole time...
    while started.elapsed() < Duration::from_millis(1500) {
        assert!(!app.whoami(&admin).await.is_null(), "young session is live");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // ...and still ended once its lifetime passed.
    let deadline = started + Duration::from_secs(15);
    while !app.whoami(&admin).await.is_null() {
        assert!(
            std::time::Instant::now() < deadline,
            "session outlived its lifetime"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "not before its lifetime"
    );
    let (status, _) = app.call(&admin, "list_users", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Signing in again starts a new lifetime.
    let (status, _) = app
        .call(
            &admin,
            "login",
            &[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.whoami(&admin).await["email"], ADMIN_EMAIL);
    app.stop().await;
}
