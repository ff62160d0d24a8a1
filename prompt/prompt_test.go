package prompt

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestReadSecretLine(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		fails          bool
	}{
		{"first line only", "s3cret-pass\nsecond line\n", "s3cret-pass", false},
		{"windows line end", "s3cret-pass\r\n", "s3cret-pass", false},
		{"no line end", "s3cret-pass", "s3cret-pass", false},
		{"spaces are kept", "  two words  \n", "  two words  ", false},
		{"empty input", "", "", true},
		{"empty first line", "\nlater\n", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadSecretLine(strings.NewReader(tc.in))
			if (err != nil) != tc.fails || got != tc.want {
				t.Fatalf("ReadSecretLine(%q) = %q, %v", tc.in, got, err)
			}
		})
	}
}

func TestReadSecretLineReadsAtMost64KiB(t *testing.T) {
	got, err := ReadSecretLine(strings.NewReader(strings.Repeat("x", 200*1024) + "\n"))
	if err != nil || len(got) != 64*1024 {
		t.Fatalf("read %d bytes, %v; want the first 64 KiB", len(got), err)
	}
}

func TestLinesAnswersEachQuestionWithTheNextLine(t *testing.T) {
	var out bytes.Buffer
	p := &Lines{In: strings.NewReader("central\r\nNorth\nsecret-pass\n"), Out: &out}
	if !p.Interactive() {
		t.Fatal("Lines is not interactive")
	}
	role, err := p.Line("Role? ")
	if err != nil || role != "central" {
		t.Fatalf("first answer %q, %v", role, err)
	}
	name, _ := p.Line("Site name? ")
	pass, err := p.Secret("Password: ")
	if name != "North" || pass != "secret-pass" || err != nil {
		t.Fatalf("answers %q %q, %v", name, pass, err)
	}
	if got, want := out.String(), "Role? \nSite name? \nPassword: \n"; got != want {
		t.Errorf("questions written as %q, want %q", got, want)
	}
	if _, err := p.Line("More? "); err == nil {
		t.Fatal("a question past the last answer got one")
	}
}

func TestLinesLastAnswerWithoutLineEnd(t *testing.T) {
	p := &Lines{In: strings.NewReader("only"), Out: &bytes.Buffer{}}
	if got, err := p.Line("Q? "); err != nil || got != "only" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestTerminalWithoutATerminalSaysSo(t *testing.T) {
	p := &Terminal{}
	if p.Interactive() {
		t.Skip("this process has a controlling terminal")
	}
	if _, err := p.Line("Q? "); !errors.Is(err, ErrNoTerminal) {
		t.Fatalf("Line without a terminal: %v", err)
	}
	if _, err := p.Secret("Q? "); !errors.Is(err, ErrNoTerminal) {
		t.Fatalf("Secret without a terminal: %v", err)
	}
}
