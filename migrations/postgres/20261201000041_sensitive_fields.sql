-- Sensitive payload fields: the paths an event type marks (a JSON array of strings), and
-- for each attempt the request body with those values masked (NULL when what was sent
-- carried none), beside the paths it was masked for (a JSON object: event type -> paths).
ALTER TABLE event_types ADD COLUMN sensitive_fields TEXT NOT NULL DEFAULT '[]';
ALTER TABLE attempts ADD COLUMN request_body_masked TEXT;
ALTER TABLE attempts ADD COLUMN masked_for TEXT;
