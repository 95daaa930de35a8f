-- Alert rules and their state. A rule watches one endpoint, or every endpoint (endpoint_id
-- NULL), or the whole queue (queue_depth); its state is kept per subject (an endpoint id,
-- or '*' for the queue), and only a change of `firing` announces anything, so each rule
-- fires once on the way in and once on the way out. Any node may evaluate: the
-- conditional UPDATE of a state row decides which one announces.
CREATE TABLE alert_rules (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    -- failure_rate | consecutive_failures | lag | dead_letters | circuit_warning | queue_depth
    kind         TEXT NOT NULL,
    endpoint_id  TEXT REFERENCES endpoints (id),
    -- percent (failure_rate), a count, or seconds (lag)
    threshold    BIGINT NOT NULL,
    -- the look-back of failure_rate and dead_letters, in seconds
    window_secs  BIGINT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE alert_states (
    rule_id     TEXT NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
    subject     TEXT NOT NULL,
    firing      BOOLEAN NOT NULL,
    value       BIGINT NOT NULL,
    changed_at  BIGINT NOT NULL,
    PRIMARY KEY (rule_id, subject)
);

-- Hookline's own events for alerts, delivered like any event to whoever subscribes.
INSERT INTO event_types (name, description, schema, example, archived, created_at, updated_at) VALUES (
  'hookline.alert.fired',
  'An alert rule''s condition began to hold (once per change; see hookline.alert.resolved).',
  '{"type":"object","required":["rule_id","rule","kind","subject","value","threshold","text"],"properties":{"rule_id":{"type":"string"},"rule":{"type":"string"},"kind":{"type":"string"},"subject":{"type":"string"},"endpoint_id":{"type":["string","null"]},"endpoint_name":{"type":["string","null"]},"value":{"type":"integer"},"threshold":{"type":"integer"},"text":{"type":"string"}}}',
  '{"rule_id":"alr_01K0000000000000000000000","rule":"crm failing","kind":"consecutive_failures","subject":"ep_01K0000000000000000000000","endpoint_id":"ep_01K0000000000000000000000","endpoint_name":"crm","value":5,"threshold":5,"text":"Alert: crm failing. crm has failed 5 times in a row (threshold 5)."}',
  FALSE, 0, 0);
INSERT INTO event_types (name, description, schema, example, archived, created_at, updated_at) VALUES (
  'hookline.alert.resolved',
  'An alert rule''s condition stopped holding after it fired.',
  '{"type":"object","required":["rule_id","rule","kind","subject","value","threshold","text"],"properties":{"rule_id":{"type":"string"},"rule":{"type":"string"},"kind":{"type":"string"},"subject":{"type":"string"},"endpoint_id":{"type":["string","null"]},"endpoint_name":{"type":["string","null"]},"value":{"type":"integer"},"threshold":{"type":"integer"},"text":{"type":"string"}}}',
  '{"rule_id":"alr_01K0000000000000000000000","rule":"crm failing","kind":"consecutive_failures","subject":"ep_01K0000000000000000000000","endpoint_id":"ep_01K0000000000000000000000","endpoint_name":"crm","value":0,"threshold":5,"text":"Resolved: crm failing. crm has failed 0 times in a row (threshold 5)."}',
  FALSE, 0, 0);
