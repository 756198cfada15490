SELECT s.queue_id,
  CASE WHEN {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} < 15 THEN 0 WHEN {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} < 30 THEN 15 WHEN {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} < 60 THEN 30
       WHEN {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} < 120 THEN 60 WHEN {{secs "s.queued_at" "COALESCE(s.accepted_at, s.ended_at)"}} < 300 THEN 120 ELSE 300 END AS band,
  SUM(s.accepted_at IS NOT NULL), SUM(s.accepted_at IS NULL AND s.state = 'Abandoned')
FROM chat_sessions s
WHERE s.queue_id IN ({{.Queues}}) AND s.queued_at >= {{.Start}} AND s.queued_at < {{.Stop}} AND (s.accepted_at IS NOT NULL OR (s.state = 'Abandoned' AND s.ended_at IS NOT NULL))
GROUP BY s.queue_id, band
