//! The error answers of every operation, stated once: which statuses each may send, each
//! with the one error body.

use utoipa::Modify;

/// The error answers every operation may give, added where the operation does not state
/// them itself (its own entries, with their specific descriptions, win): so that the
/// document lists every status the server sends, and each with the one error body.
pub struct ErrorAnswers;

impl Modify for ErrorAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let answer = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ApiError")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let params = op.parameters.as_deref().unwrap_or_default();
                let in_path = params.iter().any(|p| p.parameter_in == ParameterIn::Path);
                let in_query_or_header = params
                    .iter()
                    .any(|p| matches!(p.parameter_in, ParameterIn::Query | ParameterIn::Header));
                let has_body = op.request_body.is_some();
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let mut add = vec![(
                    "400",
                    "Malformed request: JSON that does not parse, or a path that does not decode",
                )];
                if secured {
                    add.push(("401", "Missing or invalid API key"));
                    add.push(("403", "The key's scope or role does not allow this"));
                }
                if in_path {
                    add.push(("404", "Not found (or an id that is not of its kind)"));
                }
                if has_body {
                    add.push(("413", "The request body is over the configured limit"));
                    add.push(("415", "The body is not sent as application/json"));
                }
                if has_body || in_query_or_header {
                    add.push((
                        "422",
                        "Invalid input; `errors` lists each problem with its path or parameter",
                    ));
                }
                add.push((
                    "503",
                    "The database is busy or unreachable, or the request ran past its time \
                     limit; nothing was changed, retry after `Retry-After` seconds",
                ));
                for (status, description) in add {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| answer(description).into());
                }
            }
        }
    }
}
