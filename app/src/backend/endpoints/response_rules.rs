//! Custom response handling: what an endpoint's `response_rules` make of a receiver's
//! answer. Without rules (or for a request that got no answer) the engine's defaults
//! decide: any 2xx is delivered, 410 disables, everything else is retried.

use crate::types::endpoints::{ResponseRules, status_matches};
use serde_json::Value;

/// What the rules decided, and which rule (for the attempt log's `decided_by`).
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// No rule applies: the defaults decide.
    Default,
    /// Delivered (`by`: the rule, when not the default 2xx).
    Delivered { by: Option<String> },
    /// A failure: retried (`retry`) or sent to the dead letters at once.
    Failed { by: String, retry: bool },
}

fn resolve<'a>(body: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(body, |v, key| v.get(key))
}

/// Decides on `status` (none: no answer) and the logged response `body`.
pub fn decide(rules: Option<&ResponseRules>, status: Option<u16>, body: Option<&str>) -> Decision {
    let (Some(rules), Some(status)) = (rules, status) else {
        return Decision::Default;
    };
    let custom_success = rules.success.iter().find(|p| status_matches(p, status));
    let success =
        custom_success.is_some() || (rules.success.is_empty() && (200..300).contains(&status));
    if success {
        let by = custom_success.map(|p| format!("success: {p}"));
        let Some(rule) = &rules.body else {
            return match by {
                Some(by) => Decision::Delivered { by: Some(by) },
                None => Decision::Default,
            };
        };
        let want = rule.equals.to_string();
        let parsed = body.and_then(|b| serde_json::from_str::<Value>(b).ok());
        let got = parsed.as_ref().and_then(|v| resolve(v, &rule.path));
        return match got {
            Some(v) if *v == rule.equals => Decision::Delivered {
                by: Some(format!("body: {} == {want}", rule.path)),
            },
            Some(v) => Decision::Failed {
                by: format!("body: {} is {v}, not {want}", rule.path),
                retry: true,
            },
            None if parsed.is_none() => Decision::Failed {
                by: format!("body: not JSON, so {} cannot be {want}", rule.path),
                retry: true,
            },
            None => Decision::Failed {
                by: format!("body: no {} in the response, expected {want}", rule.path),
                retry: true,
            },
        };
    }
    if let Some(p) = rules.no_retry.iter().find(|p| status_matches(p, status)) {
        return Decision::Failed {
            by: format!("no_retry: {p}"),
            retry: false,
        };
    }
    if !rules.success.is_empty() && (200..300).contains(&status) {
        return Decision::Failed {
            by: format!("success is {}, not {status}", rules.success.join(", ")),
            retry: true,
        };
    }
    Decision::Default
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::endpoints::BodyRule;
    use serde_json::json;

    fn rules(success: &[&str], no_retry: &[&str], body: Option<(&str, Value)>) -> ResponseRules {
        ResponseRules {
            success: success.iter().map(|s| s.to_string()).collect(),
            no_retry: no_retry.iter().map(|s| s.to_string()).collect(),
            body: body.map(|(path, equals)| BodyRule {
                path: path.into(),
                equals,
            }),
        }
    }

    #[test]
    fn without_rules_or_an_answer_the_defaults_decide() {
        assert_eq!(decide(None, Some(500), None), Decision::Default);
        let r = rules(&[], &["4xx"], None);
        assert_eq!(decide(Some(&r), None, None), Decision::Default);
        assert_eq!(decide(Some(&r), Some(200), None), Decision::Default);
        assert_eq!(decide(Some(&r), Some(503), None), Decision::Default);
    }

    #[test]
    fn statuses_count_as_success_or_are_not_retried() {
        let r = rules(&["2xx", "304"], &["400", "422"], None);
        assert_eq!(
            decide(Some(&r), Some(304), None),
            Decision::Delivered {
                by: Some("success: 304".into())
            }
        );
        assert_eq!(
            decide(Some(&r), Some(201), None),
            Decision::Delivered {
                by: Some("success: 2xx".into())
            }
        );
        assert_eq!(
            decide(Some(&r), Some(422), None),
            Decision::Failed {
                by: "no_retry: 422".into(),
                retry: false
            }
        );
        assert_eq!(decide(Some(&r), Some(404), None), Decision::Default);
        let only_202 = rules(&["202"], &[], None);
        assert!(matches!(
            decide(Some(&only_202), Some(200), None),
            Decision::Failed { retry: true, .. }
        ));
    }

    #[test]
    fn a_body_rule_turns_a_200_with_ok_false_into_a_retried_failure() {
        let r = rules(&[], &[], Some(("ok", json!(true))));
        assert_eq!(
            decide(Some(&r), Some(200), Some(r#"{"ok": true}"#)),
            Decision::Delivered {
                by: Some("body: ok == true".into())
            }
        );
        assert_eq!(
            decide(Some(&r), Some(200), Some(r#"{"ok": false}"#)),
            Decision::Failed {
                by: "body: ok is false, not true".into(),
                retry: true
            }
        );
        assert!(matches!(
            decide(Some(&r), Some(200), Some("<html>")),
            Decision::Failed { retry: true, .. }
        ));
        assert!(matches!(
            decide(Some(&r), Some(200), Some("{}")),
            Decision::Failed { retry: true, .. }
        ));
        let nested = rules(&[], &[], Some(("result.status", json!("accepted"))));
        assert!(matches!(
            decide(
                Some(&nested),
                Some(200),
                Some(r#"{"result": {"status": "accepted"}}"#)
            ),
            Decision::Delivered { .. }
        ));
        assert_eq!(
            decide(Some(&r), Some(500), Some(r#"{"ok": true}"#)),
            Decision::Default
        );
    }
}
