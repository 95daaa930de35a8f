use crate::helpers::*;
use reqwest::StatusCode;

crate::on_both_backends!(
    first_run_needs_the_setup_token,
    wrong_password_and_unknown_user_look_the_same,
    repeated_failures_are_throttled,
    a_parallel_wave_of_wrong_passwords_gets_no_extra_checks,
    logout_ends_the_session,
    anonymous_callers_are_refused,
);

async fn first_run_needs_the_setup_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let c = client();
    let (_, info) = app.call(&c, "get_session", &[]).await;
    assert_eq!(info["needs_setup"], true);

    let (status, body) = app
        .call(
            &c,
            "create_first_admin",
            &[
                ("token", "not-the-token"),
                ("email", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["Validation"]["errors"][0]["path"], "token", "{body}");

    let (status, body) = app
        .call(
            &c,
            "create_first_admin",
            &[
                ("token", app.setup_token.as_deref().unwrap()),
                ("email", "not-an-email"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let paths: Vec<_> = body["Validation"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        paths,
        ["email", "password"],
        "every bad field is reported: {body}"
    );

    let admin = app.admin().await;
    assert_eq!(app.whoami(&admin).await["role"], "admin");
    let (_, info) = app.call(&client(), "get_session", &[]).await;
    assert_eq!(info["needs_setup"], false);

    // The token is single-use: a second admin cannot be claimed with it.
    let (status, body) = app
        .call(
            &client(),
            "create_first_admin",
            &[
                ("token", app.setup_token.as_deref().unwrap()),
                ("email", "intruder@example.com"),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert!(status.is_client_error(), "{status} {body}");
    app.stop().await;
}

async fn wrong_password_and_unknown_user_look_the_same(backend: Backend) {
    let app = spawn_app(backend).await;
    app.admin().await;
    let c = client();
    let (s1, b1) = app
        .call(
            &c,
            "login",
            &[("email", ADMIN_EMAIL), ("password", "wrong password")],
        )
        .await;
    let (s2, b2) = app
        .call(
            &c,
            "login",
            &[
                ("email", "nobody@example.com"),
                ("password", "wrong password"),
            ],
        )
        .await;
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
    assert_eq!(
        (s1, &b1),
        (s2, &b2),
        "the answer must not reveal whether the account exists"
    );
    assert!(b1.to_string().contains("InvalidCredentials"), "{b1}");
    assert!(app.whoami(&c).await.is_null());

    let (status, _) = app
        .call(
            &c,
            "login",
            &[
                ("email", " Admin@Example.com "),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "e-mail is matched case-insensitively"
    );
    assert_eq!(app.whoami(&c).await["email"], ADMIN_EMAIL);
    app.stop().await;
}

async fn repeated_failures_are_throttled(backend: Backend) {
    let app = spawn_app(backend).await;
    app.admin().await;
    let c = client();
    for _ in 0..5 {
        let (status, _) = app
            .call(
                &c,
                "login",
                &[("email", ADMIN_EMAIL), ("password", "guess")],
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let response = c
        .post(format!("{}/api/fn/login", app.base))
        .form(&[("email", ADMIN_EMAIL), ("password", ADMIN_PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits"
    );
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    // Another account is not locked by this one's failures.
    let (status, _) = app
        .call(
            &client(),
            "login",
            &[("email", "other@example.com"), ("password", "x")],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

async fn logout_ends_the_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    assert!(!app.whoami(&admin).await.is_null());
    let (status, _) = app.call(&admin, "logout", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(app.whoami(&admin).await.is_null());
    let (status, _) = app.call(&admin, "list_users", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

async fn anonymous_callers_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.admin().await;
    let c = client();
    for (name, form) in [
        ("list_users", vec![]),
        (
            "create_user",
            vec![
                ("email", "x@example.com"),
                ("password", "long enough pw"),
                ("role", "admin"),
            ],
        ),
        ("set_user_role", vec![("id", "usr_x"), ("role", "admin")]),
        ("delete_user", vec![("id", "usr_x")]),
        ("get_system_info", vec![]),
    ] {
        let (status, body) = app.call(&c, name, &form).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {body}");
    }
    app.stop().await;
}

async fn a_parallel_wave_of_wrong_passwords_gets_no_extra_checks(backend: Backend) {
    let app = spawn_app(backend).await;
    app.admin().await;
    let attacker = reqwest::Client::new();
    let login = |password: &'static str| {
        attacker
            .post(app.url("/api/fn/login"))
            .form(&[("email", ADMIN_EMAIL), ("password", password)])
            .send()
    };
    let wave = futures_util::future::join_all((0..50).map(|_| login("wrong guess"))).await;
    let statuses: Vec<StatusCode> = wave.into_iter().map(|r| r.unwrap().status()).collect();
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let throttled = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + throttled, 50, "{statuses:?}");
    // Five free attempts per account: the wave got no more password checks than that.
    assert!(
        (1..=5).contains(&checked),
        "{checked} checked: {statuses:?}"
    );

    let response = login(ADMIN_PASSWORD).await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the right password waits too"
    );
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    tokio::time::sleep(
        std::time::Duration::from_secs(wait) + std::time::Duration::from_millis(200),
    )
    .await;
    let response = login(ADMIN_PASSWORD).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "after the wait it works");
    app.stop().await;
}
