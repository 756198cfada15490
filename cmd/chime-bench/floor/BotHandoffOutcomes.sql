SELECT b.queue_id, {{day "b.started_at"}} AS d, COUNT(*), SUM(s.accepted_at IS NOT NULL),
  SUM(s.accepted_at IS NULL AND s.state = 'Abandoned'), SUM(s.accepted_at IS NULL AND s.state = 'TimedOut'),
  AVG(CASE WHEN s.accepted_at IS NOT NULL THEN {{secs "s.queued_at" "s.accepted_at"}} END)
FROM bot_interactions b JOIN chat_sessions s ON s.id = b.session_id
WHERE b.queue_id IN ({{.Queues}}) AND b.started_at >= {{.Start}} AND b.started_at < {{.Stop}} AND s.queued_at IS NOT NULL
GROUP BY b.queue_id, d
