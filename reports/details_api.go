package reports

import (
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/models"
)

// This file is the small surface the record loaders beside the engine
// (reports/details) use: the engine's database handle and the duration
// rules of one session, so those loaders never re-implement them.

// DB returns the database the engine reads. Loaders of single records use
// it with the request's context; reports go through Run.
func (e *Engine) DB() *gorm.DB { return e.db }

// SessionDurations applies the report rules to one session of queue q:
// the wait (queue to accept if answered, else queue to end; defined only
// for sessions resolved in the queue) and the handle time (accept to end,
// for answered and closed sessions), in seconds.
func SessionDurations(s *models.ChatSession, q *models.Queue) (wait float64, waitOK bool, handle float64, handleOK bool) {
	f := facts{ID: int64(s.ID), State: s.State, StartedAt: s.StartedAt, QueuedAt: s.QueuedAt, AcceptedAt: s.AcceptedAt,
		EndedAt: s.EndedAt, q: queueInfo{ShortAbandon: float64(q.ShortAbandonSeconds), SLASeconds: float64(q.SLAThresholdSeconds)}}
	wait, waitOK = f.wait()
	handle, handleOK = f.handle()
	return wait, waitOK, handle, handleOK
}

// DurationSeconds is the duration from a to b in seconds; a negative one (clock
// skew in the source data) is clamped to 0 and logged with the session id.
func DurationSeconds(a, b time.Time, sessionID int64) float64 { return seconds(a, b, sessionID) }

// NonEmpty returns ids, or a list holding only the id 0 (which no row has)
// when ids is empty, so "IN ?" stays valid SQL and matches nothing.
func NonEmpty(ids []uint32) []uint32 { return nonEmpty(ids) }
