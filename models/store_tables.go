package models

import "time"

// The interval store's bookkeeping (package reports/store). The interval
// tables themselves (one per attribution time, a column per stored
// measure) are created by the store from its declaration of measures;
// these tables say what the interval tables hold.

// ReportStoreState is the store's single state row (ID 1).
type ReportStoreState struct {
	ID uint8 `gorm:"primaryKey;autoIncrement:false"`
	// Built is set when the interval tables hold every session up to the
	// watermarks; until then reads compute everything from raw rows.
	Built bool `gorm:"not null;default:false"`
	// Measures is the fingerprint of the measure declaration the interval
	// tables were created from.
	Measures string `gorm:"size:64;not null;default:''"`
	// SessionWatermark: every session whose updated_at is before it is
	// reflected in the interval tables (or its intervals are dirty).
	SessionWatermark time.Time `gorm:"not null"`
	// MaxSessionID: every session with a larger id is new to the store.
	MaxSessionID uint64 `gorm:"not null;default:0"`
	// RatingWatermark: every rating submitted before it is reflected.
	RatingWatermark time.Time `gorm:"not null"`
	BuiltAt         *time.Time
	PassAt          *time.Time
	// SweptAt is when the last completed sweep began: every session
	// deleted before it (less the margin of the clocks) has left the
	// interval tables.
	SweptAt *time.Time
}

// TableName keeps the store's tables together.
func (ReportStoreState) TableName() string { return "report_store_state" }

// ReportStoreDirty is one interval whose stored aggregates no longer match
// the raw rows: reads compute it from raw rows until the maintenance loop
// recomputes it.
type ReportStoreDirty struct {
	QueueID  uint32    `gorm:"primaryKey;autoIncrement:false"`
	Attr     uint8     `gorm:"primaryKey;autoIncrement:false"`
	Interval int64     `gorm:"primaryKey;autoIncrement:false;column:iv"`
	MarkedAt time.Time `gorm:"not null"`
}

// TableName keeps the store's tables together.
func (ReportStoreDirty) TableName() string { return "report_store_dirty" }

// ReportStoreSession is where the store last counted a session: its queue
// and 15-minute interval per attribution time (NULL: not counted there).
// A session that moves (re-queued, re-opened, deleted) dirties the
// intervals recorded here as well as its new ones.
type ReportStoreSession struct {
	SessionID  uint64 `gorm:"primaryKey;autoIncrement:false"`
	QueueID    uint32 `gorm:"not null"`
	QueuedIv   *int64
	StartedIv  *int64
	BotQueueID *uint32
	BotIv      *int64
}

// TableName keeps the store's tables together.
func (ReportStoreSession) TableName() string { return "report_store_sessions" }

// ReportStoreQueue records the thresholds the stored rows of a queue were
// computed with; a queue whose settings differ is read raw and rebuilt.
type ReportStoreQueue struct {
	QueueID        uint32 `gorm:"primaryKey;autoIncrement:false"`
	SLAMs          int64  `gorm:"column:sla_ms;not null"`
	ShortAbandonMs int64  `gorm:"not null"`
}

// TableName keeps the store's tables together.
func (ReportStoreQueue) TableName() string { return "report_store_queues" }

// storeModels are the bookkeeping tables of the interval store.
func storeModels() []any {
	return []any{&ReportStoreState{}, &ReportStoreDirty{}, &ReportStoreSession{}, &ReportStoreQueue{}}
}
