SELECT s.queue_id, {{day "s.queued_at"}} AS d, SUM(s.accepted_at IS NOT NULL AND s.ended_at IS NOT NULL),
  COUNT(r.rating), AVG(r.rating), SUM(r.rating >= 4),
  SUM(r.rating = 1), SUM(r.rating = 2), SUM(r.rating = 3), SUM(r.rating = 4), SUM(r.rating = 5)
FROM chat_sessions s LEFT JOIN session_ratings r ON r.session_id = s.id
WHERE s.queue_id IN ({{.Queues}}) AND s.queued_at >= {{.Start}} AND s.queued_at < {{.Stop}}
GROUP BY s.queue_id, d
