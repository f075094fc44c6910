package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writtenLikeFerretDB opens a database with the parameters FerretDB's connections get
// (sqliteParams) and writes about pages pages of documents into it.
func writtenLikeFerretDB(t *testing.T, file string, pages int) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+file+sqliteParams+"&_pragma=journal_mode(wal)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS docs (json TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	writePages(t, db, pages)
	return db
}

// writePages inserts about pages pages of 4 KiB, one transaction of about ten pages at a time.
func writePages(t *testing.T, db *sql.DB, pages int) {
	t.Helper()
	doc := strings.Repeat("x", 3500)
	for i := 0; i < pages; i += 10 {
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 10; j++ {
			if _, err := tx.Exec(`INSERT INTO docs VALUES (?)`, doc); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

func sizeOf(t *testing.T, file string) int64 {
	t.Helper()
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

func TestFerretDBConnectionsLeaveCheckpointsToTheLoop(t *testing.T) {
	file := filepath.Join(t.TempDir(), "conveyor.sqlite")

	writtenLikeFerretDB(t, file, 3000) // three times SQLite's default checkpoint threshold

	if got := sizeOf(t, file); got > 1<<20 {
		t.Fatalf("the writes were checkpointed by the writer: database file is %d bytes", got)
	}
	if got := sizeOf(t, file+"-wal"); got < 3000*4096 {
		t.Fatalf("want the writes in the log, log is %d bytes", got)
	}
}

func TestCheckpointCopiesTheLogAndLetsItStartAgain(t *testing.T) {
	file := filepath.Join(t.TempDir(), "conveyor.sqlite")
	db := writtenLikeFerretDB(t, file, 2000)
	logAfterOneRound := sizeOf(t, file+"-wal")

	for round := 0; round < 3; round++ {
		if err := checkpointWAL(context.Background(), file); err != nil {
			t.Fatal(err)
		}
		writePages(t, db, 2000)
	}

	if got := sizeOf(t, file); got < 6000*4096 {
		t.Fatalf("want the checkpointed pages in the database file, it is %d bytes", got)
	}
	// The log is written from its beginning again after each checkpoint, so it is no longer than
	// one round's writes (give or take a tenth).
	if got := sizeOf(t, file+"-wal"); got > logAfterOneRound+logAfterOneRound/10 {
		t.Fatalf("the log kept growing: %d bytes after four rounds, %d after one", got, logAfterOneRound)
	}
}

func TestLogPinnedByAReaderIsLeftToGrowUntilItLetsGo(t *testing.T) {
	file := filepath.Join(t.TempDir(), "conveyor.sqlite")
	db := writtenLikeFerretDB(t, file, 10)

	// A reader in a transaction needs the state it started on: no checkpoint copies past it.
	reader, err := sql.Open("sqlite", "file:"+file)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	tx, err := reader.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow(`SELECT count(*) FROM docs`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	writePages(t, db, 2000)
	if err := checkpointWAL(context.Background(), file); err != nil {
		t.Fatal(err)
	}
	pinned := sizeOf(t, file+"-wal")
	writePages(t, db, 500)
	if got := sizeOf(t, file+"-wal"); got <= pinned {
		t.Fatalf("want the log to grow while the reader needs it, it went from %d to %d bytes", pinned, got)
	}

	tx.Rollback() //nolint:errcheck // read-only
	if err := checkpointWAL(context.Background(), file); err != nil {
		t.Fatal(err)
	}
	longLog := sizeOf(t, file+"-wal")
	writePages(t, db, 500)

	if got := sizeOf(t, file+"-wal"); got != longLog {
		t.Fatalf("want the log written from its beginning once the reader let go, it grew from %d to %d bytes", longLog, got)
	}
}

func TestRestartIsTriedOnlyForALongLogNoReaderPins(t *testing.T) {
	for _, c := range []struct {
		name   string
		frames walFrames
		want   bool
	}{
		{"short log", walFrames{log: 100, checkpointed: 100}, false},
		{"long log, all copied", walFrames{log: restartLogAfterFrames, checkpointed: restartLogAfterFrames}, true},
		{"long log a reader pins", walFrames{log: restartLogAfterFrames + 10, checkpointed: 40}, false},
		{"not in WAL mode", walFrames{log: -1, checkpointed: -1}, false},
	} {
		if got := restartWorthTrying(c.frames); got != c.want {
			t.Errorf("%s: restartWorthTrying(%+v) = %v, want %v", c.name, c.frames, got, c.want)
		}
	}
}

func TestLoopCheckpointsChangedDatabases(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "conveyor.sqlite")
	writtenLikeFerretDB(t, file, 500)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		keepWALsCheckpointed(ctx, dir, quietLogger())
		close(done)
	}()
	defer func() {
		cancel()
		<-done
	}()

	deadline := time.Now().Add(5 * time.Second)
	for sizeOf(t, file) < 500*4096 {
		if time.Now().After(deadline) {
			t.Fatalf("database file still %d bytes after 5 s", sizeOf(t, file))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
