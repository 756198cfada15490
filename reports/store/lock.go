package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"gorm.io/gorm"
)

// LockName is the MySQL user lock (GET_LOCK) that one process holds while
// it writes the store: the maintenance pass of one serve process, or a
// rollup command.
const LockName = "chime_reports_interval_store"

// ErrBusy means another process holds the maintenance lock.
var ErrBusy = errors.New("store: another process is maintaining the interval store")

// sqliteLock serialises the writers of one process on SQLite, whose single
// writer is one process (docs/architecture.md).
var sqliteLock sync.Mutex

type lock struct {
	conn    *sql.Conn // MySQL: the session holding the user lock
	release func()
}

// acquire takes the maintenance lock, waiting up to wait.
func acquire(ctx context.Context, db *gorm.DB, wait time.Duration) (*lock, error) {
	if db.Dialector.Name() != "mysql" {
		deadline := time.Now().Add(wait)
		for !sqliteLock.TryLock() {
			if time.Now().After(deadline) {
				return nil, ErrBusy
			}
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
		return &lock{release: sqliteLock.Unlock}, nil
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	var got sql.NullInt64
	secs := int(math.Ceil(wait.Seconds()))
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", LockName, secs).Scan(&got); err != nil {
		conn.Close()
		return nil, fmt.Errorf("store: GET_LOCK: %w", err)
	}
	if got.Int64 != 1 {
		conn.Close()
		return nil, ErrBusy
	}
	l := &lock{conn: conn}
	l.release = func() {
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.ExecContext(rctx, "DO RELEASE_LOCK(?)", LockName)
		conn.Close() // closing the session would release it too
	}
	return l, nil
}

// held reports whether the lock is still held (a MySQL session that died
// lost it).
func (l *lock) held(ctx context.Context) bool {
	if l.conn == nil {
		return true
	}
	var mine sql.NullInt64
	err := l.conn.QueryRowContext(ctx, "SELECT IS_USED_LOCK(?) = CONNECTION_ID()", LockName).Scan(&mine)
	return err == nil && mine.Int64 == 1
}
