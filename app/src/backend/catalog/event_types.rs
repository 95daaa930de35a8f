//! The event catalogue: named event types, each with an optional JSON Schema that every
//! published event's `data` must match, and an example payload valid against it.

use crate::backend::audit::{AuditEntry, diff};
use crate::backend::catalog::schema;
use crate::backend::catalog::sensitive::SensitivePaths;
use crate::backend::domain::EventTypeName;
use crate::backend::{Actor, Db, now_ms};
use crate::error::{AppError, AppResult};
use crate::time_fmt::Timestamp;
use crate::types::{EventTypeInput, EventTypeView, FieldError, Role};
use crate::with_db;
use serde_json::Value;

#[derive(sqlx::FromRow)]
struct EventTypeRow {
    name: String,
    description: String,
    schema: Option<String>,
    example: Option<String>,
    sensitive_fields: String,
    archived: bool,
    created_at: i64,
    updated_at: i64,
}

impl EventTypeRow {
    fn into_view(self) -> EventTypeView {
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        EventTypeView {
            name: self.name,
            description: self.description,
            schema: parse(self.schema),
            example: parse(self.example),
            sensitive_fields: serde_json::from_str(&self.sensitive_fields).unwrap_or_default(),
            archived: self.archived,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        }
    }
}

const COLUMNS: &str =
    "name, description, schema, example, sensitive_fields, archived, created_at, updated_at";

/// A checked definition, ready to store.
struct Definition {
    description: String,
    schema: Option<Value>,
    example: Option<Value>,
    sensitive_fields: Vec<String>,
    archived: bool,
}

/// Checks description, schema and example together, reporting every problem at once.
fn check(input: &EventTypeInput) -> Result<Definition, Vec<FieldError>> {
    let mut errors = Vec::new();
    let sent = input.description.clone().unwrap_or_default();
    let description = sent.trim().to_owned();
    // Counted as sent, as the document's maxLength counts.
    if sent.chars().count() > 2000 {
        errors.push(FieldError::new(
            "description",
            "must be at most 2000 characters",
        ));
    }
    let schema = input.schema.clone().filter(|s| !s.is_null());
    let validator = match &schema {
        Some(s) => match schema::compile(s, "schema") {
            Ok(v) => Some(v),
            Err(e) => {
                errors.extend(e);
                None
            }
        },
        None => None,
    };
    let example = input.example.clone().filter(|e| !e.is_null());
    if let (Some(v), Some(example)) = (&validator, &example) {
        errors.extend(schema::errors(v, example, "example"));
    }
    let sensitive_fields: Vec<String> = input
        .sensitive_fields
        .iter()
        .flatten()
        .map(|p| p.trim().to_owned())
        .collect();
    if let Err(e) = SensitivePaths::parse(&sensitive_fields, "sensitive_fields") {
        errors.extend(e);
    }
    if errors.is_empty() {
        Ok(Definition {
            description,
            schema,
            example,
            sensitive_fields,
            archived: input.archived.unwrap_or(false),
        })
    } else {
        Err(errors)
    }
}

fn stored_paths(paths: &[String]) -> String {
    serde_json::to_string(paths).unwrap_or_else(|_| "[]".into())
}

/// The sensitive paths of event type `name` as they stand now (none for an unknown type):
/// what the events and deliveries services mask for everyone but admins.
pub async fn sensitive_paths(db: &Db, name: &str) -> AppResult<SensitivePaths> {
    let stored: Option<(String,)> = with_db!(db, |pool| sqlx::query_as(
        "SELECT sensitive_fields FROM event_types WHERE name = $1"
    )
    .bind(name)
    .fetch_optional(pool)
    .await)?;
    let raw: Vec<String> = stored
        .and_then(|(s,)| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    Ok(SensitivePaths::from_stored(&raw))
}

/// Hookline's own event types are part of the platform: they cannot be changed or removed.
fn refuse_builtin(name: &str) -> AppResult<()> {
    if name.starts_with("hookline.") {
        return Err(AppError::forbidden(format!(
            "{name} is one of Hookline's own event types"
        )));
    }
    Ok(())
}

#[derive(Clone, Debug)]
pub struct EventTypes {
    db: Db,
}

impl EventTypes {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub async fn create(&self, actor: &Actor, input: EventTypeInput) -> AppResult<EventTypeView> {
        actor.require(Role::Editor)?;
        let name = EventTypeName::parse_user_defined(input.name.as_deref().unwrap_or(""));
        let definition = check(&input);
        let (name, def) = match (name, definition) {
            (Ok(n), Ok(d)) => (n, d),
            (name, def) => {
                let mut errors = Vec::new();
                if let Err(AppError::Validation { errors: e, .. }) = name {
                    errors.extend(e);
                }
                if let Err(e) = def {
                    errors.extend(e);
                }
                return Err(AppError::invalid_many(errors));
            }
        };
        let now = now_ms();
        let view = EventTypeView {
            name: name.as_str().to_owned(),
            description: def.description,
            schema: def.schema,
            example: def.example,
            sensitive_fields: def.sensitive_fields,
            archived: def.archived,
            created_at: Timestamp(now),
            updated_at: Timestamp(now),
        };
        let audit = AuditEntry::new(
            actor,
            "create",
            "event_type",
            &view.name,
            serde_json::to_value(&view).unwrap_or_default(),
        );
        let result = with_db!(&self.db, |pool| {
            async {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO event_types (name, description, schema, example, archived, created_at, updated_at, sensitive_fields) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
            )
            .bind(&view.name)
            .bind(&view.description)
            .bind(view.schema.as_ref().map(Value::to_string))
            .bind(view.example.as_ref().map(Value::to_string))
            .bind(view.archived)
            .bind(now)
            .bind(stored_paths(&view.sensitive_fields))
            .execute(&mut *tx)
            .await?;
            crate::backend::versions::commit_change(tx, &audit).await
        }
        .await
        });
        match result {
            Ok(()) => Ok(view),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(AppError::Conflict(format!(
                    "event type {} already exists; use PUT /api/v1/event-types/{} to change it",
                    view.name, view.name
                )))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn list(
        &self,
        actor: &Actor,
        include_archived: bool,
    ) -> AppResult<Vec<EventTypeView>> {
        actor.require(Role::Viewer)?;
        let sql =
            format!("SELECT {COLUMNS} FROM event_types WHERE ($1 OR archived = $2) ORDER BY name");
        let rows: Vec<EventTypeRow> = with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(include_archived)
            .bind(false)
            .fetch_all(pool)
            .await)?;
        Ok(rows.into_iter().map(EventTypeRow::into_view).collect())
    }

    /// One page of the catalogue by name (`GET /api/v1/event-types`); `cursor` is the
    /// `next_cursor` of the page before.
    pub async fn page(
        &self,
        actor: &Actor,
        include_archived: bool,
        cursor: Option<&str>,
        limit: u32,
    ) -> AppResult<crate::types::Page<EventTypeView>> {
        actor.require(Role::Viewer)?;
        let limit = limit.clamp(1, crate::types::PageLimit::MAX) as i64;
        let sql = format!(
            "SELECT {COLUMNS} FROM event_types WHERE ($1 OR archived = $2) \
             AND ($3 IS NULL OR name > $3) ORDER BY name LIMIT $4"
        );
        let rows: Vec<EventTypeRow> = with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(include_archived)
            .bind(false)
            .bind(cursor)
            .bind(limit + 1)
            .fetch_all(pool)
            .await)?;
        let items = rows.into_iter().map(EventTypeRow::into_view).collect();
        Ok(crate::types::Page::cut(
            items,
            limit as usize,
            |t: &EventTypeView| t.name.clone(),
        ))
    }

    pub async fn get(&self, actor: &Actor, name: &str) -> AppResult<EventTypeView> {
        actor.require(Role::Viewer)?;
        self.find(name)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("event type {name}")))
    }

    /// Every event type, archived ones included: for the publish path's catalog.
    pub async fn all(&self) -> AppResult<Vec<EventTypeView>> {
        let sql = format!("SELECT {COLUMNS} FROM event_types");
        let rows: Vec<EventTypeRow> =
            with_db!(&self.db, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(EventTypeRow::into_view).collect())
    }

    /// Without a permission check: for the publish path, whose caller was checked already.
    pub async fn find(&self, name: &str) -> AppResult<Option<EventTypeView>> {
        let sql = format!("SELECT {COLUMNS} FROM event_types WHERE name = $1");
        let row: Option<EventTypeRow> = with_db!(&self.db, |pool| sqlx::query_as(&sql)
            .bind(name)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(EventTypeRow::into_view))
    }

    /// Replaces description, schema, example and archived flag.
    pub async fn update(
        &self,
        actor: &Actor,
        name: &str,
        input: EventTypeInput,
    ) -> AppResult<EventTypeView> {
        actor.require(Role::Editor)?;
        if let Some(body_name) = input.name.as_deref()
            && body_name.trim() != name
        {
            return Err(AppError::invalid(
                "name",
                "cannot be changed; create a new event type instead",
            ));
        }
        let def = check(&input).map_err(AppError::invalid_many)?;
        let old = self
            .find(name)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("event type {name}")))?;
        let now = now_ms();
        let new = EventTypeView {
            description: def.description,
            schema: def.schema,
            example: def.example,
            sensitive_fields: def.sensitive_fields,
            archived: def.archived,
            updated_at: Timestamp(now),
            ..old.clone()
        };
        let mut changes = diff(
            &serde_json::to_value(&old).unwrap_or_default(),
            &serde_json::to_value(&new).unwrap_or_default(),
        );
        if let Some(map) = changes.as_object_mut() {
            map.remove("updated_at");
        }
        let audit = AuditEntry::new(actor, "update", "event_type", name, changes);
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query(
                "UPDATE event_types SET description = $1, schema = $2, example = $3, archived = $4, updated_at = $5, \
                 sensitive_fields = $7 WHERE name = $6",
            )
            .bind(&new.description)
            .bind(new.schema.as_ref().map(Value::to_string))
            .bind(new.example.as_ref().map(Value::to_string))
            .bind(new.archived)
            .bind(now)
            .bind(name)
            .bind(stored_paths(&new.sensitive_fields))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Err(AppError::NotFound(format!("event type {name}")));
            }
            crate::backend::versions::commit_change(tx, &audit).await?;
            Ok::<_, AppError>(())
        })?;
        Ok(new)
    }

    pub async fn delete(&self, actor: &Actor, name: &str) -> AppResult<()> {
        actor.require(Role::Editor)?;
        refuse_builtin(name)?;
        let old = self
            .find(name)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("event type {name}")))?;
        let audit = AuditEntry::new(
            actor,
            "delete",
            "event_type",
            name,
            serde_json::to_value(&old).unwrap_or_default(),
        );
        with_db!(&self.db, |pool| {
            let mut tx = pool.begin().await?;
            let deleted = sqlx::query("DELETE FROM event_types WHERE name = $1")
                .bind(name)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if deleted == 0 {
                return Err(AppError::NotFound(format!("event type {name}")));
            }
            crate::backend::versions::commit_change(tx, &audit).await?;
            Ok::<_, AppError>(())
        })
    }
}
