package admin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chime-reports/chime-reports/fixtures/golden"
	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/keys/admin"
	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

// Admin calls, made with a session or with a key, are audited through the
// key service's AuditWriter as report calls are: queued, then written.
func TestAdminAuditThroughWriter(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, b dbtest.Backend) {
		ctx := context.Background()
		if err := golden.Load(ctx, b.DB); err != nil {
			t.Fatal(err)
		}
		c := &clock{t: golden.Now}
		e := &env{t: t, b: b, clock: c, keys: keys.New(b.DB, c.Now, nil), key: map[uint]string{}}
		k, err := e.keys.Generate(ctx, golden.Admin)
		if err != nil {
			t.Fatal(err)
		}
		e.key[golden.Admin] = k
		// Records are written only when flushed: the batch is never full
		// or due.
		w := keys.NewAuditWriter(b.DB, nil, keys.AuditOptions{Interval: time.Hour})
		t.Cleanup(func() { w.Close(ctx) })
		e.keys.SetAuditWriter(w)
		e.srv = httptest.NewServer(handler(b, e.keys, c.Now, admin.Options{Clock: c.Now, Secret: []byte(secret)}))
		t.Cleanup(e.srv.Close)

		br := e.browser()
		br.signIn(k)
		gen := fields(t, br.get("/Chime/Admin/people").body, "/Chime/Admin/people/4/key")
		if a := br.post("/Chime/Admin/people/4/key", gen); a.status != http.StatusOK {
			t.Fatalf("generate: %d", a.status)
		}
		if a := e.api(http.MethodDelete, "/Chime/Admin/api/users/4/key", k); a.status != http.StatusOK {
			t.Fatalf("revoke: %d %s", a.status, a.body)
		}
		count := func() (n int64) {
			b.DB.Model(&models.AuditRecord{}).Where("user_id = ? AND method IN ?", golden.Admin, []string{"POST", "DELETE"}).Count(&n)
			return n
		}
		if n := count(); n != 0 {
			t.Errorf("%d action records written before the flush: not queued", n)
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		// Sign-in, generate (session) and revoke (key).
		if n := count(); n != 3 {
			t.Errorf("%d action records after the flush, want 3", n)
		}
	})
}
