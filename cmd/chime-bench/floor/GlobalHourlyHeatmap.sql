SELECT {{dow "s.queued_at"}} AS w, {{hour "s.queued_at"}} AS h, COUNT(*), SUM(s.accepted_at IS NOT NULL),
  AVG(CASE WHEN s.accepted_at IS NOT NULL THEN {{secs "s.queued_at" "s.accepted_at"}} END)
FROM chat_sessions s
WHERE s.queue_id IN ({{.Queues}}) AND s.queued_at >= {{.Start}} AND s.queued_at < {{.Stop}}
GROUP BY w, h
