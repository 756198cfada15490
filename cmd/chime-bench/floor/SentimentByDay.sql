SELECT s.queue_id, {{day "s.started_at"}} AS d, COUNT(*), COUNT(s.sentiment_score), AVG(s.sentiment_score),
  SUM(s.sentiment_score > 0.25), SUM(s.sentiment_score BETWEEN -0.25 AND 0.25), SUM(s.sentiment_score < -0.25)
FROM chat_sessions s
WHERE s.queue_id IN ({{.Queues}}) AND s.started_at >= {{.Start}} AND s.started_at < {{.Stop}}
GROUP BY s.queue_id, d
