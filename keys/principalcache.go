package keys

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// PrincipalTTL is how long a checked key's Principal is reused without
// asking the database again. It bounds how long a change made elsewhere
// (another process, the CLI, SQL by hand: a revoked key, a deactivated
// user, a changed queue membership) takes to reach this process; a change
// made through any Service of this process (Generate, Revoke, AddUser)
// takes effect at once.
const PrincipalTTL = time.Second

// authGeneration counts the key and user changes made by this process:
// a cached Principal from an older generation is not used.
var authGeneration atomic.Uint64

// principalCache keeps the Principal of recently checked keys, by key
// hash, so that a caller's key check does not wait for a database
// connection behind report queries. Only successful checks are kept.
type principalCache struct {
	now func() time.Time // monotonic clock (tests move it)

	mu sync.Mutex
	m  map[[32]byte]cachedPrincipal
}

type cachedPrincipal struct {
	p   *Principal
	at  time.Time
	gen uint64
}

// maxCachedPrincipals bounds the cache; above it, expired entries are
// swept and, if none was, the cache starts afresh.
const maxCachedPrincipals = 10_000

func newPrincipalCache() *principalCache {
	return &principalCache{now: time.Now, m: map[[32]byte]cachedPrincipal{}}
}

// get returns a copy of the cached Principal of hash, if fresh.
func (c *principalCache) get(hash []byte) (*Principal, bool) {
	var k [32]byte
	copy(k[:], hash)
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if !ok || e.gen != authGeneration.Load() || c.now().Sub(e.at) >= PrincipalTTL {
		return nil, false
	}
	cp := *e.p
	cp.Visible, cp.Reviewable = slices.Clone(cp.Visible), slices.Clone(cp.Reviewable)
	return &cp, true
}

// put keeps p for hash; gen is the generation read before the database
// was asked, so a change made meanwhile invalidates the entry.
func (c *principalCache) put(hash []byte, p *Principal, gen uint64) {
	var k [32]byte
	copy(k[:], hash)
	now := c.now()
	cp := *p
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxCachedPrincipals {
		for h, e := range c.m {
			if now.Sub(e.at) >= PrincipalTTL {
				delete(c.m, h)
			}
		}
		if len(c.m) >= maxCachedPrincipals {
			c.m = map[[32]byte]cachedPrincipal{}
		}
	}
	c.m[k] = cachedPrincipal{p: &cp, at: now, gen: gen}
}

// invalidateAuth makes every cached Principal of this process stale.
func invalidateAuth() { authGeneration.Add(1) }
