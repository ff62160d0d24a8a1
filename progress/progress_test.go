package progress

import (
	"strings"
	"testing"
)

func TestLinesAreThrottledButTheEndIsAlwaysShown(t *testing.T) {
	var out strings.Builder
	r := New(&out, false)
	for i := int64(1); i <= 1000; i++ {
		r.Update("pulled", i, 1000)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want the first and the last:\n%s", len(lines), out.String())
	}
	if !strings.HasPrefix(lines[0], "pulled 1/1000 records") || !strings.HasPrefix(lines[1], "pulled 1000/1000 records") {
		t.Fatalf("lines = %q", lines)
	}
}

func TestBarOnATerminal(t *testing.T) {
	var out strings.Builder
	r := New(&out, true)
	r.Update("pulled", 5, 10)
	r.Finish()
	s := out.String()
	if !strings.Contains(s, "\r") || !strings.Contains(s, "[===============               ] 5/10") || !strings.HasSuffix(s, "\n") {
		t.Fatalf("bar = %q", s)
	}
}

func TestUnknownTotal(t *testing.T) {
	var out strings.Builder
	New(&out, false).Update("integrated", 7, 0)
	if !strings.HasPrefix(out.String(), "integrated 7 records") {
		t.Fatalf("got %q", out.String())
	}
}

func TestDoneNeverShowsAboveTotal(t *testing.T) {
	for _, terminal := range []bool{false, true} {
		var out strings.Builder
		New(&out, terminal).Update("pushed", 16040, 8000)
		if strings.Contains(out.String(), "16040/8000") || !strings.Contains(out.String(), "16040/16040") {
			t.Errorf("terminal %v: got %q, want the count as its own total", terminal, out.String())
		}
	}
}
