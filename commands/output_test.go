package commands

import (
	"bytes"
	"strings"
	"testing"
)

func TestTerminalSafe(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "North Hospital", "North Hospital"},
		{"accents and scripts", "Hôpital Nord – 北 – مستشفى", "Hôpital Nord – 北 – مستشفى"},
		{"replacement character kept", "a\uFFFDb", "a\uFFFDb"},
		{"backslash kept", `C:\stock`, `C:\stock`},
		{"clear screen", "INV-1\x1b[2J\x1b[H", `INV-1\x1b[2J\x1b[H`},
		{"retitle terminal", "\x1b]0;pwned\x07", `\x1b]0;pwned\a`},
		{"newline and tab", "a\nb\tc\r", `a\nb\tc\r`},
		{"nul and del", "a\x00b\x7f", `a\x00b\x7f`},
		{"C1 control sequence introducer", "a\u009b2J", `a\u009b2J`},
		{"byte that is not UTF-8", "a\x9b2J", `a\x9b2J`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := terminalSafe(tt.in)
			if got != tt.want {
				t.Fatalf("terminalSafe(%q) = %q, want %q", tt.in, got, tt.want)
			}
			for _, b := range []byte(got) {
				if b < 0x20 || b == 0x7f {
					t.Fatalf("terminalSafe(%q) = %q still holds control byte %#x", tt.in, got, b)
				}
			}
		})
	}
}

func TestWriteTableEscapesEveryCell(t *testing.T) {
	var out bytes.Buffer
	rows := [][]string{{"inv-1", "\x1b]0;pwned\x07"}, {"inv-2", "ok"}}
	if err := writeTable(&out, []string{"id", "their\x1b[2Jref"}, rows, "2 records\x1b[2J"); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(out.String(), "\x1b\x07") {
		t.Fatalf("table holds a raw escape:\n%q", out.String())
	}
	for _, want := range []string{`\x1b]0;pwned\a`, `2 records\x1b[2J`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %s:\n%s", want, out.String())
		}
	}
}

func TestWritePaintedTableColoursOnlyItsOwnCells(t *testing.T) {
	var out bytes.Buffer
	rows := [][]string{{"North", "3d ago"}, {"\x1b[31mSouth", "1h ago"}}
	paint := func(r, c int) string {
		if r == 0 && c == 1 {
			return "31"
		}
		return ""
	}
	if err := writePaintedTable(&out, []string{"site", "last sync"}, rows, "", paint); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out.String(), "\x1b"); got != 2 {
		t.Fatalf("%d escape sequences, want the 2 of the painted cell:\n%q", got, out.String())
	}
	if !strings.Contains(out.String(), "\x1b[31m3d ago\x1b[0m") || !strings.Contains(out.String(), `\x1b[31mSouth`) {
		t.Fatalf("painted table:\n%q", out.String())
	}
}

func TestReportErrorEscapesWhatItEchoes(t *testing.T) {
	var stderr bytes.Buffer
	env := &Env{Stderr: &stderr}
	err := failf("store %s is already on site %q", "N1\x1b]0;pwned\x07", "North").withHint("see \x1b[2J%s", "here")
	if code := env.reportError(err); code != exitFailure {
		t.Fatalf("exit status %d", code)
	}
	want := "msupply-sync: error: store N1\\x1b]0;pwned\\a is already on site \"North\"\nhint: see \\x1b[2Jhere\n"
	if stderr.String() != want {
		t.Fatalf("stderr:\n%q\nwant:\n%q", stderr.String(), want)
	}
}
