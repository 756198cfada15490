SELECT s.queue_id, s.entry_point, COUNT(*), 0, 0, NULL
FROM chat_sessions s
WHERE s.queue_id IN ({{.Queues}}) AND s.started_at >= {{.Start}} AND s.started_at < {{.Stop}}
GROUP BY s.queue_id, s.entry_point
UNION ALL
SELECT s.queue_id, s.entry_point, 0, COUNT(*), SUM(s.accepted_at IS NOT NULL),
  AVG(CASE WHEN s.accepted_at IS NOT NULL THEN {{secs "s.queued_at" "s.accepted_at"}} END)
FROM chat_sessions s
WHERE s.queue_id IN ({{.Queues}}) AND s.queued_at >= {{.Start}} AND s.queued_at < {{.Stop}}
GROUP BY s.queue_id, s.entry_point
