//! The shape of the request bodies the document states, enforced: each operation's JSON
//! body is checked against its schema in the served document before it is read into its
//! type, so that what serde would let through and the document refuses (a struct written
//! as an array of its fields, a key a closed variant does not have) is refused with the
//! place named. The checks on values (patterns, lengths, ranges) are left out of this
//! copy: the services check each of those themselves, with messages that say what is
//! expected instead of quoting a regular expression, and the document states the same rules.

use app::types::FieldError;
use axum::http::Method;
use serde_json::{Value, json};
use std::collections::HashMap;

/// At most this many problems are listed for one body.
const MAX_ERRORS: usize = 20;

/// One compiled schema per operation that takes a JSON body, by method and route.
pub struct RequestSchemas(HashMap<(Method, String), jsonschema::Validator>);

impl RequestSchemas {
    /// Compiles every operation's request body schema (with the document's components,
    /// which its `$ref`s point into).
    pub fn from_document(doc: &Value) -> RequestSchemas {
        let mut by_route = HashMap::new();
        let mut components = doc["components"].clone();
        for schema in components["schemas"].as_object_mut().into_iter().flatten() {
            shape_only(schema.1);
        }
        let components = &components;
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, op) in item.as_object().into_iter().flatten() {
                let Some(schema) = op.pointer("/requestBody/content/application~1json/schema")
                else {
                    continue;
                };
                let root = json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "allOf": [schema],
                    "components": components,
                });
                let validator = jsonschema::validator_for(&root).unwrap_or_else(|e| {
                    panic!("the document's schema for {method} {path} does not compile: {e}")
                });
                let method = Method::from_bytes(method.to_uppercase().as_bytes())
                    .expect("the document's methods are HTTP methods");
                by_route.insert((method, path.clone()), validator);
            }
        }
        RequestSchemas(by_route)
    }

    /// Whether the route takes a body the document describes.
    pub fn covers(&self, method: &Method, route: &str) -> bool {
        self.0.contains_key(&(method.clone(), route.to_owned()))
    }

    /// What is wrong with `body` for this operation, each with its place
    /// (`events[3].tenant`); empty when it is valid or the route has no schema.
    pub fn check(&self, method: &Method, route: &str, body: &Value) -> Vec<FieldError> {
        let Some(validator) = self.0.get(&(method.clone(), route.to_owned())) else {
            return Vec::new();
        };
        validator
            .iter_errors(body)
            .take(MAX_ERRORS)
            .map(|e| {
                let message = without_instance(&e.to_string(), e.instance());
                FieldError::new(field_path(e.instance_path().as_str()), message)
            })
            .collect()
    }
}

/// Keywords on values, which the services check themselves (see the module's comment).
const VALUE_KEYWORDS: [&str; 15] = [
    "pattern",
    "format",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "propertyNames",
    "uniqueItems",
    "not",
];

/// Removes [`VALUE_KEYWORDS`] from a schema and every schema inside it (not from the names
/// of its properties: `format` is also a field of an endpoint).
fn shape_only(schema: &mut Value) {
    let Value::Object(map) = schema else { return };
    for keyword in VALUE_KEYWORDS {
        map.remove(keyword);
    }
    if let Some(Value::Object(properties)) = map.get_mut("properties") {
        properties.values_mut().for_each(shape_only);
    }
    for key in ["items", "additionalProperties"] {
        if let Some(inner) = map.get_mut(key) {
            shape_only(inner);
        }
    }
    for key in ["oneOf", "anyOf", "allOf", "prefixItems"] {
        if let Some(Value::Array(list)) = map.get_mut(key) {
            list.iter_mut().for_each(shape_only);
        }
    }
}

/// `/events/3/data` as the API names places elsewhere: `events[3].data`.
fn field_path(pointer: &str) -> String {
    app::backend::catalog::schema::join_path("", pointer)
}

/// The validator's sentence without the value it judged (which may be large, or a
/// credential): `"" is shorter than 1 character` becomes `is shorter than 1 character`.
fn without_instance(message: &str, instance: &Value) -> String {
    let shown = instance.to_string();
    let rest = message
        .strip_prefix(shown.as_str())
        .unwrap_or(message)
        .trim();
    let mut rest = rest.to_string();
    if rest.len() > 300 {
        let mut end = 300;
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        rest.truncate(end);
        rest.push('…');
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_named_as_elsewhere_and_values_are_not_repeated() {
        assert_eq!(field_path(""), "");
        assert_eq!(field_path("/events/3/data"), "events[3].data");
        assert_eq!(field_path("/headers/a~1b"), "headers.a/b");
        let secret = json!("s3cr3t-token");
        assert_eq!(
            without_instance("\"s3cr3t-token\" is shorter than 20 characters", &secret),
            "is shorter than 20 characters"
        );
    }

    #[test]
    fn every_body_of_the_document_compiles_and_is_checked() {
        let schemas = RequestSchemas::from_document(super::super::document());
        assert!(schemas.covers(&Method::POST, "/api/v1/events"));
        assert!(schemas.covers(&Method::PUT, "/api/v1/event-types/{name}"));
        let wrong = json!({"event_type": "a", "data": {}, "tenant": 7});
        let errors = schemas.check(&Method::POST, "/api/v1/events", &wrong);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].path, "tenant");
        // Values are the services' to judge, with their own words.
        let unusual = json!({"event_type": "a", "data": {}, "tenant": "not a tenant!"});
        assert!(
            schemas
                .check(&Method::POST, "/api/v1/events", &unusual)
                .is_empty()
        );
        let fine = json!({"event_type": "a", "data": {"anything": [1, "x"]}});
        assert!(
            schemas
                .check(&Method::POST, "/api/v1/events", &fine)
                .is_empty()
        );
        // A struct written as an array of its fields, which serde would read.
        let array = json!({"events": [["a", {}]]});
        let errors = schemas.check(&Method::POST, "/api/v1/events/batch", &array);
        assert_eq!(errors[0].path, "events[0]", "{errors:?}");
        // A key that a closed variant does not have.
        let source = json!({"name": "s", "event_type": "a",
                            "verification": {"type": "github", "secret": "x", "extra": 1}});
        assert!(
            !schemas
                .check(&Method::POST, "/api/v1/sources", &source)
                .is_empty()
        );
    }
}
