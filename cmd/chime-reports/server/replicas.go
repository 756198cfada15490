package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/models"
)

// replicaReadiness checks the read replicas now and tells /readyz about
// them, one line each. A replica that is down does not make the process
// unready: its reads go to the other replicas or to the primary. Replicas
// are numbered in flag order, not named: /readyz is unauthenticated.
func replicaReadiness(ctx context.Context, db *gorm.DB) string {
	var b strings.Builder
	for i, r := range models.CheckReplicas(ctx, db) {
		state := "up"
		if !r.Up {
			state = "down (reads go to the other replicas or the primary)"
		}
		fmt.Fprintf(&b, "replica %d: %s\n", i+1, state)
	}
	return b.String()
}

// skiptokenKey derives the key that signs OData $skiptoken values from the
// admin secret, so that processes sharing --admin-secret accept each other's
// nextLinks behind a load balancer. Without a secret each process makes a
// random key (nil).
func skiptokenKey(secret []byte) []byte {
	if len(secret) == 0 {
		return nil
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("chime-reports odata $skiptoken"))
	return m.Sum(nil)
}
