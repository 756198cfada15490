SELECT s.queue_id, COUNT(*), SUM(s.state = 'Deflected'), 0, 0, 0, 0, NULL, NULL, NULL, NULL
FROM chat_sessions s
WHERE s.queue_id IN ({{.Queues}}) AND s.started_at >= {{.Start}} AND s.started_at < {{.Stop}}
GROUP BY s.queue_id
UNION ALL
SELECT s.queue_id, 0, 0, COUNT(*), SUM(s.accepted_at IS NOT NULL), SUM(s.state = 'Abandoned' AND s.accepted_at IS NULL AND s.ended_at IS NOT NULL AND {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} >= q.short_abandon_seconds),
  SUM(s.state = 'TimedOut' AND s.accepted_at IS NULL),
  AVG(CASE WHEN s.accepted_at IS NOT NULL THEN {{secs "s.queued_at" "s.accepted_at"}} END),
  SUM(s.accepted_at IS NOT NULL AND {{secs "s.queued_at" "s.accepted_at"}} <= q.sla_threshold_seconds)
    / SUM(s.accepted_at IS NOT NULL OR (s.state = 'Abandoned' AND s.accepted_at IS NULL AND s.ended_at IS NOT NULL AND {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} >= q.short_abandon_seconds) OR (s.state = 'TimedOut' AND s.accepted_at IS NULL)),
  AVG(CASE WHEN s.accepted_at IS NOT NULL AND s.ended_at IS NOT NULL THEN {{secs "s.accepted_at" "s.ended_at"}} END),
  AVG(r.rating)
FROM chat_sessions s JOIN queues q ON q.id = s.queue_id LEFT JOIN session_ratings r ON r.session_id = s.id
WHERE s.queue_id IN ({{.Queues}}) AND s.queued_at >= {{.Start}} AND s.queued_at < {{.Stop}}
GROUP BY s.queue_id
