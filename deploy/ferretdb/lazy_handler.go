package main

import (
	"context"
	"log/slog"
)

// lazyHandler is a slog.Handler that formats the attributes and groups given to WithAttrs and
// WithGroup only when a record is actually written.
//
// FerretDB 1.24 builds a child logger for every SQL statement it runs, with the statement's
// arguments (a whole document when inserting or replacing), and then logs at debug level:
// `l.With(slog.Any("args", args)).DebugContext(...)`. slog's JSON handler encodes those attributes
// in WithAttrs, before it knows whether anything is logged, so with debug logging off FerretDB
// still JSON-encoded every document it wrote: about a tenth of its CPU when inserting (see
// docs/read-model.md). With this handler a child logger only remembers its attributes.
type lazyHandler struct {
	inner slog.Handler
	// steps are the WithAttrs and WithGroup calls since inner, oldest first.
	steps []step
}

// step is one WithAttrs (attrs set) or WithGroup (group set) call.
type step struct {
	attrs []slog.Attr
	group string
}

func newLazyHandler(inner slog.Handler) *lazyHandler {
	return &lazyHandler{inner: inner}
}

func (h *lazyHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

func (h *lazyHandler) Handle(ctx context.Context, record slog.Record) error {
	return h.resolve().Handle(ctx, record)
}

func (h *lazyHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return h.with(step{attrs: attrs})
}

func (h *lazyHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(step{group: name})
}

func (h *lazyHandler) with(s step) *lazyHandler {
	steps := make([]step, len(h.steps), len(h.steps)+1)
	copy(steps, h.steps)
	return &lazyHandler{inner: h.inner, steps: append(steps, s)}
}

// resolve applies the remembered calls to the inner handler, in order.
func (h *lazyHandler) resolve() slog.Handler {
	handler := h.inner
	for _, s := range h.steps {
		if s.group != "" {
			handler = handler.WithGroup(s.group)
		} else {
			handler = handler.WithAttrs(s.attrs)
		}
	}
	return handler
}
