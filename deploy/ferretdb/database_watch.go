package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"time"
)

// databaseWatch is a background task run on every SQLite database in a folder whose state
// changed since the task last succeeded on it.
type databaseWatch[S comparable] struct {
	dir      string
	interval time.Duration
	// state reads what tells whether a database changed; false skips the database this time.
	// It is read before act, so a change made while act runs brings act back next time.
	state func(file string) (S, bool)
	act   func(ctx context.Context, file string) error
	// what act does, for the log line of a failure.
	what   string
	logger *slog.Logger
}

// run lists the databases in dir every interval until ctx ends, and calls act for each one whose
// state differs from the one it last succeeded at. A failure is logged and tried again next time.
func (w databaseWatch[S]) run(ctx context.Context) {
	done := map[string]S{} // a database's state when act last succeeded on it
	for {
		files, err := filepath.Glob(filepath.Join(w.dir, "*.sqlite"))
		if err != nil {
			w.logger.Warn("list sqlite databases", "error", err)
		}
		current := make(map[string]S, len(files))
		for _, file := range files {
			state, ok := w.state(file)
			if !ok {
				continue
			}
			if last, seen := done[file]; seen && last == state {
				current[file] = state
				continue
			}
			if err := w.act(ctx, file); err != nil {
				if ctx.Err() != nil {
					return
				}
				w.logger.Warn(w.what, "file", file, "error", err)
				continue
			}
			current[file] = state
		}
		done = current
		select {
		case <-ctx.Done():
			return
		case <-time.After(w.interval):
		}
	}
}
