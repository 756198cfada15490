SELECT queue_id, d, COUNT(*), AVG(h), MAX(h), AVG(mc), SUM(dropped),
  MAX(CASE WHEN n * 50 <= rn * 100 AND n * 50 > (rn - 1) * 100 THEN h END),
  MAX(CASE WHEN n * 90 <= rn * 100 AND n * 90 > (rn - 1) * 100 THEN h END)
FROM (
  SELECT queue_id, d, h, mc, dropped, ROW_NUMBER() OVER (PARTITION BY queue_id, d ORDER BY h) AS rn, COUNT(*) OVER (PARTITION BY queue_id, d) AS n
  FROM (
    SELECT s.queue_id, {{day "s.queued_at"}} AS d, {{secs "s.accepted_at" "s.ended_at"}} AS h, s.message_count AS mc,
      CASE WHEN s.end_reason = 'connection_error' THEN 1 ELSE 0 END AS dropped
    FROM chat_sessions s
    WHERE s.queue_id IN ({{.Queues}}) AND s.queued_at >= {{.Start}} AND s.queued_at < {{.Stop}} AND s.accepted_at IS NOT NULL AND s.ended_at IS NOT NULL
  ) x
) y
GROUP BY queue_id, d
