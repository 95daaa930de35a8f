//! Filter operators: one type for the server's evaluator, the REST API's explanations and
//! the dashboard's filter builder.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum FilterOp {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    In,
    NotIn,
    Contains,
    StartsWith,
    EndsWith,
    Exists,
    Regex,
}

impl FilterOp {
    pub const ALL: [FilterOp; 13] = [
        Self::Eq,
        Self::Ne,
        Self::Gt,
        Self::Gte,
        Self::Lt,
        Self::Lte,
        Self::In,
        Self::NotIn,
        Self::Contains,
        Self::StartsWith,
        Self::EndsWith,
        Self::Exists,
        Self::Regex,
    ];

    /// As written in a filter: `eq`, `not_in`, …
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Gt => "gt",
            Self::Gte => "gte",
            Self::Lt => "lt",
            Self::Lte => "lte",
            Self::In => "in",
            Self::NotIn => "not_in",
            Self::Contains => "contains",
            Self::StartsWith => "starts_with",
            Self::EndsWith => "ends_with",
            Self::Exists => "exists",
            Self::Regex => "regex",
        }
    }

    pub fn parse(s: &str) -> Option<FilterOp> {
        Self::ALL.into_iter().find(|op| op.as_str() == s)
    }

    /// How the builder shows it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Eq => "equals",
            Self::Ne => "does not equal",
            Self::Gt => ">",
            Self::Gte => "≥",
            Self::Lt => "<",
            Self::Lte => "≤",
            Self::In => "is one of",
            Self::NotIn => "is none of",
            Self::Contains => "contains",
            Self::StartsWith => "starts with",
            Self::EndsWith => "ends with",
            Self::Exists => "exists",
            Self::Regex => "matches regex",
        }
    }

    /// Its value is a list (`in`, `not_in`).
    pub fn takes_list(self) -> bool {
        matches!(self, Self::In | Self::NotIn)
    }
}

impl std::fmt::Display for FilterOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::FilterOp;

    #[test]
    fn names_round_trip_through_text_and_serde() {
        for op in FilterOp::ALL {
            assert_eq!(FilterOp::parse(op.as_str()), Some(op));
            assert_eq!(serde_json::to_value(op).unwrap(), op.as_str());
        }
        assert_eq!(FilterOp::parse("equals"), None);
    }
}
