package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// walCheckpointInterval is how often each database's write-ahead log is checkpointed (its pages
// copied into the database file) when it has changed.
//
// SQLite's default checkpoints from inside the commit that brings the log to 1,000 pages: that
// commit also copies the log's pages into the database file and syncs it. Inserting batches of
// 50 job documents at 2,000 a second into a collection of 250,000, that put the p99 of a batch at
// 29.9 ms against 10.9 with this loop (bench/README.md). FerretDB's connections leave checkpoints
// to this loop instead (wal_autocheckpoint(0) in sqliteParams), so a writer waits for none. At
// 2,000 jobs/s the log grows by about 1,000 pages a second, about what the default let it reach.
const walCheckpointInterval = time.Second

// keepWALsCheckpointed checkpoints the write-ahead log of every database in dir whose log changed
// since its last checkpoint, every walCheckpointInterval, until ctx ends (see checkpointWAL).
func keepWALsCheckpointed(ctx context.Context, dir string, logger *slog.Logger) {
	databaseWatch[int64]{
		dir:      dir,
		interval: walCheckpointInterval,
		state:    walModTime,
		act:      checkpointWAL,
		what:     "checkpoint write-ahead log",
		logger:   logger,
	}.run(ctx)
}

// walModTime is when a database's write-ahead log was last written, in Unix nanoseconds (a plain
// number compares by value, where a time.Time compares its location too); false when it has none
// (nothing written since the last one was removed).
func walModTime(file string) (int64, bool) {
	wal, err := os.Stat(file + "-wal")
	if err != nil {
		return 0, false
	}
	return wal.ModTime().UnixNano(), true
}

// restartLogAfterFrames is how long a write-ahead log may grow (in pages of 4 KiB) before a
// checkpoint makes writers wait to start it again from its beginning.
const restartLogAfterFrames = 16384

// maxPassiveRounds bounds the passive checkpoints of one tick: each copies what was written
// during the one before, so the last ones are short.
const maxPassiveRounds = 4

// restartBusyTimeout bounds how long a RESTART checkpoint waits, first for the writer lock and
// then, holding it (so writers wait too), for transactions already under way to end.
const restartBusyTimeout = 100 * time.Millisecond

// checkpointWAL checkpoints a database's write-ahead log. Passive checkpoints copy what was
// written until one finds nothing new: the next writer then starts the log again from its
// beginning, so it stops growing. Under writes without a pause that moment may not come: once the
// log is restartLogAfterFrames long and all of it is in the database file, a RESTART checkpoint
// waits at most restartBusyTimeout for transactions under way, then lets the log start again.
// While a reader still needs an older state (a long query), no checkpoint can copy past it and
// the log grows until it is done, as with SQLite's own checkpoints; no RESTART is tried then, as
// it would hold writers up waiting for that reader. It opens the file read-write without creating
// it, so a database dropped meanwhile stays gone.
func checkpointWAL(ctx context.Context, file string) error {
	busyMs := restartBusyTimeout.Milliseconds()
	db, err := sql.Open("sqlite", fmt.Sprintf("file:%s?mode=rw&_pragma=busy_timeout(%d)", file, busyMs))
	if err != nil {
		return err
	}
	defer db.Close()
	var frames walFrames
	for round := 0; round < maxPassiveRounds; round++ {
		before := frames
		if frames, err = checkpoint(ctx, db, "PASSIVE"); err != nil {
			return err
		}
		if frames.log == 0 || (round > 0 && frames.log == before.log) {
			break // nothing written since the last round
		}
	}
	if !restartWorthTrying(frames) {
		return nil
	}
	// Busy (a transaction outlasted the wait) is no error: the next tick tries again.
	_, err = checkpoint(ctx, db, "RESTART")
	return err
}

// restartWorthTrying tells whether a RESTART checkpoint should follow passive ones that left
// the log so: it is long, and all of it is in the database file, so no reader needs an older
// state and the RESTART waits only for transactions already under way.
func restartWorthTrying(f walFrames) bool {
	return f.log >= restartLogAfterFrames && f.checkpointed == f.log
}

// walFrames is what a checkpoint reports: the log's length and how much of it is now in the
// database file, in pages (-1 when the database is not in WAL mode).
type walFrames struct {
	log, checkpointed int
}

func checkpoint(ctx context.Context, db *sql.DB, mode string) (walFrames, error) {
	var busy int
	var f walFrames
	err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &f.log, &f.checkpointed)
	return f, err
}
