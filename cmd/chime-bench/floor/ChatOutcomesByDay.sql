SELECT s.queue_id, {{day "s.started_at"}} AS d, COUNT(*),
  SUM(s.state = 'Deflected'), SUM(s.state = 'BotAbandoned'), SUM(s.state = 'Completed'),
  SUM(s.state = 'Abandoned' AND NOT (s.queued_at IS NOT NULL AND s.accepted_at IS NULL AND s.ended_at IS NOT NULL
      AND {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} < q.short_abandon_seconds)),
  SUM(s.state = 'Abandoned' AND s.queued_at IS NOT NULL AND s.accepted_at IS NULL AND s.ended_at IS NOT NULL
      AND {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} < q.short_abandon_seconds),
  SUM(s.state = 'TimedOut'), SUM(s.state = 'Transferred'),
  SUM(s.state IN ('Bot', 'Waiting', 'Connected'))
FROM chat_sessions s JOIN queues q ON q.id = s.queue_id
WHERE s.queue_id IN ({{.Queues}}) AND s.started_at >= {{.Start}} AND s.started_at < {{.Stop}}
GROUP BY s.queue_id, d
