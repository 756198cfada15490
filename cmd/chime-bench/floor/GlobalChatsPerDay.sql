SELECT {{day "s.started_at"}} AS d, COUNT(*), SUM(s.state = 'Deflected'), COUNT(DISTINCT s.seeker_id), 0, 0, 0, 0, 0
FROM chat_sessions s
WHERE s.queue_id IN ({{.Queues}}) AND s.started_at >= {{.Start}} AND s.started_at < {{.Stop}}
GROUP BY d
UNION ALL
SELECT {{day "s.queued_at"}} AS d, 0, 0, 0, COUNT(*), SUM(s.accepted_at IS NOT NULL), SUM(s.state = 'Abandoned' AND s.accepted_at IS NULL AND s.ended_at IS NOT NULL AND {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} >= q.short_abandon_seconds),
  SUM(s.state = 'TimedOut' AND s.accepted_at IS NULL), COUNT(DISTINCT s.conversation_guid)
FROM chat_sessions s JOIN queues q ON q.id = s.queue_id
WHERE s.queue_id IN ({{.Queues}}) AND s.queued_at >= {{.Start}} AND s.queued_at < {{.Stop}}
GROUP BY d
