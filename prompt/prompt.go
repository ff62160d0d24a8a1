// Package prompt asks a person questions at a terminal: secrets without echo, answers with defaults.
// It reads the controlling terminal when there is one, so that answers never mix with piped data.
package prompt

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// ErrNoTerminal means there is nobody to ask.
var ErrNoTerminal = errors.New("no terminal to ask on")

// ErrNoMoreAnswers means piped answers ended before the questions did.
var ErrNoMoreAnswers = errors.New("the answers ran out")

// Prompter asks questions. Tests supply their own.
type Prompter interface {
	// Interactive reports whether questions can be asked at all.
	Interactive() bool
	// Secret asks for a value without echoing it.
	Secret(question string) (string, error)
	// Line asks for a line of text.
	Line(question string) (string, error)
}

// Terminal is the Prompter of a real terminal: /dev/tty when it can be opened, else standard input when
// that is a terminal.
type Terminal struct {
	Stdin *os.File

	tty    *os.File
	reader *bufio.Reader
}

func (t *Terminal) open() *os.File {
	if t.tty != nil {
		return t.tty
	}
	if f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err == nil {
		t.tty = f
	} else if t.Stdin != nil && term.IsTerminal(int(t.Stdin.Fd())) {
		t.tty = t.Stdin
	}
	if t.tty != nil {
		t.reader = bufio.NewReader(t.tty)
	}
	return t.tty
}

// Interactive reports whether there is a terminal to ask on.
func (t *Terminal) Interactive() bool { return t.open() != nil }

// Secret reads a line without echo.
func (t *Terminal) Secret(question string) (string, error) {
	f := t.open()
	if f == nil {
		return "", ErrNoTerminal
	}
	fmt.Fprint(f, question)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(f)
	if err != nil {
		return "", fmt.Errorf("read from terminal: %w", err)
	}
	return string(b), nil
}

// Line reads one line of text.
func (t *Terminal) Line(question string) (string, error) {
	f := t.open()
	if f == nil {
		return "", ErrNoTerminal
	}
	fmt.Fprint(f, question)
	line, err := t.reader.ReadString('\n')
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// ReadSecretLine reads a secret from the first line of r, as --password-stdin does.
func ReadSecretLine(r io.Reader) (string, error) {
	br := bufio.NewReader(io.LimitReader(r, 64*1024))
	line, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("standard input held no secret")
	}
	return line, nil
}

// Lines is a Prompter over plain input, such as answers piped in by a script: it reads one answer a line
// and writes the questions to Out.
type Lines struct {
	In  io.Reader
	Out io.Writer

	reader *bufio.Reader
}

// Interactive is true: every question gets the next line.
func (l *Lines) Interactive() bool { return true }

// Secret reads the next line; nothing is echoed, since the input is not a terminal.
func (l *Lines) Secret(question string) (string, error) { return l.Line(question) }

// Line reads the next line.
func (l *Lines) Line(question string) (string, error) {
	if l.reader == nil {
		l.reader = bufio.NewReader(l.In)
	}
	fmt.Fprint(l.Out, question)
	line, err := l.reader.ReadString('\n')
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		if errors.Is(err, io.EOF) {
			fmt.Fprintln(l.Out)
			return "", fmt.Errorf("%w before the question %q", ErrNoMoreAnswers, strings.TrimSpace(question))
		}
		return "", err
	}
	fmt.Fprintln(l.Out)
	return strings.TrimRight(line, "\r\n"), nil
}
