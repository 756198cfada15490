SELECT s.queue_id, {{day "s.queued_at"}} AS d, COUNT(*),
  SUM(s.state = 'Abandoned' AND s.accepted_at IS NULL AND s.ended_at IS NOT NULL AND {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} >= q.short_abandon_seconds),
  SUM(s.state = 'Abandoned' AND s.accepted_at IS NULL AND s.ended_at IS NOT NULL AND {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} < q.short_abandon_seconds),
  SUM(s.accepted_at IS NOT NULL OR (s.accepted_at IS NULL AND s.state IN ('Abandoned', 'TimedOut', 'Transferred'))),
  AVG(CASE WHEN s.state = 'Abandoned' AND s.accepted_at IS NULL AND s.ended_at IS NOT NULL AND {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} >= q.short_abandon_seconds THEN {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} END),
  MAX(CASE WHEN s.state = 'Abandoned' AND s.accepted_at IS NULL AND s.ended_at IS NOT NULL AND {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} >= q.short_abandon_seconds THEN {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} END)
FROM chat_sessions s JOIN queues q ON q.id = s.queue_id
WHERE s.queue_id IN ({{.Queues}}) AND s.queued_at >= {{.Start}} AND s.queued_at < {{.Stop}}
GROUP BY s.queue_id, d
