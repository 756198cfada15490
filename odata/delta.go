package odata

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chime-reports/chime-reports/keys"
	"github.com/chime-reports/chime-reports/reports"
	"github.com/chime-reports/chime-reports/reports/apierror"
	"github.com/chime-reports/chime-reports/reports/query"
)

// Change tracking (docs/powerbi.md, "Incremental extraction for
// warehouses"). A tracked read is a sequence of pages whose links carry a
// signed state: the watermark Since (changes after it are sent), the
// database time Start at which this read began, the keyset position, and
// two de-duplication lists of (session, version) pairs:
//
//   - Seen: what the previous read sent with a version after its own
//     Start minus the margin; this read skips those pairs (same session,
//     same version), so a change is sent once although the watermark is
//     re-read a margin behind;
//   - Sent: what this read has sent with a version after Start minus the
//     margin; it becomes the next read's Seen.
//
// The next read's watermark is Start minus the margin: a transaction in
// flight at Start (its rows carry an older updated_at but commit later)
// and a writer whose clock is behind the database's by less than the
// margin are still seen. Versions are the later of updated_at and the
// rating's submitted_at; removals come from session_tombstones (database
// clock). The state is bound to the user, the API key and the defining
// query ($filter, $select and aliases) by an HMAC.

// DefaultDeltaMargin is how far behind its high-water mark a delta read
// re-reads.
const DefaultDeltaMargin = 2 * time.Minute

// MaxDeltaSeen caps each de-duplication list, in every link minted (next
// pages and the delta link), so that a link with both lists full stays
// well inside the server's URL limit (16 KiB by default). Past it the
// oldest pairs are dropped: those changes are sent again (a duplicate a
// loader merges by key), never lost.
const MaxDeltaSeen = 150

// maxDeltaPos bounds the keyset position a delta state carries: the sort
// values of a key (a keyword's is the longest: a session id, a source and
// 64 characters, each at most 6 bytes of JSON escape).
const maxDeltaPos = 512

type seenPair struct {
	id      int64 // session id; negative for a removal
	version int64 // µs since the epoch: the later of updated_at and the rating's submitted_at, or the removal's time
	rated   int64 // µs of the rating's submitted_at (0 without one, and for removals)
}

type deltaState struct {
	user, key uint64
	query     [8]byte // hash of the defining query
	since     int64   // µs; 0 for the initial load
	start     int64   // µs of the database clock when this read began; 0 before its first page
	phase     uint8   // 0: changed sessions, 1: removals
	after     int64   // keyset: last session id (phase 0) or tombstone sequence (phase 1)
	seen      []seenPair
	sent      []seenPair
	// pos is the keyset position (the sort values of the last row sent)
	// of a set tracked through its sessions in phase 0; nil otherwise.
	pos []byte
}

const deltaTokenVersion = 1

func (st *deltaState) encode() []byte {
	var b []byte
	b = append(b, deltaTokenVersion)
	b = binary.AppendUvarint(b, st.user)
	b = binary.AppendUvarint(b, st.key)
	b = append(b, st.query[:]...)
	b = binary.AppendVarint(b, st.since)
	b = binary.AppendVarint(b, st.start)
	b = append(b, st.phase)
	b = binary.AppendVarint(b, st.after)
	for _, list := range [][]seenPair{st.seen, st.sent} {
		b = binary.AppendUvarint(b, uint64(len(list)))
		for _, p := range list {
			b = binary.AppendVarint(b, p.id)
			b = binary.AppendVarint(b, p.version)
			b = binary.AppendVarint(b, p.rated)
		}
	}
	if st.pos != nil { // absent from the links of Sessions, as before it existed
		b = binary.AppendUvarint(b, uint64(len(st.pos)))
		b = append(b, st.pos...)
	}
	return b
}

var errBadState = errors.New("bad delta state")

func decodeDelta(b []byte) (*deltaState, error) {
	r := bytes.NewReader(b)
	v, err := r.ReadByte()
	if err != nil || v != deltaTokenVersion {
		return nil, errBadState
	}
	st := &deltaState{}
	uv := func() uint64 {
		n, e := binary.ReadUvarint(r)
		if e != nil {
			err = errBadState
		}
		return n
	}
	sv := func() int64 {
		n, e := binary.ReadVarint(r)
		if e != nil {
			err = errBadState
		}
		return n
	}
	st.user, st.key = uv(), uv()
	if _, e := r.Read(st.query[:]); e != nil {
		return nil, errBadState
	}
	st.since, st.start = sv(), sv()
	if st.phase, err = r.ReadByte(); err != nil {
		return nil, errBadState
	}
	st.after = sv()
	for _, list := range []*[]seenPair{&st.seen, &st.sent} {
		n := uv()
		if err != nil || n > MaxDeltaSeen {
			return nil, errBadState
		}
		for i := uint64(0); i < n && err == nil; i++ {
			*list = append(*list, seenPair{id: sv(), version: sv(), rated: sv()})
		}
	}
	if err == nil && r.Len() > 0 {
		n := uv()
		if err != nil || n == 0 || n > uint64(r.Len()) || n > maxDeltaPos {
			return nil, errBadState
		}
		st.pos = make([]byte, n)
		r.Read(st.pos)
	}
	if err != nil || r.Len() != 0 || st.phase > 1 {
		return nil, errBadState
	}
	return st, nil
}

func (s *Service) mintDelta(st *deltaState) string {
	payload := st.encode()
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(s.tag("delta", payload))
}

// readDelta checks a $deltatoken against the caller and the query.
func (s *Service) readDelta(p *keys.Principal, qh [8]byte, token string) (*deltaState, error) {
	bad := apierror.Invalid("$deltatoken", "the $deltatoken is not valid for this query (follow @odata.nextLink and @odata.deltaLink as given)")
	enc := base64.RawURLEncoding
	pl, t, ok := strings.Cut(token, ".")
	if !ok || len(token) > 48<<10 {
		return nil, bad
	}
	payload, err1 := enc.DecodeString(pl)
	mac, err2 := enc.DecodeString(t)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.tag("delta", payload)) {
		return nil, bad
	}
	st, err := decodeDelta(payload)
	if err != nil || st.query != qh {
		return nil, bad
	}
	if st.user != uint64(p.UserID) || st.key != uint64(p.KeyID) {
		return nil, apierror.Invalid("$deltatoken", "this delta link belongs to another user or to a key that was replaced; start again with Prefer: odata.track-changes")
	}
	return st, nil
}

// queryHash identifies the defining query of a tracked read: the set
// (other than Sessions, whose links predate the others) and its options.
func queryHash(set *query.Set, o *options) [8]byte {
	h := sha256.New()
	if set.Name != "Sessions" {
		h.Write([]byte("set=" + set.Name + "\x00"))
	}
	for _, k := range []string{"$filter", "$select"} {
		h.Write([]byte(k + "=" + o.system[k] + "\x00"))
	}
	for _, k := range slices.Sorted(maps.Keys(o.aliases)) {
		h.Write([]byte(k + "=" + o.aliases[k] + "\x00"))
	}
	var out [8]byte
	copy(out[:], h.Sum(nil))
	return out
}

// wantsTracking reads Prefer: odata.track-changes.
func wantsTracking(prefer []string) bool {
	for _, h := range prefer {
		for _, p := range strings.Split(h, ",") {
			if strings.EqualFold(strings.TrimSpace(p), "odata.track-changes") {
				return true
			}
		}
	}
	return false
}

// trackable reports whether a request's options allow change tracking:
// the defining query may filter and select, nothing else.
func trackable(o *options) string {
	for _, k := range []string{"$orderby", "$top", "$skip", "$skiptoken", "$apply", "$count", "$expand"} {
		if _, ok := o.system[k]; ok {
			return k
		}
	}
	return ""
}

// delta answers a tracked read: the initial load (Prefer:
// odata.track-changes) or a delta link's changes, page by page.
func (s *Service) delta(w http.ResponseWriter, r *http.Request, p *keys.Principal, req *request, token string) error {
	o := req.opts
	qh := queryHash(req.set, o)
	var st *deltaState
	if token != "" {
		if k := trackable(o); k != "" {
			return apierror.Invalid(k, k+" does not apply to a delta link")
		}
		var err error
		if st, err = s.readDelta(p, qh, token); err != nil {
			return err
		}
	} else {
		st = &deltaState{user: uint64(p.UserID), key: uint64(p.KeyID), query: qh}
	}
	ctx := r.Context()
	if st.start == 0 {
		now, err := s.engine.DatabaseNow(ctx)
		if err != nil {
			return err
		}
		st.start = now.UnixMicro()
	}
	margin := s.opt.DeltaMargin.Microseconds()
	floor := st.start - margin // versions after it go to Sent
	// A pair is identified by the session, its updated_at and its rating
	// time: version holds the later, so (version, rated) gives both.
	seen := make(map[seenPair]bool, len(st.seen))
	for _, sp := range st.seen {
		seen[sp] = true
	}
	pairOf := func(c query.Change) seenPair {
		sp := seenPair{id: c.ID, version: c.Version.UnixMicro()}
		if !c.Rated.IsZero() {
			sp.rated = c.Rated.UnixMicro()
		}
		if c.Updated.Before(c.Rated) {
			// updated_at is older than the rating: keep it in rated's
			// place too, so a change of either is a new pair.
			sp.rated = -c.Updated.UnixMicro()
		}
		return sp
	}
	since := time.Time{}
	if st.since != 0 {
		since = time.UnixMicro(st.since).UTC()
	}

	if req.set.TracksRows() {
		rows, removed, more, err := s.deltaRows(r, p, req, st, since, floor, seen, pairOf)
		if err != nil {
			return err
		}
		return s.finishDelta(w, r, req, st, floor, req.set.Props, rows, removed, more)
	}

	// Changed sessions, then removals, up to a page.
	var ids []int64
	versions := map[int64]seenPair{}
	more := false
	if st.phase == 0 {
		changes, err := s.engine.ChangedSessions(ctx, query.ChangeQuery{Set: req.set, Filter: req.query.Filter,
			Visible: p.Visible, Since: since, AfterID: st.after, Limit: req.pageSize + 1 + len(st.seen)})
		if err != nil {
			return err
		}
		exhausted := len(changes) < req.pageSize+1+len(st.seen)
		for _, c := range changes {
			if seen[pairOf(c)] {
				st.after = c.ID
				continue
			}
			if len(ids) == req.pageSize {
				more = true
				break
			}
			ids = append(ids, c.ID)
			versions[c.ID] = pairOf(c)
			st.after = c.ID
		}
		if !more && !exhausted {
			more = true // every candidate of this batch was skipped: read on
		}
		if !more {
			st.phase, st.after = 1, 0
		}
	}
	var removed []query.Removal
	if st.phase == 1 && !more && st.since != 0 && len(ids) < req.pageSize {
		room := req.pageSize - len(ids)
		rs, err := s.engine.RemovedSessions(ctx, p.Visible, since, st.after, room+1+len(st.seen))
		if err != nil {
			return err
		}
		exhausted := len(rs) < room+1+len(st.seen)
		for _, rm := range rs {
			if seen[seenPair{id: -rm.SessionID, version: rm.At.UnixMicro()}] {
				st.after = rm.Seq
				continue
			}
			if len(removed) == room {
				more = true
				break
			}
			removed = append(removed, rm)
			st.after = rm.Seq
		}
		if !more && !exhausted {
			more = true
		}
	} else if st.phase == 1 && len(ids) >= req.pageSize && st.since != 0 {
		more = true
	}

	// The rows of the changed sessions, through the set's own query.
	q := req.query
	q.After, q.Skip, q.Top, q.OrderBy = nil, 0, -1, nil
	var rows [][]any
	var props = req.set.Props
	if len(ids) > 0 {
		list := make([]query.Expr, len(ids))
		for i, id := range ids {
			list[i] = query.Lit{Kind: query.KindInt, V: id}
		}
		q.Filter = query.And(req.query.Filter, query.In{X: query.Prop{Name: req.set.Key[0]}, List: list})
		res, err := s.engine.QuerySet(ctx, q)
		if err != nil {
			return err
		}
		for res.Rows.Next() {
			rows = append(rows, slices.Clone(res.Rows.Row()))
		}
		err = res.Rows.Err()
		res.Rows.Close()
		if err != nil {
			return err
		}
		props = res.Props
	}
	keyIdx := req.set.Index(req.set.Key[0])
	for _, row := range rows {
		id, _ := row[keyIdx].(int64)
		if sp, ok := versions[id]; ok && sp.version > floor {
			st.sent = append(st.sent, sp)
		}
	}
	var gone []removal
	for _, rm := range removed {
		if v := rm.At.UnixMicro(); v > floor {
			st.sent = append(st.sent, seenPair{id: -rm.SessionID, version: v})
		}
		gone = append(gone, removal{key: []any{rm.SessionID}})
	}
	return s.finishDelta(w, r, req, st, floor, props, rows, gone, more)
}

// removal is a deleted entity of a delta answer: the values of its set's
// key properties.
type removal struct{ key []any }

// finishDelta mints the link that follows a page of a tracked read (the
// next page, or the delta link) and writes the page.
func (s *Service) finishDelta(w http.ResponseWriter, r *http.Request, req *request, st *deltaState, floor int64, props []reports.Column, rows [][]any, removed []removal, more bool) error {
	var link string
	if more {
		st.sent = newest(st.sent, MaxDeltaSeen)
		link = s.deltaLink(r, req, s.mintDelta(st))
	} else {
		next := &deltaState{user: st.user, key: st.key, query: st.query, since: floor, seen: nextSeen(st, floor)}
		link = s.deltaLink(r, req, s.mintDelta(next))
	}
	w.Header().Set("Preference-Applied", "odata.track-changes")
	if req.applied {
		w.Header().Add("Preference-Applied", "odata.maxpagesize="+strconv.Itoa(req.pageSize))
	}
	return s.writeDelta(w, r, req, props, rows, removed, st.since != 0, more, link)
}

// deltaRows reads one page of a tracked read of a set beside Sessions:
// the rows of the sessions changed since the watermark (every row on the
// initial load) in key order, skipping the sessions whose version the
// previous read already sent, then the tombstones of deleted rows.
func (s *Service) deltaRows(r *http.Request, p *keys.Principal, req *request, st *deltaState, since time.Time, floor int64,
	seen map[seenPair]bool, pairOf func(query.Change) seenPair) (rows [][]any, removed []removal, more bool, err error) {
	ctx := r.Context()
	set := req.set
	if st.phase == 0 {
		var ids []int64
		for _, sp := range st.seen {
			if sp.id > 0 {
				ids = append(ids, sp.id)
			}
		}
		current, err := s.engine.SessionVersions(ctx, ids)
		if err != nil {
			return nil, nil, false, err
		}
		var skip []int64
		for _, c := range current {
			if seen[pairOf(c)] {
				skip = append(skip, c.ID)
			}
		}
		q := req.query
		q.After = nil
		sort := set.Sort(nil)
		if st.pos != nil {
			if q.After, err = parseKeyset(set, sort, st.pos, errBadState); err != nil {
				return nil, nil, false, apierror.Invalid("$deltatoken", "the $deltatoken is not valid for this query (follow @odata.nextLink and @odata.deltaLink as given)")
			}
		}
		var changes []query.Change
		rows, changes, err = s.engine.ChangedRows(ctx, q, since, skip, req.pageSize+1)
		if err != nil {
			return nil, nil, false, err
		}
		if len(rows) > req.pageSize {
			rows, changes, more = rows[:req.pageSize], changes[:req.pageSize], true
			st.pos = keysetPayload(set, sort, rows[len(rows)-1])
		} else {
			st.phase, st.pos, st.after = 1, nil, 0
		}
		sent := map[seenPair]bool{}
		for _, sp := range st.sent {
			sent[sp] = true
		}
		for _, c := range changes {
			if sp := pairOf(c); sp.version > floor && !sent[sp] {
				sent[sp] = true
				st.sent = append(st.sent, sp)
			}
		}
	}
	if st.phase == 1 && !more && st.since != 0 {
		room := req.pageSize - len(rows)
		if room == 0 {
			return rows, nil, true, nil
		}
		rs, err := s.engine.RemovedRows(ctx, set, p.Visible, since, st.after, room+1+len(st.seen))
		if err != nil {
			return nil, nil, false, err
		}
		exhausted := len(rs) < room+1+len(st.seen)
		for _, rm := range rs {
			if rm.Exists || seen[seenPair{id: -rm.Seq, version: rm.At.UnixMicro()}] {
				st.after = rm.Seq
				continue
			}
			if len(removed) == room {
				more = true
				break
			}
			removed = append(removed, removal{key: rm.Key})
			if v := rm.At.UnixMicro(); v > floor {
				st.sent = append(st.sent, seenPair{id: -rm.Seq, version: v})
			}
			st.after = rm.Seq
		}
		if !more && !exhausted {
			more = true
		}
	}
	return rows, removed, more, nil
}

// nextSeen is the next read's Seen: what this read sent after floor, and
// what the previous read sent after floor that this one did not send
// again; the newest MaxDeltaSeen of them.
func nextSeen(st *deltaState, floor int64) []seenPair {
	out := slices.Clone(st.sent)
	sent := map[int64]bool{}
	for _, sp := range st.sent {
		sent[sp.id] = true
	}
	for _, sp := range st.seen {
		if sp.version > floor && !sent[sp.id] {
			out = append(out, sp)
		}
	}
	return newest(out, MaxDeltaSeen)
}

// newest keeps the n pairs of list with the newest versions.
func newest(list []seenPair, n int) []seenPair {
	if len(list) <= n {
		return list
	}
	slices.SortFunc(list, func(a, b seenPair) int { return int(max(min(b.version-a.version, 1), -1)) })
	return list[:n]
}

// deltaLink is the absolute URL of a tracked read's next page or delta
// link: the defining query as sent (filter, select, format, aliases,
// custom options) and the state.
func (s *Service) deltaLink(r *http.Request, req *request, token string) string {
	var parts []string
	for _, p := range req.opts.pairs {
		switch p.name {
		case "$skiptoken", "$deltatoken", "$skip", "$top", "$count", "$orderby":
			continue
		}
		parts = append(parts, p.raw)
	}
	parts = append(parts, "$deltatoken="+token)
	return s.base(r) + "/" + req.set.Name + "?" + strings.Join(parts, "&")
}

// writeDelta writes one page of a tracked read. The initial load is a
// collection (#Sessions); a delta link's answer is a delta payload
// (#Sessions/$delta) with removed sessions as @removed entries (OData
// 4.01) or $deletedEntity entries (4.0).
func (s *Service) writeDelta(w http.ResponseWriter, r *http.Request, req *request, props []reports.Column, rows [][]any, removed []removal, isDelta, more bool, link string) error {
	f := req.format
	body, finish := start(w, r, f.contentType())
	if r.Method == http.MethodHead {
		return finish()
	}
	bw := bufio.NewWriterSize(body, 32<<10)
	bw.WriteByte('{')
	if f.metadata != "none" {
		ctx := s.contextURL(r, req, props)
		if isDelta {
			ctx += "/$delta"
		}
		bw.WriteString(`"@odata.context":`)
		writeString(bw, ctx)
		bw.WriteByte(',')
	}
	bw.WriteString(`"value":[`)
	cols := req.selected
	if cols == nil {
		cols = allColumns(len(props))
	}
	ew := s.entityWriter(r, req, props, cols)
	for i, row := range rows {
		if i > 0 {
			bw.WriteByte(',')
		}
		ew.write(bw, row, "")
	}
	set := req.set
	for i, rm := range removed {
		if i > 0 || len(rows) > 0 {
			bw.WriteByte(',')
		}
		keyRow := make([]any, len(set.Props))
		for j, k := range set.Key {
			keyRow[set.Index(k)] = rm.key[j]
		}
		id := s.base(r) + "/" + set.Name + keySegment(set, keyRow)
		if f.v401 {
			bw.WriteString(`{"@removed":{"reason":"deleted"},"@odata.id":`)
			writeString(bw, id)
			for j, k := range set.Key {
				c, _ := set.Property(k)
				bw.WriteString(`,"` + k + `":`)
				writeFormatted(bw, c.Type, rm.key[j], f.ieee754)
			}
			bw.WriteByte('}')
			continue
		}
		bw.WriteString(`{"@odata.context":`)
		writeString(bw, s.base(r)+"/$metadata#"+req.set.Name+"/$deletedEntity")
		bw.WriteString(`,"id":`)
		writeString(bw, id)
		bw.WriteString(`,"reason":"deleted"}`)
	}
	bw.WriteByte(']')
	if more {
		bw.WriteString(`,"@odata.nextLink":`)
	} else {
		bw.WriteString(`,"@odata.deltaLink":`)
	}
	writeString(bw, link)
	bw.WriteString("}\n")
	keys.AddRows(r.Context(), int64(len(rows)+len(removed)))
	if err := bw.Flush(); err != nil {
		s.abort(r, req.set.Name, len(rows), err)
	}
	if err := finish(); err != nil {
		s.abort(r, req.set.Name, len(rows), err)
	}
	return nil
}
