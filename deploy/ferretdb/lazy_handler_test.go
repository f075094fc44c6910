package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"
)

// countingHandler counts WithAttrs calls on the handler it wraps.
type countingHandler struct {
	slog.Handler
	withAttrs *int
}

func (h countingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	*h.withAttrs++
	return countingHandler{h.Handler.WithAttrs(attrs), h.withAttrs}
}

func (h countingHandler) WithGroup(name string) slog.Handler {
	return countingHandler{h.Handler.WithGroup(name), h.withAttrs}
}

func TestLazyHandlerDoesNotFormatAttributesOfDisabledRecords(t *testing.T) {
	var out bytes.Buffer
	calls := 0
	inner := countingHandler{slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelError}), &calls}
	logger := slog.New(newLazyHandler(inner))

	logger.With(slog.Any("args", []any{"a document"})).DebugContext(context.Background(), ">>> INSERT")

	if calls != 0 {
		t.Fatalf("WithAttrs of the inner handler was called %d times for a disabled record", calls)
	}
	if out.Len() != 0 {
		t.Fatalf("a disabled record was written: %s", out.String())
	}
}

func TestLazyHandlerWritesAttributesAndGroupsInOrder(t *testing.T) {
	var out bytes.Buffer
	logger := slog.New(newLazyHandler(slog.NewJSONHandler(&out, nil)))

	logger.With("conn", "c1").WithGroup("sql").With("rows", 2).Error("<<< INSERT", "ms", 3)

	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("output is not one JSON object: %v: %s", err, out.String())
	}
	if got["conn"] != "c1" || got["msg"] != "<<< INSERT" {
		t.Fatalf("top-level attributes lost: %s", out.String())
	}
	group, ok := got["sql"].(map[string]any)
	if !ok || group["rows"] != float64(2) || group["ms"] != float64(3) {
		t.Fatalf("grouped attributes lost: %s", out.String())
	}
}

func TestLazyHandlerChildrenDoNotShareAttributes(t *testing.T) {
	var out bytes.Buffer
	parent := slog.New(newLazyHandler(slog.NewJSONHandler(&out, nil))).With("a", 1)
	first := parent.With("b", 2)
	second := parent.With("c", 3)

	second.Info("second")
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if _, leaked := got["b"]; leaked {
		t.Fatalf("a sibling's attribute leaked: %s", out.String())
	}
	out.Reset()
	first.Info("first")
	got = map[string]any{}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got["a"] != float64(1) || got["b"] != float64(2) {
		t.Fatalf("inherited attributes lost: %s", out.String())
	}
}
