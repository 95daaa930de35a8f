-- Circuit breaker state per endpoint.
ALTER TABLE endpoints ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN failing_since INTEGER;

-- Hookline's own operational event, published when it disables an endpoint.
INSERT INTO event_types (name, description, schema, example, archived, created_at, updated_at) VALUES (
  'hookline.endpoint.disabled',
  'Hookline disabled an endpoint (410 Gone, or the circuit breaker after continuous failures).',
  '{"type":"object","required":["endpoint_id","reason"],"properties":{"endpoint_id":{"type":"string"},"name":{"type":"string"},"url":{"type":"string"},"reason":{"type":"string"},"consecutive_failures":{"type":"integer"},"failing_since":{"type":["string","null"]}}}',
  '{"endpoint_id":"ep_01K0000000000000000000000","name":"crm","url":"https://crm.example.com/hooks","reason":"circuit breaker: 50 consecutive failures since 2026-11-23T01:00:00.000Z","consecutive_failures":50,"failing_since":"2026-11-23T01:00:00.000Z"}',
  0, 0, 0);
