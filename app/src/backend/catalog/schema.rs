//! JSON Schema: checking a schema when it is saved, and checking documents against it,
//! reporting every error with its path (`data.items[0].sku`). Remote `$ref`s are never
//! fetched (the crate is built without its HTTP and file resolvers).

use crate::types::FieldError;
use serde_json::Value;

pub type Validator = jsonschema::Validator;

/// Compiles `schema`, or explains why it is not a valid JSON Schema (paths under `field`).
pub fn compile(schema: &Value, field: &str) -> Result<Validator, Vec<FieldError>> {
    if !schema.is_object() && !schema.is_boolean() {
        return Err(vec![FieldError::new(field, "must be a JSON Schema object")]);
    }
    let meta_errors: Vec<FieldError> = match jsonschema::meta::validate(schema) {
        Ok(()) => Vec::new(),
        Err(e) => vec![FieldError::new(
            join_path(field, &e.instance_path().to_string()),
            format!("not a valid JSON Schema: {e}"),
        )],
    };
    if !meta_errors.is_empty() {
        return Err(meta_errors);
    }
    jsonschema::validator_for(schema).map_err(|e| {
        vec![FieldError::new(
            join_path(field, &e.instance_path().to_string()),
            format!("not a valid JSON Schema: {e}"),
        )]
    })
}

/// Every way `instance` breaks `validator`, with paths under `field`.
pub fn errors(validator: &Validator, instance: &Value, field: &str) -> Vec<FieldError> {
    validator
        .iter_errors(instance)
        .map(|e| {
            FieldError::new(
                join_path(field, &e.instance_path().to_string()),
                e.to_string(),
            )
        })
        .collect()
}

/// `data` + `/items/0/sku` -> `data.items[0].sku`.
pub fn join_path(field: &str, pointer: &str) -> String {
    let mut out = field.to_string();
    for raw in pointer.split('/').skip(1) {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_read_like_filters() {
        assert_eq!(join_path("data", ""), "data");
        assert_eq!(join_path("data", "/items/0/sku"), "data.items[0].sku");
        assert_eq!(join_path("", "/total"), "total");
        assert_eq!(join_path("data", "/a~1b"), "data.a/b");
    }

    #[test]
    fn invalid_schemas_are_refused_and_documents_report_every_error() {
        assert!(compile(&json!({"type": "strin"}), "schema").is_err());
        assert!(compile(&json!("nope"), "schema").is_err());
        let v = compile(
            &json!({
                "type": "object",
                "required": ["id", "total"],
                "properties": {
                    "id": {"type": "string"},
                    "total": {"type": "number", "minimum": 0},
                    "items": {"type": "array", "items": {"type": "object", "required": ["sku"]}}
                }
            }),
            "schema",
        )
        .unwrap();
        assert!(errors(&v, &json!({"id": "o1", "total": 3}), "data").is_empty());
        let errs = errors(&v, &json!({"total": -1, "items": [{}]}), "data");
        let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
        assert!(
            paths.contains(&"data"),
            "missing id reported at the object: {errs:?}"
        );
        assert!(paths.contains(&"data.total"), "{errs:?}");
        assert!(paths.contains(&"data.items[0]"), "{errs:?}");
    }
}
