package odata

import (
	"reflect"
	"testing"
)

// FuzzDeltaState: decoding any bytes as a change-tracking state never
// panics, and a decoded state encodes to bytes that decode to the same
// state (varints have more than one spelling; the HMAC guards the bytes).
func FuzzDeltaState(f *testing.F) {
	st := &deltaState{user: 1, key: 2, since: 1700000000000000, start: 1700000060000000, phase: 1, after: 42,
		seen: []seenPair{{id: 5, version: 1700000001000000, rated: -1700000000500000}, {id: -7, version: 1700000002000000}},
		sent: []seenPair{{id: 9, version: 1700000003000000, rated: 1700000003000000}}}
	f.Add(st.encode())
	f.Add((&deltaState{}).encode())
	st.pos, st.phase = []byte(`[5,"question","vpn"]`), 0
	f.Add(st.encode())
	f.Add([]byte{1, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := decodeDelta(b)
		if err != nil {
			return
		}
		again, err := decodeDelta(st.encode())
		if err != nil || !reflect.DeepEqual(again, st) {
			t.Fatalf("round trip of %x: %+v, %v; want %+v", b, again, err, st)
		}
	})
}
