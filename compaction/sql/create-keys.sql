-- What dedup and file planning need of every staged line, one row per line: its event_uuid, its
-- arrival, its partition, and `_object`, the position of its staging object in key order (the
-- tie-break between two arrivals of one uuid at the same received_at).
CREATE TABLE keys (event_uuid VARCHAR, received_at TIMESTAMP, language VARCHAR, _object INTEGER);
