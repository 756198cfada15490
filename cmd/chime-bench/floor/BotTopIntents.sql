SELECT b.queue_id, COALESCE(NULLIF(b.top_intent, ''), '(unrecognised)') AS intent, COUNT(*),
  SUM(b.outcome = 'deflected'), SUM(b.outcome = 'handoff'), SUM(b.outcome IS NULL OR b.outcome = ''),
  SUM(b.feedback = 'helpful'), SUM(b.feedback = 'not_helpful')
FROM bot_interactions b JOIN chat_sessions s ON s.id = b.session_id
WHERE b.queue_id IN ({{.Queues}}) AND b.started_at >= {{.Start}} AND b.started_at < {{.Stop}}
GROUP BY b.queue_id, intent
