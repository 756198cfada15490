SELECT s.queue_id, {{day "s.queued_at"}} AS d, COUNT(*), AVG({{secs "s.accepted_at" "s.ended_at"}}), MAX({{secs "s.accepted_at" "s.ended_at"}}), AVG(s.message_count),
  SUM(s.end_reason = 'connection_error')
FROM chat_sessions s
WHERE s.queue_id IN ({{.Queues}}) AND s.queued_at >= {{.Start}} AND s.queued_at < {{.Stop}} AND s.accepted_at IS NOT NULL AND s.ended_at IS NOT NULL
GROUP BY s.queue_id, d
