package main

import (
	"context"
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
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
	checkpointed := map[string]time.Time{} // a database's log modification time at its last checkpoint
	for {
		files, err := filepath.Glob(filepath.Join(dir, "*.sqlite"))
		if err != nil {
			logger.Warn("list sqlite databases", "error", err)
		}
		current := make(map[string]time.Time, len(files))
		for _, file := range files {
			wal, err := os.Stat(file + "-wal")
			if err != nil {
				continue // no log: nothing written since the last one was removed
			}
			current[file] = checkpointed[file]
			if wal.ModTime().Equal(checkpointed[file]) {
				continue
			}
			if err := checkpointWAL(ctx, file); err != nil {
				if ctx.Err() != nil {
					return
				}
				logger.Warn("checkpoint write-ahead log", "file", file, "error", err)
				continue
			}
			// The time read before the checkpoint: a commit during it is checkpointed next time.
			current[file] = wal.ModTime()
		}
		checkpointed = current
		select {
		case <-ctx.Done():
			return
		case <-time.After(walCheckpointInterval):
		}
	}
}

// restartLogAfterFrames is how long a write-ahead log may grow (in pages of 4 KiB) before a
// checkpoint makes writers wait to start it again from its beginning.
const restartLogAfterFrames = 16384

// maxPassiveRounds bounds the passive checkpoints of one tick: each copies what was written
// during the one before, so the last ones are short.
const maxPassiveRounds = 4

// checkpointWAL checkpoints a database's write-ahead log. Passive checkpoints copy what was
// written until one finds nothing new: the next writer then starts the log again from its
// beginning, so it stops growing. Under writes without a pause that moment may not come; once
// the log is restartLogAfterFrames long, a RESTART checkpoint waits for writers and readers to
// let it start the log again. It opens the file read-write without creating it, so a database
// dropped meanwhile stays gone.
func checkpointWAL(ctx context.Context, file string) error {
	db, err := sql.Open("sqlite", "file:"+file+"?mode=rw&_pragma=busy_timeout(10000)")
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
	if frames.log < restartLogAfterFrames {
		return nil
	}
	_, err = checkpoint(ctx, db, "RESTART")
	return err
}

// walFrames is what a checkpoint reports: the log's length and how much of it is now in the
// database file, in pages.
type walFrames struct {
	log, checkpointed int
}

func checkpoint(ctx context.Context, db *sql.DB, mode string) (walFrames, error) {
	var busy int
	var f walFrames
	err := db.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &f.log, &f.checkpointed)
	return f, err
}
