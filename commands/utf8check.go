package commands

import (
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// utf8Check passes a reader's bytes through unchanged and notes the offset of the first byte that is not
// valid UTF-8. encoding/json turns such bytes into U+FFFD without a word, so Latin-1 text from a
// spreadsheet would be stored mangled; 'record put' refuses it instead, naming where it is.
type utf8Check struct {
	r      io.Reader
	offset int64  // of the next byte read
	cut    []byte // the start of a character that the end of the last read cut off
	bad    int64  // the offset of the first invalid byte, or -1
}

func newUTF8Check(r io.Reader) *utf8Check { return &utf8Check{r: r, bad: -1} }

func (c *utf8Check) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.bad < 0 {
		c.check(p[:n], errors.Is(err, io.EOF))
	}
	c.offset += int64(n)
	return n, err
}

// check validates b, which starts at c.offset, after whatever c.cut holds.
func (c *utf8Check) check(b []byte, eof bool) {
	start := c.offset - int64(len(c.cut))
	buf := b
	if len(c.cut) > 0 {
		buf = append(append([]byte(nil), c.cut...), b...)
	}
	// A character may straddle two reads: hold back an incomplete one at the end until the next.
	whole := len(buf)
	for i := len(buf) - 1; i >= 0 && i >= len(buf)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(buf[i]) {
			if !utf8.FullRune(buf[i:]) {
				whole = i
			}
			break
		}
	}
	if !utf8.Valid(buf[:whole]) {
		for i := 0; i < whole; {
			r, size := utf8.DecodeRune(buf[i:whole])
			if r == utf8.RuneError && size == 1 {
				c.bad = start + int64(i)
				return
			}
			i += size
		}
	}
	c.cut = append(c.cut[:0:0], buf[whole:]...)
	if eof && len(c.cut) > 0 {
		c.bad = start + int64(whole)
	}
}

// badBefore reports whether an invalid byte was found before offset end.
func (c *utf8Check) badBefore(end int64) bool { return c.bad >= 0 && c.bad < end }

func (c *utf8Check) err() error {
	return &datafile.Error{Code: datafile.EINVALID,
		Message: fmt.Sprintf("invalid UTF-8 at byte offset %d of the input", c.bad),
		Hint:    "text must be UTF-8; a spreadsheet may have saved it as Latin-1: convert it (e.g. 'iconv -f LATIN1 -t UTF-8 in.jsonl > out.jsonl') and run the command again"}
}
