-- 20 endpoints, and 300,000 finished events and deliveries, for delivery_lifecycle.sql.
INSERT INTO endpoints (id,name,url,enabled,config,created_at,updated_at) SELECT 'ep_'||g, 'e'||g, 'http://x', true, '{}', 0, 0 FROM generate_series(1,20) g;
INSERT INTO events (id, event_type, envelope, created_at) SELECT 'evt_'||lpad(g::text,9,'0'), 't', repeat('x',300), g FROM generate_series(1,300000) g;
INSERT INTO deliveries (id,event_id,endpoint_id,status,attempts,created_at,updated_at,completed_at) SELECT 'dlv_'||lpad(g::text,9,'0'), 'evt_'||lpad(g::text,9,'0'), 'ep_'||(g%20+1), 'succeeded', 1, g, g, g FROM generate_series(1,300000) g;
VACUUM ANALYZE;
