-- What the selection found, by source and reason: lines read, duplicate tombstones and earlier
-- replays' outcomes left out, lines selected.
SELECT
  c.source,
  c.reason,
  count(*)::INTEGER AS lines,
  (count(*) FILTER (WHERE c.reason = 'duplicate'))::INTEGER AS tombstones,
  (count(*) FILTER (WHERE c.reason <> 'duplicate' AND c.source = 'quarantine' AND c.replayed))::INTEGER AS replay_outcomes,
  (count(s.origin))::INTEGER AS selected
FROM candidates c
LEFT JOIN selected s ON s.origin = c.origin
GROUP BY ALL
ORDER BY c.source, c.reason;
