SELECT b.queue_id, {{day "b.started_at"}} AS d, COUNT(*), SUM(b.outcome = 'deflected'), SUM(b.outcome = 'handoff'),
  SUM(b.outcome IN ('abandoned', 'timeout', 'error')), SUM(b.outcome IS NULL OR b.outcome = ''),
  AVG(CASE WHEN b.ended_at IS NOT NULL THEN {{secs "b.started_at" "b.ended_at"}} END), AVG(b.turns)
FROM bot_interactions b JOIN chat_sessions s ON s.id = b.session_id
WHERE b.queue_id IN ({{.Queues}}) AND b.started_at >= {{.Start}} AND b.started_at < {{.Stop}}
GROUP BY b.queue_id, d
