package keys_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

// TestKeyCheckDoesNotWaitForThePool: a key checked a moment ago is checked
// again while every pool connection is held by other work (report queries)
// without waiting for one; a key revoked through this process is refused at
// once, and one revoked elsewhere (SQL by hand, another process) within
// keys.PrincipalTTL.
func TestKeyCheckDoesNotWaitForThePool(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		if err := golden.Load(ctx, b.DB); err != nil {
			t.Fatal(err)
		}
		ks := keys.New(b.DB, func() time.Time { return golden.Now }, nil)
		now := time.Now()
		keys.SetPrincipalClock(ks, func() time.Time { return now })
		key, err := ks.Generate(ctx, golden.Alice)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ks.Check(ctx, key, "test"); err != nil {
			t.Fatal(err)
		}

		// Hold the only connection of the pool, as heavy reports would.
		pool, err := b.DB.DB()
		if err != nil {
			t.Fatal(err)
		}
		pool.SetMaxOpenConns(1)
		defer pool.SetMaxOpenConns(0)
		conn, err := pool.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		short, cancel := context.WithTimeout(ctx, 3*time.Second)
		p, err := ks.Check(short, key, "test")
		cancel()
		conn.Close()
		if err != nil {
			t.Fatalf("a key checked a moment ago waited for the pool: %v", err)
		}
		if p.Login != "alice" || !p.CanSee(1) || p.CanSee(3) {
			t.Fatalf("cached principal %+v", p)
		}

		// Revoked through a Service of this process: refused at once.
		other := keys.New(b.DB, nil, nil)
		if _, err := other.Revoke(ctx, golden.Alice); err != nil {
			t.Fatal(err)
		}
		if _, err := ks.Check(ctx, key, "test"); !errors.Is(err, keys.ErrInvalidKey) {
			t.Fatalf("revoked in this process, still accepted: %v", err)
		}

		// Revoked by another process: refused once PrincipalTTL has passed.
		key, err = ks.Generate(ctx, golden.Alice)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ks.Check(ctx, key, "test"); err != nil {
			t.Fatal(err)
		}
		if err := b.DB.Model(&models.APIKey{}).Where("user_id = ? AND revoked_at IS NULL", golden.Alice).
			Update("revoked_at", models.UTC(golden.Now)).Error; err != nil {
			t.Fatal(err)
		}
		now = now.Add(keys.PrincipalTTL)
		if _, err := ks.Check(ctx, key, "test"); !errors.Is(err, keys.ErrInvalidKey) {
			t.Fatalf("revoked elsewhere, still accepted after %v: %v", keys.PrincipalTTL, err)
		}
	})
}
