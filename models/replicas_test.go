package models_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/chime-reports/chime-reports/models"
	"github.com/chime-reports/chime-reports/models/dbtest"
)

// queueNames reads the queue names db sees.
func queueNames(t *testing.T, db *gorm.DB) []string {
	t.Helper()
	var names []string
	if err := db.Model(&models.Queue{}).Order("id").Pluck("name", &names).Error; err != nil {
		t.Fatal(err)
	}
	return names
}

func single(names []string, want string) bool { return len(names) == 1 && names[0] == want }

// TestReplicaRouting stands a second database of the shared server in for a
// replica (no replication: the two hold different rows), so which one a
// statement reached shows in what it reads. The replication itself is tested
// in cmd/chime-reports (TestReplicaService).
func TestReplicaRouting(t *testing.T) {
	primary, replica := dbtest.MySQL(t), dbtest.MySQL(t)
	ctx := context.Background()
	if err := replica.DB.Create(&models.Queue{ID: 2, Name: "on the replica"}).Error; err != nil {
		t.Fatal(err)
	}
	db, err := models.Open(ctx, primary.DSN, models.Options{Replicas: []models.DSN{replica.DSN}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { models.Close(db) })

	// Writes go to the primary, and so do reads on the handle Open returns.
	if err := db.Create(&models.Queue{ID: 1, Name: "on the primary"}).Error; err != nil {
		t.Fatal(err)
	}
	if got := queueNames(t, db); !single(got, "on the primary") {
		t.Errorf("default handle read %q, want the primary's row", got)
	}
	reads := models.Replicas(db)
	for i := range 5 { // the policy is random: ask more than once
		if got := queueNames(t, reads.WithContext(ctx)); !single(got, "on the replica") {
			t.Fatalf("read %d through Replicas(db) saw %q, want the replica's row", i, got)
		}
	}
	// A write through the read handle still lands on the primary.
	if err := reads.Create(&models.Queue{ID: 3, Name: "written via reads"}).Error; err != nil {
		t.Fatal(err)
	}
	if got := queueNames(t, db); len(got) != 2 || got[1] != "written via reads" {
		t.Errorf("primary has %q after a write through Replicas(db)", got)
	}
	if got := queueNames(t, models.Primary(reads)); len(got) != 2 {
		t.Errorf("Primary(Replicas(db)) read %q, want the primary's two rows", got)
	}
	// A transaction started on the primary handle stays there, reads and
	// locking reads included (keys.Generate).
	err = db.Transaction(func(tx *gorm.DB) error {
		var q models.Queue
		if err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).First(&q, 1).Error; err != nil {
			return err
		}
		return tx.Model(&models.Queue{}).Where("id = ?", 1).Update("name", "renamed").Error
	})
	if err != nil {
		t.Fatalf("read-then-write transaction: %v", err)
	}
	// The replica's connections get the primary's forced session settings.
	var tz, mode string
	if err := reads.Raw("SELECT @@session.time_zone, @@session.sql_mode").Row().Scan(&tz, &mode); err != nil {
		t.Fatal(err)
	}
	if tz != "+00:00" {
		t.Errorf("replica session time_zone %q, want +00:00", tz)
	}
	if !strings.Contains(mode, "ONLY_FULL_GROUP_BY") {
		t.Errorf("replica session sql_mode %q lacks ONLY_FULL_GROUP_BY", mode)
	}
	st := models.ReplicaStates(db)
	if len(st) != 1 || !st[0].Up {
		t.Errorf("replica states %+v, want one up", st)
	}
}

// TestReplicaDownFailsOverToPrimary: a replica that does not answer neither
// stops the service starting nor receives reads.
func TestReplicaDownFailsOverToPrimary(t *testing.T) {
	primary := dbtest.MySQL(t)
	dead := primary.DSN
	dead.MySQL = dead.MySQL.Clone()
	dead.MySQL.Addr = "127.0.0.1:1" // nothing listens on port 1
	dead.MySQL.Timeout = 500 * time.Millisecond
	ctx := context.Background()
	db, err := models.Open(ctx, primary.DSN, models.Options{Replicas: []models.DSN{dead}})
	if err != nil {
		t.Fatalf("a dead replica stopped Open: %v", err)
	}
	t.Cleanup(func() { models.Close(db) })
	if err := db.Create(&models.Queue{ID: 1, Name: "q"}).Error; err != nil {
		t.Fatal(err)
	}
	if got := queueNames(t, models.Replicas(db)); !single(got, "q") {
		t.Errorf("reads with the only replica down saw %q, want the primary's row", got)
	}
	st := models.CheckReplicas(ctx, db)
	if len(st) != 1 || st[0].Up || st[0].Err == "" {
		t.Errorf("replica states %+v, want one down with its error", st)
	}
}

func TestReplicasNeedMySQL(t *testing.T) {
	dsn, err := models.ParseDSN("sqlite:" + filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	if db, err := models.Open(context.Background(), dsn, models.Options{Replicas: []models.DSN{dsn}}); err == nil {
		models.Close(db)
		t.Fatal("Open accepted replicas for a SQLite primary")
	}
	// Without replicas both handles are the one database.
	b := dbtest.SQLite(t)
	if err := b.DB.Create(&models.Queue{ID: 1, Name: "q"}).Error; err != nil {
		t.Fatal(err)
	}
	if got := queueNames(t, models.Replicas(b.DB)); !single(got, "q") {
		t.Errorf("Replicas(db) without replicas read %q", got)
	}
	if got := queueNames(t, models.Primary(b.DB)); !single(got, "q") {
		t.Errorf("Primary(db) without replicas read %q", got)
	}
}
