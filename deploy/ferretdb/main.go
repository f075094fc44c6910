// Command ferretdb runs an embedded FerretDB v1 (SQLite backend) for local development and tests.
//
// The upstream cmd/ferretdb binary needs a version file generated at release time and panics when
// built with `go install`; embedding the library package avoids that.
//
// Five changes from upstream's defaults make it usable under load (see docs/read-model.md):
//
//   - Each collection's unique _id index is rebuilt on the exact expression FerretDB 1.24 looks
//     documents up by (see keepIDLookupIndexes): as created, it is on another expression and every
//     find, update and delete by _id scans the table.
//   - SQLite runs with synchronous=NORMAL (WAL stays on): a commit no longer waits for an fsync. A
//     crash of the process loses nothing; a power loss can lose the last commits. This server holds
//     only local and test data (production uses MongoDB), and the read models it holds are
//     rebuilt from the streams. Statement journals are kept in memory (temp_store=MEMORY) rather
//     than in temp files: FerretDB writes every updated document in a transaction of its own.
//   - The write-ahead log is checkpointed by a loop of its own (see keepWALsCheckpointed) rather
//     than by the commit that fills it, which then waited for the copy into the database file.
//   - Its logger formats a child logger's attributes only when something is logged (lazyHandler):
//     FerretDB builds one per SQL statement, with the document being written in it.
//   - Go's collector runs when the heap has grown by 400 % instead of 100 % (unless GOGC is set):
//     see defaultGCPercent.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // served only with -debug-addr
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	_ "modernc.org/sqlite" // the SQLite driver FerretDB registers; used directly for the lookup indexes
)

// sqliteParams are the SQLite connection parameters of every database. FerretDB adds its own
// defaults (busy_timeout(10000), journal_mode(wal), auto_vacuum(none)) to these.
const sqliteParams = "?_pragma=synchronous(normal)&_pragma=temp_store(memory)&_pragma=wal_autocheckpoint(0)"

// defaultGCPercent is the Go collector's target (GOGC) when the environment sets none. FerretDB
// allocates garbage at a high rate for each document it writes (BSON and JSON decoding and
// encoding, the SQLite translation's buffers) over a live heap of a few MiB, so at the default of
// 100 it collects dozens of times a second, and the collector's assists and write barriers slow
// every write they overlap. In A/B runs at 2,000 jobs/s through the whole stack (bench/README.md)
// 400 cut this server's CPU per job by a fifth to a third and the read model's lag behind the
// workers several times, for some tens of MiB more heap.
const defaultGCPercent = 400

// applyDefaultGCPercent sets the collector's target to defaultGCPercent unless GOGC sets one.
func applyDefaultGCPercent(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}

// idLookupInterval is how often new collection tables are looked for.
const idLookupInterval = 250 * time.Millisecond

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("sqlite-dir", "data/ferretdb", "directory for the SQLite databases")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	debugAddr := flag.String("debug-addr", "", "TCP address for Go's pprof handlers (off when empty)")
	flag.Parse()
	applyDefaultGCPercent(os.Getenv)

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "invalid -log-level %q: %v\n", *logLevel, err)
		os.Exit(2)
	}
	logger := slog.New(newLazyHandler(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})))

	abs, err := filepath.Abs(*dataDir)
	if err != nil {
		logger.Error("resolve sqlite dir", "error", err)
		os.Exit(1)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		logger.Error("create sqlite dir", "error", err)
		os.Exit(1)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/" + sqliteParams,
		Logger:    logger,
	})
	if err != nil {
		logger.Error("start ferretdb", "error", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	go keepIDLookupIndexes(ctx, abs, logger)
	go keepWALsCheckpointed(ctx, abs, logger)
	if *debugAddr != "" {
		go func() {
			logger.Warn("pprof stopped", "error", http.ListenAndServe(*debugAddr, nil))
		}()
	}

	fmt.Fprintf(os.Stderr, "ferretdb listening on %s (sqlite %s)\n", *listen, abs)
	if err := f.Run(ctx); err != nil && ctx.Err() == nil {
		logger.Error("ferretdb stopped", "error", err)
		os.Exit(1)
	}
}

// keepIDLookupIndexes makes every collection table of every database in dir look documents up by
// _id through an index, checking databases whose files changed every idLookupInterval.
//
// FerretDB 1.24 creates each collection's unique _id index on `_ferretdb_sjson->"_id"` but looks
// documents up with `WHERE _ferretdb_sjson->'$._id' = ?` (find, update and delete by _id), and
// SQLite uses an expression index only for the very expression it was built on. So every lookup by
// _id scanned the whole table, decoding each document's JSON: a findOne or replaceOne cost
// milliseconds of CPU per thousand documents in the collection. The two expressions give the same
// value (a double-quoted "_id" that names no column is the string '_id', and a path without `$`
// is a key of the top-level object), so the unique index is rebuilt, under the same name, on the
// expression the lookups use (see replaceIDIndex). An extra index on that expression would do as
// well for lookups, but every insert then extracts _id from the document's JSON twice.
// FerretDB knows its indexes by name (listIndexes and dropIndexes work as before); a collection
// looks up by scanning for at most one interval after it is created.
func keepIDLookupIndexes(ctx context.Context, dir string, logger *slog.Logger) {
	databaseWatch[fileState]{
		dir:      dir,
		interval: idLookupInterval,
		state:    func(file string) (fileState, bool) { return stateOf(file), true },
		act: func(ctx context.Context, file string) error {
			return ensureIDLookupIndexes(ctx, file, logger)
		},
		what:   "make _id indexes serve lookups",
		logger: logger,
	}.run(ctx)
}

// fileState tells whether a database may have changed: the modification times and sizes of its
// file and its write-ahead log, where every schema change is written first.
type fileState struct {
	mainTime, walTime time.Time
	mainSize, walSize int64
}

func stateOf(file string) fileState {
	var s fileState
	if fi, err := os.Stat(file); err == nil {
		s.mainTime, s.mainSize = fi.ModTime(), fi.Size()
	}
	if fi, err := os.Stat(file + "-wal"); err == nil {
		s.walTime, s.walSize = fi.ModTime(), fi.Size()
	}
	return s
}

// ensureIDLookupIndexes rebuilds the _id index of each collection table of one database whose
// index is not on the lookup expression yet. It opens the file read-write without creating it, so
// a database dropped meanwhile stays gone.
func ensureIDLookupIndexes(ctx context.Context, file string, logger *slog.Logger) error {
	db, err := sql.Open("sqlite", "file:"+file+"?mode=rw&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer db.Close()

	tables, err := tablesWithoutIDLookup(ctx, db)
	if err != nil {
		return err
	}
	for _, table := range tables {
		if err := replaceIDIndex(ctx, db, table); err != nil {
			return fmt.Errorf("table %s: %w", table, err)
		}
		logger.Info("_id index now serves lookups", "file", file, "table", table)
	}
	return nil
}

// replaceIDIndex rebuilds the unique _id index of one collection table on the lookup expression,
// under FerretDB's name for it, in one transaction: writers wait (busy_timeout) and never see the
// table without a unique _id index. It also drops the separate lookup index that earlier builds of
// this server added, which the rebuilt index makes redundant.
func replaceIDIndex(ctx context.Context, db *sql.DB, table string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	statements := []string{
		fmt.Sprintf(`DROP INDEX IF EXISTS %q`, table+idIndexSuffix),
		fmt.Sprintf(`CREATE UNIQUE INDEX %q ON %q (%s)`, table+idIndexSuffix, table, idLookupExpression),
		fmt.Sprintf(`DROP INDEX IF EXISTS %q`, table+legacyIDLookupIndexSuffix),
	}
	for _, q := range statements {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// tablesWithoutIDLookup lists the collection tables (FerretDB's `_ferretdb_collections`) whose _id
// index is not on the lookup expression; none while FerretDB has not created its metadata table.
// A table whose _id index does not exist (yet) is left alone: FerretDB creates it.
func tablesWithoutIDLookup(ctx context.Context, db *sql.DB) ([]string, error) {
	rows, err := db.QueryContext(ctx, `
		SELECT c.table_name FROM _ferretdb_collections AS c
		JOIN sqlite_schema AS i ON i.type = 'index' AND i.tbl_name = c.table_name AND i.name = c.table_name || ?
		WHERE instr(i.sql, ?) = 0`,
		idIndexSuffix, idLookupExpression)
	if err != nil {
		var probe int
		if db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = '_ferretdb_collections'`).Scan(&probe) == nil && probe == 0 {
			return nil, nil
		}
		return nil, err
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var table string
		if err := rows.Scan(&table); err != nil {
			return nil, err
		}
		tables = append(tables, table)
	}
	return tables, errors.Join(rows.Err(), rows.Close())
}

// idLookupExpression is what FerretDB 1.24 looks documents up by _id with.
const idLookupExpression = `_ferretdb_sjson->'$._id'`

// idIndexSuffix ends FerretDB's name of a collection's unique _id index: it names indexes
// `<table>_<index name>`, and the _id index is `_id_`.
const idIndexSuffix = "__id_"

// legacyIDLookupIndexSuffix ends the name of the separate lookup index earlier builds added.
const legacyIDLookupIndexSuffix = "_$conveyor_id_lookup"
