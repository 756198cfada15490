SELECT s.queue_id, {{day "s.queued_at"}} AS d, COUNT(*),
  SUM(s.accepted_at IS NOT NULL AND {{secs "s.queued_at" "s.accepted_at"}} <= q.sla_threshold_seconds),
  SUM(s.accepted_at IS NOT NULL),
  SUM(s.state = 'Abandoned' AND s.accepted_at IS NULL AND s.ended_at IS NOT NULL AND {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} >= q.short_abandon_seconds),
  SUM(s.state = 'Abandoned' AND s.accepted_at IS NULL AND s.ended_at IS NOT NULL AND {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} < q.short_abandon_seconds),
  SUM(s.state = 'TimedOut' AND s.accepted_at IS NULL),
  SUM(s.state = 'Transferred' AND s.accepted_at IS NULL),
  SUM(s.accepted_at IS NOT NULL OR (s.state = 'Abandoned' AND s.accepted_at IS NULL AND s.ended_at IS NOT NULL AND {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} >= q.short_abandon_seconds) OR (s.state = 'TimedOut' AND s.accepted_at IS NULL))
FROM chat_sessions s JOIN queues q ON q.id = s.queue_id
WHERE s.queue_id IN ({{.Queues}}) AND s.queued_at >= {{.Start}} AND s.queued_at < {{.Stop}}
GROUP BY s.queue_id, d
