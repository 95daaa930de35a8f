use crate::helpers::*;
use app::types::ApiKeyScope;
use reqwest::{Method, StatusCode};

crate::on_both_backends!(user_changes_are_audited_and_paged);

async fn user_changes_are_audited_and_paged(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    for i in 0..3 {
        let (status, _) = app
            .call(
                &admin,
                "create_user",
                &[
                    ("email", &format!("u{i}@example.com")),
                    ("password", "a long password"),
                    ("role", "viewer"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let key = app.api_key(ApiKeyScope::Admin).await;
    let (status, page1) = api(
        Method::GET,
        app.url("/api/v1/audit?resource=user&limit=2"),
        Some(&key),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page1}");
    assert_eq!(page1["items"].as_array().unwrap().len(), 2);
    let cursor = page1["next_cursor"]
        .as_str()
        .expect("more pages")
        .to_owned();
    let (_, page2) = api(
        Method::GET,
        app.url(&format!(
            "/api/v1/audit?resource=user&limit=2&cursor={cursor}"
        )),
        Some(&key),
        None,
    )
    .await;
    let items2 = page2["items"].as_array().unwrap();
    // Three users plus the first admin.
    assert_eq!(items2.len(), 2, "{page2}");
    assert!(page2["next_cursor"].is_null());
    let first = &items2[1];
    assert_eq!(first["actor"], "first-run setup");
    assert_eq!(first["changes"]["email"], ADMIN_EMAIL);
    let all = format!("{page1}{page2}");
    assert!(
        !all.contains("argon2") && !all.contains("a long password"),
        "no secrets in the audit log"
    );
    assert_eq!(page1["items"][0]["actor"], ADMIN_EMAIL);

    // Publish keys and viewers cannot read it.
    let publish = app.api_key(ApiKeyScope::Publish).await;
    let (status, _) = api(Method::GET, app.url("/api/v1/audit"), Some(&publish), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.stop().await;
}
