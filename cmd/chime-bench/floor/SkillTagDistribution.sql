SELECT s.queue_id, COALESCE(NULLIF(s.skill_tag, ''), '(none)') AS tag, COUNT(*), SUM(s.accepted_at IS NOT NULL),
  AVG(CASE WHEN s.accepted_at IS NOT NULL THEN {{secs "s.queued_at" "s.accepted_at"}} END),
  AVG(CASE WHEN s.accepted_at IS NOT NULL AND s.ended_at IS NOT NULL THEN {{secs "s.accepted_at" "s.ended_at"}} END)
FROM chat_sessions s
WHERE s.queue_id IN ({{.Queues}}) AND s.queued_at >= {{.Start}} AND s.queued_at < {{.Stop}}
GROUP BY s.queue_id, tag
