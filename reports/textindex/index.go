package textindex

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/chime-reports/chime-reports/models"
)

// Sources of keywords: the guest's question, the guest's messages and the
// agents' messages. Bot and system messages and internal notes are left out.
const (
	SourceQuestion = "question"
	SourceSeeker   = "seeker"
	SourceAgent    = "agent"
)

// Indexer fills session_keywords from transcripts.
type Indexer struct {
	db    *gorm.DB
	clock func() time.Time
	batch int
}

// NewIndexer returns an indexer over db (nil clock: time.Now).
func NewIndexer(db *gorm.DB, clock func() time.Time) *Indexer {
	if clock == nil {
		clock = time.Now
	}
	return &Indexer{db: db, clock: clock, batch: 500}
}

// Options tune Run.
type Options struct {
	// Rebuild forgets what was indexed and indexes every closed session.
	Rebuild bool
	// StopWords are dropped besides the built-in English list.
	StopWords []string
	// Progress, if set, is called after each batch with the sessions
	// indexed so far and the number to index.
	Progress func(done, total int)
}

// Stats says what a run did.
type Stats struct{ Sessions, Keywords int }

// Run indexes the closed sessions not indexed yet (all closed sessions with
// Rebuild), in batches of sessions by id; each batch replaces the
// session's keywords and marks it indexed in one transaction, so a run that
// stops half-way resumes where it stopped.
func (ix *Indexer) Run(ctx context.Context, opt Options) (Stats, error) {
	db := ix.db.WithContext(ctx)
	if opt.Rebuild {
		// updated_at moves with every change of a session's keywords (a
		// writer's contract: the interval store's keyword tables and the
		// reports' fingerprint see changes by it).
		if err := db.Model(&models.ChatSession{}).Where("keywords_indexed_at IS NOT NULL").
			Updates(map[string]any{"keywords_indexed_at": nil, "updated_at": models.UTC(time.Now())}).Error; err != nil {
			return Stats{}, err
		}
	}
	pending := db.Model(&models.ChatSession{}).Where("ended_at IS NOT NULL AND keywords_indexed_at IS NULL")
	var total int64
	if err := pending.Count(&total).Error; err != nil {
		return Stats{}, err
	}
	var st Stats
	var after uint
	for {
		var batch []models.ChatSession
		err := db.Select("id", "queue_id", "started_at", "question").
			Where("ended_at IS NOT NULL AND keywords_indexed_at IS NULL AND id > ?", after).
			Order("id").Limit(ix.batch).Find(&batch).Error
		if err != nil {
			return st, err
		}
		if len(batch) == 0 {
			return st, nil
		}
		n, err := ix.indexBatch(ctx, batch, opt.StopWords)
		if err != nil {
			return st, err
		}
		st.Sessions += len(batch)
		st.Keywords += n
		after = batch[len(batch)-1].ID
		if opt.Progress != nil {
			opt.Progress(st.Sessions, int(total))
		}
	}
}

func (ix *Indexer) indexBatch(ctx context.Context, batch []models.ChatSession, stopWords []string) (int, error) {
	ids := make([]uint, len(batch))
	text := map[uint]map[string][]string{} // session → source → texts
	for i, s := range batch {
		ids[i] = s.ID
		text[s.ID] = map[string][]string{}
		if s.Question != nil {
			text[s.ID][SourceQuestion] = []string{*s.Question}
		}
	}
	rows, err := ix.db.WithContext(ctx).Model(&models.SessionMessage{}).Select("session_id, sender_type, body").
		Where("session_id IN ? AND sender_type IN ? AND is_internal = ?", ids, []string{SourceSeeker, SourceAgent}, false).
		Order("session_id, seq").Rows()
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var id uint
		var sender string
		var body sql.NullString
		if err := rows.Scan(&id, &sender, &body); err != nil {
			rows.Close()
			return 0, err
		}
		if body.Valid {
			text[id][sender] = append(text[id][sender], body.String)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	tok := Tokenizer{Extra: map[string]struct{}{}}
	for _, w := range stopWords {
		tok.Extra[strings.ToLower(strings.TrimSpace(w))] = struct{}{}
	}
	var out []models.SessionKeyword
	for _, s := range batch {
		for _, src := range []string{SourceQuestion, SourceSeeker, SourceAgent} {
			tok.Reset()
			for _, t := range text[s.ID][src] {
				tok.Count(t)
			}
			words, counts := tok.Counted()
			order := make([]int, len(words))
			for i := range order {
				order[i] = i
			}
			sort.Slice(order, func(a, b int) bool { return words[order[a]] < words[order[b]] })
			for _, i := range order {
				out = append(out, models.SessionKeyword{SessionID: s.ID, Source: src, Keyword: words[i],
					Occurrences: uint16(min(counts[i], 65535)), QueueID: s.QueueID, StartedAt: s.StartedAt})
			}
		}
	}
	now := models.UTC(ix.clock())
	err = ix.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("session_id IN ?", ids).Delete(&models.SessionKeyword{}).Error; err != nil {
			return err
		}
		if len(out) > 0 {
			if err := tx.CreateInBatches(out, 1000).Error; err != nil {
				return err
			}
		}
		// The delete above left a tombstone per keyword row (a trigger
		// records every delete, for change tracking); a keyword the
		// session still has is not removed, so its tombstone goes, or
		// every re-index would add a tombstone per keyword.
		if err := tx.Exec("DELETE FROM row_tombstones WHERE tbl = 'session_keywords' AND session_id IN ? AND EXISTS ("+
			"SELECT 1 FROM session_keywords k WHERE k.session_id = row_tombstones.session_id "+
			"AND k.source = row_tombstones.source AND k.keyword = row_tombstones.keyword)", ids).Error; err != nil {
			return err
		}
		// The keywords and the session's updated_at change in one
		// transaction (the real time, whatever the indexer's clock).
		return tx.Model(&models.ChatSession{}).Where("id IN ?", ids).
			Updates(map[string]any{"keywords_indexed_at": now, "updated_at": models.UTC(time.Now())}).Error
	})
	if err != nil {
		return 0, fmt.Errorf("index sessions %d–%d: %w", ids[0], ids[len(ids)-1], err)
	}
	return len(out), nil
}
