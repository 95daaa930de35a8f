use crate::helpers::*;
use reqwest::StatusCode;

crate::on_both_backends!(
    admin_manages_users,
    roles_are_checked_on_the_server,
    the_last_admin_stays,
    removed_users_lose_their_session,
);

fn id_of(list: &serde_json::Value, email: &str) -> String {
    list.as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == email)
        .unwrap_or_else(|| panic!("{email} in {list}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn admin_manages_users(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let (status, created) = app
        .call(
            &admin,
            "create_user",
            &[
                ("email", "Ed@Example.com"),
                ("password", "editor password"),
                ("role", "editor"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["email"], "ed@example.com");
    assert!(created["id"].as_str().unwrap().starts_with("usr_"));

    let (status, body) = app
        .call(
            &admin,
            "create_user",
            &[
                ("email", "ed@example.com"),
                ("password", "editor password"),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Validation"]["errors"][0]["path"], "email", "{body}");

    let (status, body) = app
        .call(
            &admin,
            "create_user",
            &[
                ("email", "x@example.com"),
                ("password", "editor password"),
                ("role", "owner"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Validation"]["errors"][0]["path"], "role", "{body}");

    let (_, list) = app.call(&admin, "list_users", &[]).await;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let ed = id_of(&list, "ed@example.com");
    let (status, body) = app
        .call(&admin, "set_user_role", &[("id", &ed), ("role", "viewer")])
        .await;
    assert_eq!(
        (status, body["role"].as_str()),
        (StatusCode::OK, Some("viewer")),
        "{body}"
    );

    let (status, _) = app
        .call(
            &admin,
            "set_user_role",
            &[("id", "usr_missing"), ("role", "viewer")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, _) = app.call(&admin, "delete_user", &[("id", &ed)]).await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = app.call(&admin, "list_users", &[]).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    app.stop().await;
}

async fn roles_are_checked_on_the_server(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    for role in ["viewer", "editor"] {
        let user = app
            .user_with_role(&admin, &format!("{role}@example.com"), role)
            .await;
        assert_eq!(app.whoami(&user).await["role"], role);
        let (status, body) = app.call(&user, "list_users", &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role}: {body}");
        assert!(body.to_string().contains("needs the admin role"), "{body}");
        let (status, _) = app
            .call(
                &user,
                "create_user",
                &[
                    ("email", "sneaky@example.com"),
                    ("password", "long enough pw"),
                    ("role", "admin"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role} cannot create users");
        let me = app.whoami(&user).await["id"].as_str().unwrap().to_owned();
        let (status, _) = app
            .call(&user, "set_user_role", &[("id", &me), ("role", "admin")])
            .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{role} cannot promote themselves"
        );
        // Read-only pages stay open to every role.
        let (status, _) = app.call(&user, "get_system_info", &[]).await;
        assert_eq!(status, StatusCode::OK);
    }
    let (_, list) = app.call(&admin, "list_users", &[]).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|u| u["email"] != "sneaky@example.com")
    );
    assert!(
        list.to_string().find("password").is_none(),
        "no hash leaves the server: {list}"
    );
    app.stop().await;
}

async fn the_last_admin_stays(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let me = app.whoami(&admin).await["id"].as_str().unwrap().to_owned();
    let (status, body) = app
        .call(&admin, "set_user_role", &[("id", &me), ("role", "editor")])
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("last admin"), "{body}");
    let (status, _) = app.call(&admin, "delete_user", &[("id", &me)]).await;
    assert_eq!(status, StatusCode::CONFLICT, "nobody removes themselves");
    assert_eq!(app.whoami(&admin).await["role"], "admin", "nothing changed");

    // With a second admin, the first may step down.
    app.user_with_role(&admin, "second@example.com", "admin")
        .await;
    let (status, body) = app
        .call(&admin, "set_user_role", &[("id", &me), ("role", "viewer")])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app.call(&admin, "list_users", &[]).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a demotion takes effect on the next request"
    );
    app.stop().await;
}

async fn removed_users_lose_their_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = app.admin().await;
    let viewer = app
        .user_with_role(&admin, "gone@example.com", "viewer")
        .await;
    let id = app.whoami(&viewer).await["id"].as_str().unwrap().to_owned();
    let (status, _) = app.call(&admin, "delete_user", &[("id", &id)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(app.whoami(&viewer).await.is_null());
    let (status, _) = app.call(&viewer, "get_system_info", &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.stop().await;
}
