package reports

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/store"
)

// Clock returns "now"; injected so default windows and open sessions are
// exact in tests.
type Clock func() time.Time

// Engine computes reports through GORM.
type Engine struct {
	db    *gorm.DB
	clock Clock
	// replicas: reads are spread over replicas at different positions, so
	// a fingerprint and the report it stands for may come from different
	// servers; no ETags then (Fingerprint).
	replicas bool
	// raw: never read the interval store (RawOnly).
	raw bool
	// answers: computed answers kept under their data version
	// (WithAnswers); nil computes every answer.
	answers *AnswerCache
	// versions shares the data version's reads between concurrent
	// requests (one per database: the copies RawOnly and WithAnswers
	// make share it).
	versions *versionReads
}

// NewEngine returns an engine over db. A nil clock means time.Now. The
// engine only reads, and tolerates replication lag: its queries go to a
// read replica when db was opened with some (models.Replicas).
func NewEngine(db *gorm.DB, clock Clock) *Engine {
	if clock == nil {
		clock = time.Now
	}
	return &Engine{db: models.Replicas(db), clock: clock, replicas: len(models.ReplicaStates(db)) > 0, versions: &versionReads{}}
}

// RawOnly returns an engine over the same database that computes every
// report from raw rows, never reading the interval store: the reference
// a store-backed answer equals.
func (e *Engine) RawOnly() *Engine {
	c := *e
	c.raw = true
	return &c
}

// Now is the engine's clock.
func (e *Engine) Now() time.Time { return e.clock() }

// Query asks for one report.
type Query struct {
	Report *Report
	Window Window
	// QueueID is the queue of a per-queue report; on a global report it
	// narrows the answer to that queue (0: every visible queue).
	QueueID uint32
	// Interval is the grain of a time-series report ("" for its own).
	Interval store.Interval
	// Visible is the set of queues the caller may see, resolved once per
	// request by the authentication layer. The engine never returns a row,
	// count or existence signal from a queue outside it.
	Visible []uint32
}

// QueueRef names a queue in a result.
type QueueRef struct {
	ID   uint32 `json:"id"`
	Name string `json:"name"`
}

// Result is a computed report: typed columns and a stream of rows. The
// caller must Close Rows.
type Result struct {
	Report      *Report
	Window      Window
	Queue       *QueueRef // per-queue reports only
	GeneratedAt time.Time
	Rows        Rows
}

// Run computes q. Invalid or invisible queues are NotFound, the same answer
// for a queue that does not exist and one the caller may not see. With an
// answer cache (WithAnswers), an answer computed at the current data
// version is served again instead.
func (e *Engine) Run(ctx context.Context, q Query) (*Result, error) {
	if q.Report == nil || q.Report.run == nil {
		return nil, apierror.NotFoundf("unknown report", Names()...)
	}
	// Instants in UTC: SQLite compares times as text, so a bound time in
	// another location ("…+11:00") would not order with the stored ones.
	q.Window.Start, q.Window.Stop = q.Window.Start.UTC(), q.Window.Stop.UTC()
	if !e.cacheable(q.Report, q.Window.Stop) {
		return e.run(ctx, q)
	}
	version, err := e.dataVersion(ctx)
	if err != nil {
		return nil, err
	}
	if byDays(q) {
		return e.runDays(ctx, q, version)
	}
	return e.runCached(ctx, q, version)
}

// run computes q from the database.
func (e *Engine) run(ctx context.Context, q Query) (*Result, error) {
	x := &execution{engine: e, db: e.db.WithContext(ctx), q: q, now: e.clock().UTC()}
	res := &Result{Report: q.Report, Window: q.Window, GeneratedAt: x.now}
	if q.Interval != "" {
		rep, err := q.Report.AtInterval(q.Interval)
		if err != nil {
			return nil, err
		}
		res.Report = rep
	}
	if q.Report.RequiresQueue() || q.QueueID != 0 { // a global report narrowed to one queue too
		ref, err := e.visibleQueue(ctx, q.QueueID, q.Visible)
		if err != nil {
			return nil, err
		}
		res.Queue = ref
		x.queues = []uint32{q.QueueID}
	} else {
		x.queues = slices.Clone(q.Visible)
	}
	if err := x.loadQueues(); err != nil {
		return nil, err
	}
	rows, err := q.Report.run(ctx, x)
	if err != nil {
		return nil, models.Classify(err)
	}
	res.Rows = rows
	return res, nil
}

// visibleQueue resolves a queue id the caller asked for.
func (e *Engine) visibleQueue(ctx context.Context, id uint32, visible []uint32) (*QueueRef, error) {
	notFound := apierror.NotFoundf(fmt.Sprintf("queue %d not found", id))
	notFound.Target = "queueId"
	if !slices.Contains(visible, id) {
		return nil, notFound
	}
	var q models.Queue
	err := e.db.WithContext(ctx).Unscoped().Select("id", "name").First(&q, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, models.Classify(err)
	}
	return &QueueRef{ID: q.ID, Name: q.Name}, nil
}

// VisibleQueues returns the queues among ids, by id (soft-deleted queues
// included: they still appear in historical reports).
func (e *Engine) VisibleQueues(ctx context.Context, ids []uint32) ([]QueueRef, error) {
	var qs []models.Queue
	if err := e.db.WithContext(ctx).Unscoped().Select("id", "name").Where("id IN ?", nonEmpty(ids)).Order("id").Find(&qs).Error; err != nil {
		return nil, models.Classify(err)
	}
	out := make([]QueueRef, len(qs))
	for i, q := range qs {
		out[i] = QueueRef{ID: q.ID, Name: q.Name}
	}
	return out, nil
}

// nonEmpty keeps "IN ?" valid for an empty set (it matches nothing).
func nonEmpty(ids []uint32) []uint32 {
	if len(ids) == 0 {
		return []uint32{0}
	}
	return ids
}

// execution is the state of one Run.
type execution struct {
	engine *Engine
	db     *gorm.DB
	q      Query
	now    time.Time
	queues []uint32 // the queues this run may read
	info   map[uint32]queueInfo
	// storeMySQL is the dialect of an execution without an engine: the
	// one that renders the store's measure SQL (storeExecution).
	storeMySQL bool
}

type queueInfo struct {
	ID           uint32
	Name         string
	Mode         string
	SLASeconds   float64
	SLATarget    float64
	ShortAbandon float64
}

func (x *execution) loadQueues() error {
	var qs []models.Queue
	if err := x.db.Unscoped().Where("id IN ?", nonEmpty(x.queues)).Order("id").Find(&qs).Error; err != nil {
		return models.Classify(err)
	}
	x.info = make(map[uint32]queueInfo, len(qs))
	for _, q := range qs {
		x.info[q.ID] = queueInfo{ID: q.ID, Name: q.Name, Mode: q.Mode, SLASeconds: float64(q.SLAThresholdSeconds),
			SLATarget: q.SLATargetPct, ShortAbandon: float64(q.ShortAbandonSeconds)}
	}
	return nil
}

// queueIDs returns the queues of this run in id order.
func (x *execution) queueIDs() []uint32 {
	out := make([]uint32, 0, len(x.info))
	for _, id := range x.queues {
		if _, ok := x.info[id]; ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// mysql reports whether the engine runs on MySQL/MariaDB (else SQLite).
func (e *Engine) mysql() bool { return e.db.Dialector.Name() == "mysql" }
