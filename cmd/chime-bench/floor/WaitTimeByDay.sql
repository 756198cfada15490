SELECT queue_id, d, SUM(a), AVG(CASE WHEN a = 1 THEN w END), MAX(w), AVG(fr),
  MAX(CASE WHEN a = 1 AND n * 50 <= rn * 100 AND n * 50 > (rn - 1) * 100 THEN w END),
  MAX(CASE WHEN a = 1 AND n * 90 <= rn * 100 AND n * 90 > (rn - 1) * 100 THEN w END)
FROM (
  SELECT queue_id, d, a, w, fr, ROW_NUMBER() OVER (PARTITION BY queue_id, d, a ORDER BY w) AS rn, SUM(a) OVER (PARTITION BY queue_id, d) AS n
  FROM (
    SELECT s.queue_id, {{day "s.queued_at"}} AS d, CASE WHEN s.accepted_at IS NOT NULL THEN 1 ELSE 0 END AS a,
      CASE WHEN s.accepted_at IS NOT NULL OR (s.ended_at IS NOT NULL AND s.state IN ('Abandoned', 'TimedOut', 'Transferred')) THEN {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} END AS w,
      CASE WHEN s.accepted_at IS NOT NULL AND s.first_agent_message_at IS NOT NULL THEN {{secs "s.queued_at" "s.first_agent_message_at"}} END AS fr
    FROM chat_sessions s
    WHERE s.queue_id IN ({{.Queues}}) AND s.queued_at >= {{.Start}} AND s.queued_at < {{.Stop}}
  ) x
) y
GROUP BY queue_id, d
