SELECT k.keyword, COUNT(*), SUM(k.occ), SUM(s.sentiment_score), COUNT(s.sentiment_score)
FROM (SELECT keyword, session_id, SUM(occurrences) AS occ FROM session_keywords
      WHERE queue_id IN ({{.Queues}}) AND started_at >= {{.Start}} AND started_at < {{.Stop}} AND source IN ('question', 'seeker')
      GROUP BY keyword, session_id) k
JOIN chat_sessions s ON s.id = k.session_id
WHERE s.queue_id IN ({{.Queues}}) AND s.started_at >= {{.Start}} AND s.started_at < {{.Stop}}
GROUP BY k.keyword
