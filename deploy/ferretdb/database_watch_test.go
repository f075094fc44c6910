package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// watchedFolder is a folder of (empty) databases whose states and act results a test sets.
type watchedFolder struct {
	mu     sync.Mutex
	states map[string]int  // a database's state; absent: skipped
	fail   map[string]bool // act fails on it
	acted  []string        // the databases act was called on, in order
}

func (f *watchedFolder) watch(dir string) databaseWatch[int] {
	return databaseWatch[int]{
		dir:      dir,
		interval: 10 * time.Millisecond,
		state: func(file string) (int, bool) {
			f.mu.Lock()
			defer f.mu.Unlock()
			s, ok := f.states[filepath.Base(file)]
			return s, ok
		},
		act: func(_ context.Context, file string) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.acted = append(f.acted, filepath.Base(file))
			if f.fail[filepath.Base(file)] {
				return errors.New("refused")
			}
			return nil
		},
		what:   "test",
		logger: quietLogger(),
	}
}

func (f *watchedFolder) set(update func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	update()
}

func (f *watchedFolder) actedOn() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.acted...)
}

func count(names []string, name string) int {
	n := 0
	for _, got := range names {
		if got == name {
			n++
		}
	}
	return n
}

func TestWatchActsOnceOnEachChangeAndRetriesFailures(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.sqlite", "b.sqlite", "skipped.sqlite", "other.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	folder := &watchedFolder{
		states: map[string]int{"a.sqlite": 1, "b.sqlite": 1, "other.txt": 1},
		fail:   map[string]bool{"b.sqlite": true},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		folder.watch(dir).run(ctx)
		close(done)
	}()
	defer func() {
		cancel()
		<-done
	}()

	// A failed database is tried every round: three tries of b are three rounds at least.
	waitUntil(t, func() bool { return count(folder.actedOn(), "b.sqlite") >= 3 })
	acted := folder.actedOn()
	if n := count(acted, "a.sqlite"); n != 1 {
		t.Errorf("acted %d times on an unchanged database, want once: %v", n, acted)
	}
	if count(acted, "skipped.sqlite")+count(acted, "other.txt") != 0 {
		t.Errorf("acted on a skipped database or a file that is none: %v", acted)
	}

	folder.set(func() { folder.states["a.sqlite"] = 2 })
	waitUntil(t, func() bool { return count(folder.actedOn(), "a.sqlite") == 2 })
	tries := count(folder.actedOn(), "b.sqlite")
	waitUntil(t, func() bool { return count(folder.actedOn(), "b.sqlite") >= tries+2 })
	if n := count(folder.actedOn(), "a.sqlite"); n != 2 {
		t.Errorf("acted %d times on a database that changed once, want twice", n)
	}
}

// waitUntil polls done for up to 5 s.
func waitUntil(t *testing.T, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
