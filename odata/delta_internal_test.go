package odata

import (
	"encoding/base64"
	"math"
	"testing"
	"time"
)

// TestDeltaLinkFitsTheURLLimit: a delta state with both de-duplication
// lists full (session ids up to 2^40, instants up to the year 2100) still
// makes a token well inside the server's default URL limit (16 KiB),
// which also carries the query.
func TestDeltaLinkFitsTheURLLimit(t *testing.T) {
	y2100 := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	full := func(sign int64) []seenPair {
		out := make([]seenPair, MaxDeltaSeen)
		for i := range out {
			out[i] = seenPair{id: sign * (1<<40 - int64(i)), version: y2100 - int64(i), rated: y2100}
		}
		return out
	}
	st := &deltaState{user: math.MaxUint64, key: math.MaxUint64, since: math.MaxInt64, start: math.MaxInt64, phase: 1,
		after: math.MaxInt64, seen: full(1), sent: full(-1), pos: make([]byte, maxDeltaPos)}
	payload := st.encode()
	token := base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	if len(token) > 12<<10 {
		t.Errorf("a full delta token is %d bytes; with the query it must stay under the 16 KiB URL limit", len(token))
	}
	back, err := decodeDelta(payload)
	if err != nil || len(back.seen) != MaxDeltaSeen || len(back.sent) != MaxDeltaSeen || len(back.pos) != maxDeltaPos {
		t.Fatalf("decode: %v (%d, %d pairs)", err, len(back.seen), len(back.sent))
	}
	// A page that sent more than the cap is cut to the newest pairs.
	many := append(full(1), full(1)...)
	if kept := newest(many, MaxDeltaSeen); len(kept) != MaxDeltaSeen || kept[0].version != y2100 {
		t.Errorf("newest kept %d pairs, first version %d", len(kept), kept[0].version)
	}
}
