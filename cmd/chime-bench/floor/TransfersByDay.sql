SELECT s.queue_id, {{day "s.queued_at"}} AS d, SUM(s.accepted_at IS NOT NULL),
  SUM(s.state = 'Transferred'), SUM(s.parent_session_id IS NOT NULL), SUM(s.agent_transfer_count),
  SUM(s.accepted_at IS NOT NULL AND (s.state = 'Transferred' OR s.agent_transfer_count > 0))
FROM chat_sessions s
WHERE s.queue_id IN ({{.Queues}}) AND s.queued_at >= {{.Start}} AND s.queued_at < {{.Stop}}
GROUP BY s.queue_id, d
