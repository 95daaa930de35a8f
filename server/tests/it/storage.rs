use crate::helpers::*;
use app::backend::Db;

crate::on_both_backends!(migrations_are_idempotent_and_constraints_hold);

async fn migrations_are_idempotent_and_constraints_hold(backend: Backend) {
    let dir = TempDir::new();
    let url = fresh_db_url(backend, &dir);
    let db = hookline::startup::open_database(&url).await.unwrap();
    db.close().await;
    let db = hookline::startup::open_database(&url)
        .await
        .expect("re-running migrations is a no-op");
    assert_eq!(
        db.backend_name(),
        match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    );

    // A role outside the three is refused by the schema itself, not just by the code.
    let bad = crate::sql::execute(
        &db,
        "INSERT INTO users (id, email, password_hash, role, created_at, updated_at) VALUES ('u1', 'a@b.c', 'h', 'owner', 0, 0)",
        &[],
    )
    .await;
    assert!(bad.is_err());

    if let Db::Sqlite(pool) = &db {
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(fk, 1);
        assert!(dir.0.join("hookline.db").exists());
    }
    db.close().await;
}

#[tokio::test]
async fn sqlite_directory_is_created_on_first_run() {
    let dir = TempDir::new();
    let url = format!("sqlite://{}/nested/data/hookline.db", dir.0.display());
    let db = hookline::startup::open_database(&url).await.unwrap();
    assert!(dir.0.join("nested/data/hookline.db").exists());
    db.close().await;
}
