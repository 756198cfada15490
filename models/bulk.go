package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Bulk returns db with a logger that keeps quiet about slow statements
// and passes on failed ones only: a bulk writer's (the fixtures, the
// interval store's build) every statement is long by design, and a
// warning per batch would bury the log. "Record not found" is an answer,
// not a failure: the reference data looks rows up before creating them.
func Bulk(db *gorm.DB) *gorm.DB {
	return db.Session(&gorm.Session{Logger: bulkLogger{db.Logger}})
}

type bulkLogger struct{ logger.Interface }

func (l bulkLogger) LogMode(level logger.LogLevel) logger.Interface {
	return bulkLogger{l.Interface.LogMode(level)}
}

func (l bulkLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if err != nil && !errors.Is(err, logger.ErrRecordNotFound) {
		l.Interface.Trace(ctx, begin, fc, err)
	}
}
