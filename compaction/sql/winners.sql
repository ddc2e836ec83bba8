-- For every event_uuid staged more than once, the arrival to keep: the first by received_at, then
-- by staging object order. `copies` > 1 means that first arrival itself is indistinguishable
-- twice over (same object, same received_at): write-day-window.sql handles that rare day.
CREATE TABLE winners AS
SELECT event_uuid, received_at, _object, count(*) AS copies
FROM keys
WHERE event_uuid IN (SELECT event_uuid FROM keys GROUP BY event_uuid HAVING count(*) > 1)
GROUP BY event_uuid, received_at, _object
QUALIFY rank() OVER (PARTITION BY event_uuid ORDER BY received_at, _object) = 1;
