SELECT s.queue_id, {{hour "s.queued_at"}} AS h, COUNT(*), SUM(s.accepted_at IS NOT NULL),
  SUM(s.state = 'Abandoned' AND s.accepted_at IS NULL AND {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} >= q.short_abandon_seconds),
  AVG(CASE WHEN s.accepted_at IS NOT NULL THEN {{secs "s.queued_at" "s.accepted_at"}} END)
FROM chat_sessions s JOIN queues q ON q.id = s.queue_id
WHERE s.queue_id IN ({{.Queues}}) AND s.queued_at >= {{.Start}} AND s.queued_at < {{.Stop}}
GROUP BY s.queue_id, h
