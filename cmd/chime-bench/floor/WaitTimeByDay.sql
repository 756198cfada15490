SELECT s.queue_id, {{day "s.queued_at"}} AS d, SUM(s.accepted_at IS NOT NULL),
  AVG(CASE WHEN s.accepted_at IS NOT NULL THEN {{secs "s.queued_at" "s.accepted_at"}} END),
  MAX(CASE WHEN s.accepted_at IS NOT NULL OR (s.ended_at IS NOT NULL AND s.state IN ('Abandoned', 'TimedOut', 'Transferred')) THEN {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} END),
  AVG(CASE WHEN s.accepted_at IS NOT NULL AND s.first_agent_message_at IS NOT NULL THEN {{secs "s.queued_at" "s.first_agent_message_at"}} END)
FROM chat_sessions s
WHERE s.queue_id IN ({{.Queues}}) AND s.queued_at >= {{.Start}} AND s.queued_at < {{.Stop}}
GROUP BY s.queue_id, d
