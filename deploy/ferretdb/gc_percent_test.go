package main

import (
	"runtime/debug"
	"testing"
)

func gcPercentAfter(t *testing.T, env map[string]string) int {
	t.Helper()
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })
	applyDefaultGCPercent(func(key string) string { return env[key] })
	return debug.SetGCPercent(100)
}

func TestGCPercentDefault(t *testing.T) {
	if got := gcPercentAfter(t, map[string]string{}); got != defaultGCPercent {
		t.Fatalf("GC percent is %d, want %d", got, defaultGCPercent)
	}
}

func TestGOGCFromTheEnvironmentIsLeftAlone(t *testing.T) {
	// The runtime read GOGC at start; here the environment only has to say it is set.
	if got := gcPercentAfter(t, map[string]string{"GOGC": "100"}); got != 100 {
		t.Fatalf("GC percent is %d, want the runtime's 100 untouched", got)
	}
}
