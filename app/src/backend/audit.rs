//! The audit log: every create, update and delete of a user, API key, event type or
//! endpoint records who, what, when and the changed fields, with secrets masked. Entries
//! are written inside the same transaction as the change they describe.

use super::{Actor, Db, now_ms};
use crate::error::AppResult;
use crate::time_fmt::Timestamp;
use crate::types::{AuditEntryView, Page, Role};
use crate::with_db;
use serde_json::{Map, Value, json};

pub const AUDIT_INSERT: &str = "INSERT INTO audit_log \
    (id, at, actor, actor_id, action, resource, resource_id, changes) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

pub struct AuditEntry {
    pub id: String,
    pub at: i64,
    pub actor: String,
    pub actor_id: Option<String>,
    pub action: &'static str,
    pub resource: &'static str,
    pub resource_id: String,
    pub changes: String,
}

impl AuditEntry {
    pub fn new(
        actor: &Actor,
        action: &'static str,
        resource: &'static str,
        resource_id: &str,
        changes: Value,
    ) -> Self {
        AuditEntry {
            id: super::ids::new_id("aud"),
            at: now_ms(),
            actor: actor.label.clone(),
            actor_id: actor.id.clone(),
            action,
            resource,
            resource_id: resource_id.to_owned(),
            changes: mask_secrets(changes).to_string(),
        }
    }

    /// Writes this entry in `tx`, the transaction of the change it describes (so the entry
    /// exists exactly when the change does). One function for both databases.
    pub async fn insert_in<DB>(&self, tx: &mut sqlx::Transaction<'_, DB>) -> Result<(), sqlx::Error>
    where
        DB: sqlx::Database,
        for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
        for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        sqlx::query(AUDIT_INSERT)
            .bind(self.id.as_str())
            .bind(self.at)
            .bind(self.actor.as_str())
            .bind(self.actor_id.as_deref())
            .bind(self.action)
            .bind(self.resource)
            .bind(self.resource_id.as_str())
            .bind(self.changes.as_str())
            .execute(&mut **tx)
            .await?;
        Ok(())
    }
}

const SECRET_KEYS: [&str; 8] = [
    "secret",
    "password",
    "token",
    "client_secret",
    "authorization",
    "api_key",
    "value",
    "password_hash",
];

/// Replaces the values of secret-looking fields (`secret`, `password`, `token`, auth
/// header values…) anywhere in `v` with `"***"`.
pub fn mask_secrets(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let lower = k.to_ascii_lowercase();
                    if SECRET_KEYS
                        .iter()
                        .any(|s| lower == *s || lower.ends_with(&format!("_{s}")))
                        && !v.is_null()
                        && !v.is_object()
                    {
                        (k, json!("***"))
                    } else {
                        (k, mask_secrets(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(mask_secrets).collect()),
        other => other,
    }
}

/// The top-level fields that differ between two objects: `{field: {from, to}}`.
pub fn diff(old: &Value, new: &Value) -> Value {
    let empty = Map::new();
    let (old, new) = (
        old.as_object().unwrap_or(&empty),
        new.as_object().unwrap_or(&empty),
    );
    let mut out = Map::new();
    for key in old.keys().chain(new.keys()) {
        if out.contains_key(key) {
            continue;
        }
        let (a, b) = (
            old.get(key).unwrap_or(&Value::Null),
            new.get(key).unwrap_or(&Value::Null),
        );
        if a != b {
            out.insert(key.clone(), json!({ "from": a, "to": b }));
        }
    }
    Value::Object(out)
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: String,
    at: i64,
    actor: String,
    action: String,
    resource: String,
    resource_id: String,
    changes: String,
}

#[derive(Clone, Debug)]
pub struct AuditLog {
    db: Db,
}

impl AuditLog {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Newest first; `cursor` is the `next_cursor` of the previous page.
    pub async fn list(
        &self,
        actor: &Actor,
        resource: Option<&str>,
        cursor: Option<&str>,
        limit: u32,
    ) -> AppResult<Page<AuditEntryView>> {
        actor.require(Role::Admin)?;
        let limit = limit.clamp(1, crate::types::PageLimit::MAX) as i64;
        let rows: Vec<AuditRow> = with_db!(&self.db, |pool| sqlx::query_as(
            "SELECT id, at, actor, action, resource, resource_id, changes FROM audit_log \
             WHERE ($1 IS NULL OR resource = $1) AND ($2 IS NULL OR id < $2) \
             ORDER BY id DESC LIMIT $3"
        )
        .bind(resource)
        .bind(cursor)
        .bind(limit + 1)
        .fetch_all(pool)
        .await)?;
        let items: Vec<AuditEntryView> = rows
            .into_iter()
            .map(|r| AuditEntryView {
                id: r.id,
                at: Timestamp(r.at),
                actor: r.actor,
                action: r.action,
                resource: r.resource,
                resource_id: r.resource_id,
                changes: serde_json::from_str(&r.changes).unwrap_or(Value::Null),
            })
            .collect();
        Ok(Page::cut(items, limit as usize, |e: &AuditEntryView| {
            e.id.clone()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_at_any_depth() {
        let v = mask_secrets(json!({
            "name": "orders",
            "auth": { "kind": "basic", "username": "u", "password": "p" },
            "oauth": { "client_secret": "s", "client_id": "c" },
            "headers": [{ "name": "X-Api-Key", "value": "k" }],
            "secret": "whsec_x"
        }));
        assert_eq!(v["auth"]["password"], "***");
        assert_eq!(v["auth"]["username"], "u");
        assert_eq!(v["oauth"]["client_secret"], "***");
        assert_eq!(v["oauth"]["client_id"], "c");
        assert_eq!(v["headers"][0]["value"], "***");
        assert_eq!(v["secret"], "***");
        assert_eq!(v["name"], "orders");
    }

    #[test]
    fn diff_lists_changed_fields_only() {
        let d = diff(
            &json!({"a": 1, "b": 2, "c": 3}),
            &json!({"a": 1, "b": 5, "d": 4}),
        );
        assert_eq!(
            d,
            json!({"b": {"from": 2, "to": 5}, "c": {"from": 3, "to": null}, "d": {"from": null, "to": 4}})
        );
    }
}
