-- The W3C traceparent of the publish that stored the event, when traces are on: each
-- attempt of its deliveries is a child span of it.
ALTER TABLE events ADD COLUMN trace_context TEXT;
