package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"gorm.io/gorm"
)

// LockPrefix starts the name of the MySQL user lock (GET_LOCK) that one
// process holds while it writes the store: the maintenance pass of one
// serve process, or a rollup command. User locks are server-wide, so the
// name goes on with the database's name (LockName): deployments or tests
// with their own databases on one server do not wait for each other.
const LockPrefix = "chime_reports_interval_store:"

// LockName is the user lock of the store in database schema. MySQL limits
// a lock's name to 64 characters; a longer one ends with a digest of the
// database's name instead.
func LockName(schema string) string {
	name := LockPrefix + schema
	if len(name) <= 64 {
		return name
	}
	sum := sha256.Sum256([]byte(schema))
	return LockPrefix + hex.EncodeToString(sum[:16])
}

// ErrBusy means another process holds the maintenance lock.
var ErrBusy = errors.New("store: another process is maintaining the interval store")

// sqliteLock serialises the writers of one process on SQLite, whose single
// writer is one process (docs/architecture.md).
var sqliteLock sync.Mutex

type lock struct {
	conn    *sql.Conn // MySQL: the session holding the user lock
	name    string    // MySQL: the lock's name
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
	var schema sql.NullString
	if err := conn.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&schema); err != nil {
		conn.Close()
		return nil, fmt.Errorf("store: the database's name: %w", err)
	}
	name := LockName(schema.String)
	var got sql.NullInt64
	secs := int(math.Ceil(wait.Seconds()))
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", name, secs).Scan(&got); err != nil {
		conn.Close()
		return nil, fmt.Errorf("store: GET_LOCK: %w", err)
	}
	if got.Int64 != 1 {
		conn.Close()
		return nil, ErrBusy
	}
	l := &lock{conn: conn, name: name}
	l.release = func() {
		rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn.ExecContext(rctx, "DO RELEASE_LOCK(?)", name)
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
	err := l.conn.QueryRowContext(ctx, "SELECT IS_USED_LOCK(?) = CONNECTION_ID()", l.name).Scan(&mine)
	return err == nil && mine.Int64 == 1
}
