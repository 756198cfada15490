SELECT s.queue_id, {{dow "s.queued_at"}} AS w, COUNT(*), SUM(s.accepted_at IS NOT NULL)
FROM chat_sessions s
WHERE s.queue_id IN ({{.Queues}}) AND s.queued_at >= {{.Start}} AND s.queued_at < {{.Stop}}
GROUP BY s.queue_id, w
