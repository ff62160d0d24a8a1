package commands

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/urfave/cli/v2"
)

// outputFormat returns the --output format, refusing anything but table and json.
func outputFormat(c *cli.Context) (string, error) {
	f := flagString(c, "output")
	if f == "" {
		f = "table" // MSUPPLY_OUTPUT set but empty
	}
	switch f {
	case "table", "json":
		return f, nil
	}
	return "", usageErrorf("unknown output format %q", f).withHint("use --output table or --output json")
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// terminalSafe shows the control characters of s (C0, DEL and C1, which start every terminal escape
// sequence) and any byte that is not UTF-8 as visible escapes such as \x1b, and leaves all other text as
// it is. Text that came from a remote site or a file (a pushed invoice's their_ref, a store name) is
// printed through it, so that it can never clear the screen, retitle the terminal or hide a line.
func terminalSafe(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsControl(r):
			q := fmt.Sprintf("%+q", r) // '\x1b', '\n', '\u009b'
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// writeTable renders rows under header, with an optional footer line. Every cell is shown terminalSafe.
func writeTable(w io.Writer, header []string, rows [][]string, footer string) error {
	return writePaintedTable(w, header, rows, footer, nil)
}

// writePaintedTable is writeTable with colours: paint gives the SGR colour code ("31" for red) of the cell
// at row r, column c, or "". The colour is added after the cell's text is made terminalSafe, so that only
// this program's own sequences reach the terminal.
func writePaintedTable(w io.Writer, header []string, rows [][]string, footer string, paint func(r, c int) string) error {
	t := tablewriter.NewWriter(w)
	h := make([]any, len(header))
	for i, s := range header {
		h[i] = terminalSafe(s)
	}
	t.Header(h...)
	for i, r := range rows {
		cells := make([]string, len(r))
		for j, s := range r {
			cells[j] = terminalSafe(s)
			if paint == nil {
				continue
			}
			if code := paint(i, j); code != "" {
				cells[j] = "\033[" + code + "m" + cells[j] + "\033[0m"
			}
		}
		if err := t.Append(cells); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	if footer != "" {
		_, err := io.WriteString(w, terminalSafe(footer)+"\n")
		return err
	}
	return nil
}

// yesNo is how every table shows a state such as blocked, so that one word means it everywhere.
func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// writeStreamedTable renders the rows that each yields as writeTable would, holding one row at a time:
// each is called twice, once to measure the columns and once to print the rows, and must yield the same
// rows both times. footer is asked for its line once the rows are printed.
func writeStreamedTable(w io.Writer, header []string, each func(row func([]string) error) error, footer func() string) error {
	widths := make([]int, len(header))
	for i, h := range header {
		widths[i] = twwidth.Width(terminalSafe(h))
	}
	if err := each(func(cells []string) error {
		for i, c := range cells {
			widths[i] = max(widths[i], twwidth.Width(terminalSafe(c)))
		}
		return nil
	}); err != nil {
		return err
	}
	perColumn := tw.NewMapper[int, int]()
	for i, width := range widths {
		perColumn.Set(i, width+2) // a space of padding either side, as writeTable has
	}
	t := tablewriter.NewTable(w, tablewriter.WithStreaming(tw.StreamConfig{Enable: true}), tablewriter.WithWidths(tw.CellWidth{PerColumn: perColumn}))
	if err := t.Start(); err != nil {
		return err
	}
	h := make([]any, len(header))
	for i, s := range header {
		h[i] = terminalSafe(s)
	}
	t.Header(h...)
	err := each(func(cells []string) error {
		safe := make([]string, len(cells))
		for i, c := range cells {
			safe[i] = terminalSafe(c)
		}
		return t.Append(safe)
	})
	if cerr := t.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if line := footer(); line != "" {
		_, err = io.WriteString(w, terminalSafe(line)+"\n")
	}
	return err
}

// jsonArrayWriter writes a JSON array one element at a time, laid out exactly as writeJSON lays out a
// slice, so that a listing of any size is written without holding it.
type jsonArrayWriter struct {
	w *bufio.Writer
	n int
}

func (a *jsonArrayWriter) add(v any) error {
	b, err := json.MarshalIndent(v, "  ", "  ")
	if err != nil {
		return err
	}
	sep := ",\n  "
	if a.n == 0 {
		sep = "[\n  "
	}
	a.n++
	if _, err := io.WriteString(a.w, sep); err != nil {
		return err
	}
	_, err = a.w.Write(b)
	return err
}

func (a *jsonArrayWriter) close() error {
	end := "\n]\n"
	if a.n == 0 {
		end = "[]\n"
	}
	if _, err := io.WriteString(a.w, end); err != nil {
		return err
	}
	return a.w.Flush()
}
