//! Integration presets: the body template each chat or automation service expects, for
//! Hookline's alerts (their `text`) and for any event (its type, id and data). Applied by
//! setting an endpoint's `template`; the dashboard's endpoint form fills it in.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Preset {
    /// Slack incoming webhooks: `{"text": …}` (mrkdwn).
    Slack,
    /// Microsoft Teams workflows ("Post to a channel when a webhook request is received"):
    /// a message with one Adaptive Card.
    Teams,
    /// Discord webhooks: `{"content": …}` with a username.
    Discord,
    /// Zapier, Make or n8n catch hooks: flat JSON fields their steps can map.
    Zapier,
}

impl Preset {
    pub const ALL: [Preset; 4] = [
        Preset::Slack,
        Preset::Teams,
        Preset::Discord,
        Preset::Zapier,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Slack => "slack",
            Preset::Teams => "teams",
            Preset::Discord => "discord",
            Preset::Zapier => "zapier",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Preset::Slack => "Slack",
            Preset::Teams => "Microsoft Teams",
            Preset::Discord => "Discord",
            Preset::Zapier => "Zapier-style catch hook",
        }
    }

    /// The template for an endpoint subscribed to `event_types`: alerts only
    /// (`hookline.alert.*`) say their sentence; anything else names the event and shows
    /// its data.
    pub fn template(self, event_types: &[String]) -> Value {
        let alerts_only = !event_types.is_empty()
            && event_types
                .iter()
                .all(|t| t == "hookline.alert.*" || t.starts_with("hookline.alert."));
        let line = if alerts_only {
            "{{ data.text }}"
        } else {
            "{{ event_type }} {{ id }}: {{ data }}"
        };
        match self {
            Preset::Slack => json!({ "text": line }),
            Preset::Discord => json!({ "username": "Hookline", "content": line }),
            Preset::Teams => json!({
                "type": "message",
                "attachments": [{
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "content": {
                        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                        "type": "AdaptiveCard",
                        "version": "1.4",
                        "body": [
                            { "type": "TextBlock", "text": "{{ event_type }}", "weight": "Bolder" },
                            { "type": "TextBlock", "text": line, "wrap": true }
                        ]
                    }
                }]
            }),
            Preset::Zapier => json!({
                "id": "{{ id }}",
                "event_type": "{{ event_type }}",
                "event_time": "{{ event_time }}",
                "text": line,
                "data": "{{ data }}"
            }),
        }
    }
}

impl std::str::FromStr for Preset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Preset::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "must be one of {}",
                    Preset::ALL.map(|p| p.as_str()).join(", ")
                )
            })
    }
}

/// `GET /api/v1/endpoint-presets`: one preset, with its templates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PresetView {
    pub name: Preset,
    pub label: String,
    /// For an endpoint subscribed to `hookline.alert.*` only.
    pub alerts_template: Value,
    /// For any other subscription.
    pub events_template: Value,
}

impl PresetView {
    pub fn all() -> Vec<PresetView> {
        Preset::ALL
            .into_iter()
            .map(|p| PresetView {
                name: p,
                label: p.label().to_owned(),
                alerts_template: p.template(&["hookline.alert.*".to_owned()]),
                events_template: p.template(&["*".to_owned()]),
            })
            .collect()
    }
}
