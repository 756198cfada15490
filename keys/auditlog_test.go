package keys_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

// auditEnv is the key middleware over the golden users, with its audit
// records going through an AuditWriter.
type auditEnv struct {
	t   *testing.T
	b   dbtest.Backend
	w   *keys.AuditWriter
	h   http.Handler
	key string // alice's
	log *syncBuffer
}

// syncBuffer is a log sink safe for the writer goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) count(msg string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.b.String(), `msg="`+msg)
}

func newAuditEnv(t *testing.T, b dbtest.Backend, opt keys.AuditOptions) *auditEnv {
	t.Helper()
	ctx := context.Background()
	if err := golden.Load(ctx, b.DB); err != nil {
		t.Fatal(err)
	}
	sink := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(sink, nil))
	ks := keys.New(b.DB, func() time.Time { return golden.Now }, log)
	key, err := ks.Generate(ctx, golden.Alice)
	if err != nil {
		t.Fatal(err)
	}
	w := keys.NewAuditWriter(b.DB, log, opt)
	t.Cleanup(func() { w.Close(context.Background()) })
	ks.SetAuditWriter(w)
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/report", ks.Authenticate(), func(c *gin.Context) {
		keys.AddRows(c.Request.Context(), 3)
		c.String(http.StatusOK, "ok")
	})
	return &auditEnv{t: t, b: b, w: w, h: r, key: key, log: sink}
}

// call makes one authenticated request and checks it was answered.
func (e *auditEnv) call(path string) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+e.key)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		e.t.Errorf("%s: %d %s", path, rec.Code, rec.Body)
	}
}

func (e *auditEnv) rows() int64 {
	e.t.Helper()
	var n int64
	if err := e.b.DB.Model(&models.AuditRecord{}).Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *auditEnv) flush() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.w.Flush(ctx); err != nil {
		e.t.Fatal(err)
	}
}

func (e *auditEnv) wantStats(want keys.AuditStats) {
	e.t.Helper()
	if got := e.w.Stats(); got != want {
		e.t.Errorf("stats %+v, want %+v", got, want)
	}
}

// failAuditInserts makes INSERTs into audit_log fail while down says so;
// attempts counts them.
func failAuditInserts(t *testing.T, db *gorm.DB, before func(attempt int32) error) *atomic.Int32 {
	t.Helper()
	var attempts atomic.Int32
	err := db.Callback().Create().Before("gorm:create").Register("test:audit_outage", func(tx *gorm.DB) {
		if tx.Statement.Table != "audit_log" {
			return
		}
		if err := before(attempts.Add(1)); err != nil {
			tx.AddError(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return &attempts
}

func TestAuditWriterConcurrentCalls(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newAuditEnv(t, b, keys.AuditOptions{BatchSize: 25})
		const clients, each = 32, 20
		var wg sync.WaitGroup
		for c := range clients {
			wg.Go(func() {
				for i := range each {
					if i%2 == 0 {
						e.call("/report?queueId=1&api_key=" + e.key + "&client=" + strconv.Itoa(c))
					} else {
						e.call("/report?queueId=2")
					}
				}
			})
		}
		wg.Wait()
		e.flush()
		if n := e.rows(); n != clients*each {
			t.Errorf("%d audit rows after %d calls", n, clients*each)
		}
		e.wantStats(keys.AuditStats{Written: clients * each})
		var leaked int64
		e.b.DB.Model(&models.AuditRecord{}).Where("query LIKE ? OR query LIKE ?", "%"+e.key+"%", "%api_key%").Count(&leaked)
		if leaked != 0 {
			t.Errorf("%d audit rows hold the key", leaked)
		}
		var r models.AuditRecord
		if err := e.b.DB.Where("query = ?", "queueId=2").First(&r).Error; err != nil {
			t.Fatal(err)
		}
		if r.UserID != golden.Alice || r.KeyHint != e.key[32:] || r.Route != "/report" || r.Status != 200 || r.Rows != 3 || r.Bytes != 2 {
			t.Errorf("audit record %+v", r)
		}
	})
}

func TestAuditWriterOutage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newAuditEnv(t, b, keys.AuditOptions{Interval: time.Millisecond})
		stuck, release := make(chan struct{}), make(chan struct{})
		errDown := errors.New("database unavailable (test)")
		attempts := failAuditInserts(t, b.DB, func(n int32) error {
			if n == 1 {
				close(stuck)
				<-release
			}
			if n <= 3 {
				return errDown
			}
			return nil
		})
		e.call("/report?queueId=1&i=0")
		<-stuck
		// The first INSERT hangs: calls are still answered, since none waits
		// for the audit trail (if one did, this would never finish).
		const more = 30
		for range more {
			e.call("/report?queueId=1")
		}
		if n := e.rows(); n != 0 {
			t.Errorf("%d audit rows while the database hangs", n)
		}
		if got := e.w.Stats().Pending; got != more+1 {
			t.Errorf("%d records pending, want %d", got, more+1)
		}
		close(release) // fails, as do two more attempts; then the database is back
		e.flush()
		if n := e.rows(); n != more+1 {
			t.Errorf("%d audit rows after the outage, want %d", n, more+1)
		}
		if got := attempts.Load(); got < 4 {
			t.Errorf("%d INSERT attempts: the outage was not simulated", got)
		}
		e.wantStats(keys.AuditStats{Written: more + 1})
		if n := e.log.count("audit records not written yet"); n != 1 {
			t.Errorf("failure streak logged %d times, want once", n)
		}
		if n := e.log.count("audit records are written again"); n != 1 {
			t.Errorf("recovery logged %d times, want once", n)
		}
	})
}

func TestAuditWriterCloseDrains(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		// Nothing is written before Close: the batch is neither full nor due.
		e := newAuditEnv(t, b, keys.AuditOptions{BatchSize: 1000, Interval: time.Hour})
		const calls = 40
		for range calls {
			e.call("/report?queueId=1")
		}
		if n := e.rows(); n != 0 {
			t.Errorf("%d audit rows before Close", n)
		}
		if err := e.w.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := e.rows(); n != calls {
			t.Errorf("%d audit rows after Close, want %d", n, calls)
		}
		// A call after Close is answered; its record is counted as lost.
		e.call("/report?queueId=1")
		e.wantStats(keys.AuditStats{Written: calls, Dropped: 1})
		if err := e.w.Flush(context.Background()); err != nil {
			t.Errorf("Flush after Close: %v", err)
		}
	})
}

func TestAuditWriterCloseGivesUp(t *testing.T) {
	b := dbtest.SQLite(t)
	e := newAuditEnv(t, b, keys.AuditOptions{Interval: time.Millisecond})
	failAuditInserts(t, b.DB, func(int32) error { return errors.New("down for good (test)") })
	for range 5 {
		e.call("/report?queueId=1")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no time left: Close must not wait for a database that stays down
	if err := e.w.Close(ctx); err == nil || !strings.Contains(err.Error(), "5 audit records not written") {
		t.Errorf("Close: %v", err)
	}
	e.wantStats(keys.AuditStats{Dropped: 5})
}

func TestAuditWriterQueueFull(t *testing.T) {
	b := dbtest.SQLite(t)
	const queue, batch = 2, 3
	e := newAuditEnv(t, b, keys.AuditOptions{QueueSize: queue, BatchSize: batch, Interval: time.Hour, EnqueueWait: time.Millisecond})
	release := make(chan struct{})
	failAuditInserts(t, b.DB, func(int32) error { <-release; return nil })
	// The writer holds at most one batch while its INSERT hangs, and the
	// queue two more records: the rest is dropped, and the calls are
	// answered all the same.
	const calls = 12
	for range calls {
		e.call("/report?queueId=1")
	}
	close(release)
	if err := e.w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := e.w.Stats()
	if s.Dropped < calls-queue-batch || s.Written+s.Dropped != calls || s.Pending != 0 {
		t.Errorf("stats %+v after %d calls with room for %d", s, calls, queue+batch)
	}
	if n := e.rows(); n != s.Written {
		t.Errorf("%d audit rows, %d counted written", n, s.Written)
	}
	if e.log.count("audit queue full") == 0 {
		t.Error("dropped records were not logged")
	}
}

// TestAuditWriterHostileBytes: a user agent that is not UTF-8, or that a
// byte cut would split inside a character, is stored (cleaned and cut on a
// character boundary), not refused with its whole batch: MySQL in strict
// mode refuses invalid UTF-8.
func TestAuditWriterHostileBytes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newAuditEnv(t, b, keys.AuditOptions{})
		for _, ua := range []string{"\xff\xfe broken", strings.Repeat("é", 400), "ok"} {
			req := httptest.NewRequest(http.MethodGet, "/report?q=1", nil)
			req.Header.Set("Authorization", "Bearer "+e.key)
			req.Header.Set("User-Agent", ua)
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("%d", rec.Code)
			}
		}
		e.flush()
		e.wantStats(keys.AuditStats{Written: 3})
		var uas []string
		if err := b.DB.Model(&models.AuditRecord{}).Order("id").Pluck("user_agent", &uas).Error; err != nil {
			t.Fatal(err)
		}
		if len(uas) != 3 || uas[0] != "\uFFFD broken" || uas[1] != strings.Repeat("é", 150) || uas[2] != "ok" {
			t.Errorf("stored user agents %q", uas)
		}
	})
}

// TestAuditWriterRefusedRecordAlone: a record the database refuses (a data
// error, which no retry can cure) is dropped alone; the rest of its batch
// and the records behind it are written.
func TestAuditWriterRefusedRecordAlone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		e := newAuditEnv(t, b, keys.AuditOptions{BatchSize: 1000, Interval: time.Hour})
		err := b.DB.Callback().Create().Before("gorm:create").Register("test:refuse_one", func(tx *gorm.DB) {
			recs, ok := tx.Statement.Dest.(*[]*models.AuditRecord)
			if !ok {
				return
			}
			for _, r := range *recs {
				if strings.Contains(r.Query, "poison") {
					tx.AddError(&mysql.MySQLError{Number: 1406, Message: "Data too long for column"})
					return
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		e.call("/report?n=1")
		e.call("/report?poison=1")
		e.call("/report?n=2")
		e.flush()
		e.call("/report?n=3")
		e.flush()
		e.wantStats(keys.AuditStats{Written: 3, Dropped: 1})
		if n := e.rows(); n != 3 {
			t.Errorf("%d audit rows, want 3", n)
		}
		if e.log.count("audit record refused by the database") != 1 {
			t.Errorf("the refused record is not logged once")
		}
	})
}
