//! Users: the store queries and the service rules (admin only, never remove or demote the
//! last admin) in one place, called by the CLI, the REST API and the server functions.

use crate::backend::access::password;
use crate::backend::audit::AuditEntry;
use crate::backend::domain::{Email, NewPassword};
use crate::backend::{Actor, Db, now_ms};
use crate::error::{AppError, AppResult};
use crate::types::ids::UserId;
use crate::types::{Me, Role, UserView};
use crate::with_db;

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    email: String,
    role: String,
    created_at: i64,
    last_login_at: Option<i64>,
}

impl UserRow {
    fn into_view(self) -> AppResult<UserView> {
        let role = self
            .role
            .parse()
            .map_err(|e| AppError::internal("stored role is invalid", e))?;
        Ok(UserView {
            id: UserId::from_db(self.id),
            email: self.email,
            role,
            created_at: self.created_at,
            last_login_at: self.last_login_at,
        })
    }
}

/// What the login check needs; the hash never leaves the server.
pub struct LoginRecord {
    pub me: Me,
    pub password_hash: String,
}

#[derive(Clone, Copy)]
enum AdminSafeChange {
    SetRole(Role),
    Delete,
}

pub struct NewUser {
    pub email: Email,
    pub password: NewPassword,
    pub role: Role,
}

impl NewUser {
    /// Validates raw input, reporting every bad field at once.
    pub fn parse(email: &str, password: String, role: &str) -> AppResult<NewUser> {
        let mut errors = Vec::new();
        let email = Email::parse(email)
            .map_err(|e| errors.extend(field_errors(e)))
            .ok();
        let password = NewPassword::parse(password)
            .map_err(|e| errors.extend(field_errors(e)))
            .ok();
        let role = role
            .parse::<Role>()
            .map_err(|e| errors.push(crate::types::FieldError::new("role", e)))
            .ok();
        match (email, password, role) {
            (Some(email), Some(password), Some(role)) if errors.is_empty() => Ok(NewUser {
                email,
                password,
                role,
            }),
            _ => Err(AppError::invalid_many(errors)),
        }
    }
}

fn field_errors(e: AppError) -> Vec<crate::types::FieldError> {
    match e {
        AppError::Validation { errors, .. } => errors,
        other => vec![crate::types::FieldError::new("", other.to_string())],
    }
}

const USER_COLUMNS: &str = "id, email, role, created_at, last_login_at";

#[derive(Clone, Debug)]
pub struct Users {
    db: Db,
}

impl Users {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub async fn count(&self) -> AppResult<i64> {
        let n: i64 = with_db!(&self.db, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM users"
        )
        .fetch_one(pool)
        .await)?;
        Ok(n)
    }

    pub async fn list(&self, actor: &Actor) -> AppResult<Vec<UserView>> {
        actor.require(Role::Admin)?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY email");
        let rows: Vec<UserRow> =
            with_db!(&self.db, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?;
        rows.into_iter().map(UserRow::into_view).collect()
    }

    pub async fn create(&self, actor: &Actor, new: NewUser) -> AppResult<UserView> {
        actor.require(Role::Admin)?;
        self.insert(actor, new).await
    }

    /// Inserts without a permission check: for the first-run setup, whose guard is the
    /// setup token and an empty users table.
    pub(crate) async fn insert(&self, actor: &Actor, new: NewUser) -> AppResult<UserView> {
        let hash = password::hash(new.password.expose().to_owned()).await?;
        let id = crate::backend::ids::new_id("usr");
        let now = now_ms();
        let audit = AuditEntry::new(
            actor,
            "create",
            "user",
            &id,
            serde_json::json!({ "email": new.email.as_str(), "role": new.role.as_str() }),
        );
        let result = with_db!(&self.db, |pool| async {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO users (id, email, password_hash, role, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $5)",
            )
            .bind(&id)
            .bind(new.email.as_str())
            .bind(&hash.0)
            .bind(new.role.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            audit.insert_in(&mut tx).await?;
            tx.commit().await
        }
        .await);
        match result {
            Ok(_) => Ok(UserView {
                id: UserId::from_db(id),
                email: new.email.as_str().to_owned(),
                role: new.role,
                created_at: now,
                last_login_at: None,
            }),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(AppError::invalid(
                "email",
                "a user with this email already exists",
            )),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn set_role(&self, actor: &Actor, id: &UserId, role: Role) -> AppResult<UserView> {
        let id = id.as_str();
        actor.require(Role::Admin)?;
        self.change_keeping_an_admin(actor, id, AdminSafeChange::SetRole(role))
            .await?;
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row: Option<UserRow> = with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.ok_or_else(|| AppError::NotFound(format!("user {id}")))?
            .into_view()
    }

    pub async fn delete(&self, actor: &Actor, id: &UserId) -> AppResult<()> {
        let id = id.as_str();
        actor.require(Role::Admin)?;
        if actor.is_user(id) {
            return Err(AppError::Conflict(
                "you cannot remove yourself; another admin can".into(),
            ));
        }
        // Their sessions die with them: a session resolves its user on every request.
        self.change_keeping_an_admin(actor, id, AdminSafeChange::Delete)
            .await
    }

    /// Applies a role change or removal in one transaction and rolls it back if no admin
    /// would remain.
    async fn change_keeping_an_admin(
        &self,
        actor: &Actor,
        id: &str,
        change: AdminSafeChange,
    ) -> AppResult<()> {
        let lock_admins = self.lock_admins_sql();
        let (sql, role, verb) = match change {
            AdminSafeChange::SetRole(role) => (
                "UPDATE users SET role = $2, updated_at = $3 WHERE id = $1",
                Some(role),
                "demoted",
            ),
            AdminSafeChange::Delete => ("DELETE FROM users WHERE id = $1", None, "removed"),
        };
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            if let Some(lock) = lock_admins {
                sqlx::query(lock).execute(&mut *tx).await?;
            }
            let before: Option<(String, String)> =
                sqlx::query_as("SELECT email, role FROM users WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((email, old_role)) = before else {
                return Err(AppError::NotFound(format!("user {id}")));
            };
            let audit = match role {
                Some(role) => AuditEntry::new(
                    actor,
                    "update",
                    "user",
                    id,
                    serde_json::json!({ "role": { "from": old_role, "to": role.as_str() } }),
                ),
                None => AuditEntry::new(
                    actor,
                    "delete",
                    "user",
                    id,
                    serde_json::json!({ "email": email, "role": old_role }),
                ),
            };
            let mut query = sqlx::query(sql).bind(id);
            if let Some(role) = role {
                query = query.bind(role.as_str()).bind(now_ms());
            }
            if query.execute(&mut *tx).await?.rows_affected() == 0 {
                return Err(AppError::NotFound(format!("user {id}")));
            }
            let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin'")
                .fetch_one(&mut *tx)
                .await?;
            if admins == 0 {
                return Err(AppError::Conflict(format!(
                    "the last admin cannot be {verb}: make another user admin first"
                )));
            }
            audit.insert_in(&mut tx).await?;
            tx.commit().await?;
            Ok::<_, AppError>(())
        })
    }

    /// Deletes by e-mail for the CLI, with the same last-admin rule.
    pub async fn delete_by_email(&self, actor: &Actor, email: &str) -> AppResult<()> {
        let email = Email::parse(email)?;
        let id: Option<String> = with_db!(&self.db, |pool| sqlx::query_scalar(
            "SELECT id FROM users WHERE email = $1"
        )
        .bind(email.as_str())
        .fetch_optional(pool)
        .await)?;
        match id {
            Some(id) => self.delete(actor, &UserId::from_db(id)).await,
            None => Err(AppError::NotFound(format!("user {}", email.as_str()))),
        }
    }

    pub async fn get(&self, id: &str) -> AppResult<Option<Me>> {
        let row: Option<(String, String, String)> = with_db!(&self.db, |pool| sqlx::query_as(
            "SELECT id, email, role FROM users WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        row.map(|(id, email, role)| {
            let role = role
                .parse()
                .map_err(|e| AppError::internal("stored role is invalid", e))?;
            Ok(Me {
                id: UserId::from_db(id),
                email,
                role,
            })
        })
        .transpose()
    }

    pub async fn login_record(&self, email: &Email) -> AppResult<Option<LoginRecord>> {
        let row: Option<(String, String, String, String)> = with_db!(&self.db, |pool| {
            sqlx::query_as("SELECT id, email, role, password_hash FROM users WHERE email = $1")
                .bind(email.as_str())
                .fetch_optional(pool)
                .await
        })?;
        row.map(|(id, email, role, password_hash)| {
            let role = role
                .parse()
                .map_err(|e| AppError::internal("stored role is invalid", e))?;
            Ok(LoginRecord {
                me: Me {
                    id: UserId::from_db(id),
                    email,
                    role,
                },
                password_hash,
            })
        })
        .transpose()
    }

    pub async fn record_login(&self, id: &str) -> AppResult<()> {
        with_db!(&self.db, |pool| sqlx::query(
            "UPDATE users SET last_login_at = $1 WHERE id = $2"
        )
        .bind(now_ms())
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Postgres: lock the admin rows so two concurrent demotions cannot both pass the
    /// last-admin check. SQLite serialises writers already (the UPDATE comes first).
    fn lock_admins_sql(&self) -> Option<&'static str> {
        match self.db {
            Db::Postgres(_) => Some("SELECT id FROM users WHERE role = 'admin' FOR UPDATE"),
            Db::Sqlite(_) => None,
        }
    }
}
