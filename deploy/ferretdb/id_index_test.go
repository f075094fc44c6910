package main

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"
)

// ferretdbLikeDatabase creates a database laid out as FerretDB 1.24 lays out a collection: its
// metadata table, the collection table, its unique _id index, and the separate lookup index that
// earlier builds of this server added.
func ferretdbLikeDatabase(t *testing.T) (*sql.DB, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "conveyor.sqlite")
	db, err := sql.Open("sqlite", "file:"+file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{
		`CREATE TABLE "_ferretdb_collections" (name TEXT NOT NULL UNIQUE, table_name TEXT NOT NULL UNIQUE, settings TEXT NOT NULL) STRICT`,
		`INSERT INTO "_ferretdb_collections" VALUES ('jobs', 'jobs_e407107d', '{}')`,
		`CREATE TABLE "jobs_e407107d" (_ferretdb_sjson TEXT NOT NULL) STRICT`,
		`CREATE UNIQUE INDEX "jobs_e407107d__id_" ON "jobs_e407107d" (_ferretdb_sjson->"_id")`,
		`CREATE INDEX "jobs_e407107d_$conveyor_id_lookup" ON "jobs_e407107d" (_ferretdb_sjson->'$._id')`,
		`INSERT INTO "jobs_e407107d" VALUES ('{"_id":"a","n":1}'), ('{"_id":"b","n":2}')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return db, file
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func indexes(t *testing.T, db *sql.DB) map[string]string {
	t.Helper()
	rows, err := db.Query(`SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'jobs_e407107d'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	found := map[string]string{}
	for rows.Next() {
		var name, q string
		if err := rows.Scan(&name, &q); err != nil {
			t.Fatal(err)
		}
		found[name] = q
	}
	return found
}

func TestIDIndexIsRebuiltOnTheLookupExpression(t *testing.T) {
	db, file := ferretdbLikeDatabase(t)

	if err := ensureIDLookupIndexes(context.Background(), file, quietLogger()); err != nil {
		t.Fatal(err)
	}

	found := indexes(t, db)
	if len(found) != 1 {
		t.Fatalf("want only FerretDB's _id index, got %v", found)
	}
	q := found["jobs_e407107d__id_"]
	if !strings.Contains(q, "UNIQUE") || !strings.Contains(q, idLookupExpression) {
		t.Fatalf("_id index is %q", q)
	}

	var detail string
	var id, parent, unused int
	row := db.QueryRow(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM "jobs_e407107d" WHERE _ferretdb_sjson->'$._id' = ?`, `"a"`)
	if err := row.Scan(&id, &parent, &unused, &detail); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(detail, "USING INDEX jobs_e407107d__id_") {
		t.Fatalf("a lookup by _id does not use the index: %s", detail)
	}
}

func TestRebuiltIDIndexStillRefusesDuplicateIDs(t *testing.T) {
	db, file := ferretdbLikeDatabase(t)
	if err := ensureIDLookupIndexes(context.Background(), file, quietLogger()); err != nil {
		t.Fatal(err)
	}

	_, err := db.Exec(`INSERT INTO "jobs_e407107d" VALUES ('{"_id":"a","n":3}')`)

	// FerretDB answers a duplicate key error (11000) for exactly this SQLite error code.
	var se *sqlite.Error
	if !errors.As(err, &se) || se.Code() != sqlite3lib.SQLITE_CONSTRAINT_UNIQUE {
		t.Fatalf("want SQLITE_CONSTRAINT_UNIQUE, got %v", err)
	}
}

func TestTablesWhoseIDIndexServesLookupsAreLeftAlone(t *testing.T) {
	db, file := ferretdbLikeDatabase(t)
	ctx := context.Background()
	if err := ensureIDLookupIndexes(ctx, file, quietLogger()); err != nil {
		t.Fatal(err)
	}

	tables, err := tablesWithoutIDLookup(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 0 {
		t.Fatalf("want nothing left to rebuild, got %v", tables)
	}
}

func TestDatabaseWithoutFerretDBMetadataIsSkipped(t *testing.T) {
	file := filepath.Join(t.TempDir(), "empty.sqlite")
	db, err := sql.Open("sqlite", "file:"+file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE other (x)`); err != nil {
		t.Fatal(err)
	}

	if err := ensureIDLookupIndexes(context.Background(), file, quietLogger()); err != nil {
		t.Fatalf("want no error before FerretDB created its metadata, got %v", err)
	}
}
