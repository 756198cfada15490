package query

import (
	"strings"

	"github.com/chime-reports/chime-reports/reports"
)

// Engine answers queries over sets with the report engine: report sets
// run reports through it, session sets read the session log through it.
type Engine struct {
	*reports.Engine
	// goApply makes $apply on session sets group in Go, not in SQL: the
	// oracle the SQL compilation is tested against.
	goApply bool
}

// NewEngine returns the set engine over a report engine.
func NewEngine(e *reports.Engine) *Engine { return &Engine{Engine: e} }

// mysql reports whether the engine runs on MySQL/MariaDB (else SQLite).
func (e *Engine) mysql() bool { return e.DB().Dialector.Name() == "mysql" }

// clip shortens user text quoted back in an error message.
func clip(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
