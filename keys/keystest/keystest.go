// Package keystest gives tests the callers of a data set without going
// through HTTP: a key is generated for each user and checked, as the key
// middleware would, so the Principal carries the user's real ACL.
package keystest

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/keys"
)

// Principals returns the principal of each user of db, in order.
func Principals(tb testing.TB, db *gorm.DB, clock func() time.Time, users ...uint) []*keys.Principal {
	tb.Helper()
	ctx := context.Background()
	ks := keys.New(db, clock, slog.New(slog.DiscardHandler))
	out := make([]*keys.Principal, 0, len(users))
	for _, u := range users {
		k, err := ks.Generate(ctx, u)
		if err != nil {
			tb.Fatal(err)
		}
		p, err := ks.Check(ctx, k, "test")
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}
