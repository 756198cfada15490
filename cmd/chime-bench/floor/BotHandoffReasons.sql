SELECT b.queue_id, COALESCE(NULLIF(b.handoff_reason, ''), '(none)') AS reason, COUNT(*), SUM(s.accepted_at IS NOT NULL),
  AVG(CASE WHEN s.accepted_at IS NOT NULL THEN {{secs "s.queued_at" "s.accepted_at"}} END)
FROM bot_interactions b JOIN chat_sessions s ON s.id = b.session_id
WHERE b.queue_id IN ({{.Queues}}) AND b.started_at >= {{.Start}} AND b.started_at < {{.Stop}} AND b.outcome = 'handoff'
GROUP BY b.queue_id, reason
