SELECT r.session_id, r.submitted_at, r.rating, r.comment, u.display_name, s.question
FROM session_ratings r JOIN chat_sessions s ON s.id = r.session_id LEFT JOIN users u ON u.id = r.rated_agent_id
WHERE s.queue_id IN ({{.Queues}}) AND s.queued_at >= {{.Start}} AND s.queued_at < {{.Stop}} AND r.comment IS NOT NULL AND r.comment <> ''
