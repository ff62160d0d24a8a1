package commands

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/urfave/cli/v2"

	"github.com/msupply-foundation/msupply-sync/datafile"
	"github.com/msupply-foundation/msupply-sync/plural"
)

func (env *Env) recordCommand() *cli.Command {
	tables := strings.Join(datafile.TableNames(), ", ")
	return &cli.Command{
		Name:  "record",
		Usage: "read and write synced records",
		Description: `TABLE is one of ` + tables + `.
Master data (item, name, master_list, master_list_line) is written only on the central server;
store data (invoice, invoice_line, stock_line) only on the site its store is active on.`,
		Subcommands: []*cli.Command{
			{
				Name:      "put",
				Usage:     "create or update records",
				UsageText: "msupply-sync record put TABLE [JSON | -]",
				ArgsUsage: "TABLE [JSON | -]",
				Description: `Takes one JSON object, an array of objects, or (from standard input, with - or no argument)
JSON lines, in UTF-8 (a byte-order mark at the start is skipped). A record without an id gets a
new UUID; fields left out of an update keep their values. Every record is checked (known fields,
types, referenced ids, text that is not UTF-8) and the whole input is written or none of it.
Prints the id of each record written, one a line.

Examples:
  msupply-sync record put item '{"code":"AMX500","name":"Amoxicillin 500mg","unit":"tab"}'
  msupply-sync record put invoice_line - < lines.jsonl`,
				Action: env.runRecordPut,
			},
			{
				Name:      "get",
				Usage:     "print one record",
				UsageText: "msupply-sync record get TABLE ID [--output json|table]",
				ArgsUsage: "TABLE ID",
				Description: `Prints the record as JSON, every field in the table's order, or with --output table as a
field and value table. Exits 1 when there is no such record.

Examples:
  msupply-sync record get item 6f1c...
  msupply-sync record get invoice inv1 --output table`,
				// JSON by default, unlike the listings: scripts have read one object from it since it
				// was first written.
				Flags:  []cli.Flag{outputFlagDefault("json")},
				Action: env.runRecordGet,
			},
			{
				Name:      "list",
				Usage:     "list the records of a table",
				UsageText: "msupply-sync record list TABLE [--where FIELD=VALUE]... [--limit N] [--after ID] [--output table|json]",
				ArgsUsage: "TABLE",
				Description: `Records are listed in id order, and printed as they are read, however many there are.
--where may be repeated; all conditions must hold. An empty VALUE matches a null date or
reference. --limit N prints at most N records and --after ID only those whose id sorts after ID:
page through a large table by passing the last id printed to the next --after.

Examples:
  msupply-sync record list invoice --where status=finalised --output json
  msupply-sync record list item --limit 1000 --after "$LAST_ID" --output json`,
				Flags: []cli.Flag{
					&cli.StringSliceFlag{Name: "where", Usage: "FIELD=VALUE condition"},
					unsetIntFlag{&cli.IntFlag{Name: "limit", Usage: "print at most N records"}},
					&cli.StringFlag{Name: "after", Usage: "only records whose id sorts after this one"},
					outputFlag(),
				},
				Action: env.runRecordList,
			},
			{
				Name:      "delete",
				Usage:     "delete one record",
				UsageText: "msupply-sync record delete TABLE ID [--force]",
				ArgsUsage: "TABLE ID",
				Description: `Refused while other records refer to it. On a central server with remote sites, an item or a
name is made inactive rather than deleted, the mSupply way: a remote may hold records that use it
and has not sent them yet. --force deletes it anyway; what remotes then send that uses it is parked
on the central server ('msupply-sync sync parked') until it is restored with 'record put' and its id.

Examples:
  msupply-sync record delete stock_line 0d9e...
  msupply-sync record put item '{"id":"item-amx","is_active":false}'`,
				Flags:  []cli.Flag{&cli.BoolFlag{Name: "force", Usage: "delete an item or name that remote sites may use"}},
				Action: env.runRecordDelete,
			},
			{
				Name:      "checksum",
				Usage:     "count and digest every synced table",
				UsageText: "msupply-sync record checksum [--store STORE] [--output table|json]",
				Description: `Two datafiles that hold the same records print the same checksums, whatever their local
bookkeeping, so comparing central's and a remote's output shows whether sync has caught up.
--store limits it to that store's store data.

Example:
  msupply-sync record checksum --store N1 --output json`,
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "store", Usage: "only this store's store data"},
					outputFlag(),
				},
				Action: env.runRecordChecksum,
			},
		},
	}
}

// tableArg checks the TABLE argument, which is a usage matter: an unknown table is a typo on the line.
func tableArg(c *cli.Context) (*datafile.Table, error) {
	t, err := datafile.LookupTable(c.Args().First())
	if err != nil {
		var de *datafile.Error
		errors.As(err, &de)
		return nil, usageErrorf("%s", de.Message).withHint("%s", de.Hint)
	}
	return t, nil
}

func (env *Env) runRecordPut(c *cli.Context) error {
	if c.NArg() < 1 || c.NArg() > 2 {
		return usageErrorf("record put takes TABLE and then JSON, - or nothing (standard input)").withHint("usage: %s", c.Command.UsageText)
	}
	t, err := tableArg(c)
	if err != nil {
		return err
	}
	var in io.Reader = env.Stdin
	var size int64 // of the input, when it is a file: what lets progress say how much is left
	if arg := c.Args().Get(1); arg != "" && arg != "-" {
		in = strings.NewReader(arg)
	} else if f, ok := env.Stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
	}
	db, err := openDatafile(c)
	if err != nil {
		return err
	}
	defer db.Close()
	counted := &countingReader{r: in}
	next, stopReading := readAhead(jsonRecords(counted), 4)
	defer stopReading()
	bar, _ := env.newProgress()
	done := int64(0)
	source := func() (map[string]any, error) {
		raw, err := next()
		if err == nil {
			done++
			if done%1000 == 0 {
				// "importing": nothing is written until the whole input is, and a refused record
				// undoes it all.
				bar.Update("importing", done, estimateTotal(done, counted.n.Load(), size))
			}
		}
		return raw, err
	}
	// The ids are printed only once the import has committed: until then a refused record may still undo
	// it all.
	ids := newIDSpill(filepath.Dir(db.Path()))
	defer ids.close()
	_, err = db.PutRecordsEach(c.Context, t.Name, source, ids.add)
	if done >= 1000 {
		if err == nil {
			bar.Update("imported", done, done)
		}
		bar.Finish()
	}
	if errors.Is(err, context.Canceled) {
		return failf("import interrupted; nothing was written").withHint("run the command again to import the records")
	}
	if err != nil {
		return err
	}
	return ids.writeTo(env.Stdout)
}

// countingReader counts the bytes read through it; the count may be read while another goroutine reads.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// readChunk is how many records readAhead hands over at a time: one hand-over per record would cost more
// than the parsing it moves to the other core.
const readChunk = 256

type sourcedChunk struct {
	raws   []map[string]any
	err    error          // after raws
	errRaw map[string]any // the record err is about, if src returned one with it
}

// readAhead runs src on its own goroutine, up to n chunks ahead of the returned source, so that parsing
// the input takes the other core while the records are written. The returned source yields what src
// yields, in order, ending with its first error (io.EOF included) and the record src returned with it;
// stop ends the reading early. stop does not wait for a read in progress: input from a pipe may never
// end, and the command must still finish.
func readAhead(src datafile.RecordSource, n int) (next datafile.RecordSource, stop func()) {
	out := make(chan sourcedChunk, n)
	quit := make(chan struct{})
	go func() {
		defer close(out)
		for {
			chunk := sourcedChunk{raws: make([]map[string]any, 0, readChunk)}
			for len(chunk.raws) < readChunk && chunk.err == nil {
				raw, err := src()
				if err != nil {
					chunk.err, chunk.errRaw = err, raw
				} else {
					chunk.raws = append(chunk.raws, raw)
				}
			}
			select {
			case out <- chunk:
			case <-quit:
				return
			}
			if chunk.err != nil {
				return
			}
		}
	}()
	var current sourcedChunk
	var last error
	next = func() (map[string]any, error) {
		for len(current.raws) == 0 {
			if last != nil {
				return nil, last
			}
			if current.err != nil {
				last = current.err
				return current.errRaw, last
			}
			got, ok := <-out
			if !ok {
				last = io.EOF
				return nil, last
			}
			current = got
		}
		raw := current.raws[0]
		current.raws = current.raws[1:]
		return raw, nil
	}
	var once sync.Once
	return next, func() { once.Do(func() { close(quit) }) }
}

// estimateTotal guesses how many records an input file holds from how many its first bytes held; 0 means
// unknown. The reader reads ahead, so the guess errs low until the end.
func estimateTotal(done, bytesRead, size int64) int64 {
	if size <= 0 || bytesRead <= 0 {
		return 0
	}
	return max(done, done*size/bytesRead)
}

// jsonRecords reads one object, an array of objects, or a stream of objects (JSON lines) from r, which must
// be UTF-8 and may start with a byte-order mark. A record holding bytes that are not UTF-8 is refused and
// returned with the error, so that the error can name it.
func jsonRecords(r io.Reader) datafile.RecordSource {
	check := newUTF8Check(r)
	br := bufio.NewReaderSize(check, 256*1024)
	dec := json.NewDecoder(br)
	dec.UseNumber()
	started, inArray, done := false, false, false
	var skipped int64 // bytes read before the decoder's first, whose offsets it counts from
	return func() (map[string]any, error) {
		if done {
			return nil, io.EOF
		}
		if !started {
			started = true
			// Editors on Windows and spreadsheets start UTF-8 files with a byte-order mark; it says
			// nothing about the records.
			if b, _ := br.Peek(len(utf8BOM)); string(b) == utf8BOM {
				br.Discard(len(utf8BOM))
				skipped += int64(len(utf8BOM))
			}
			if b, _ := br.Peek(2); string(b) == "\xff\xfe" || string(b) == "\xfe\xff" {
				done = true
				return nil, errors.New("the input is UTF-16; records must be UTF-8 (convert it, e.g. with 'iconv -f UTF-16 -t UTF-8')")
			}
			for {
				b, err := br.Peek(1)
				if err != nil {
					done = true
					if errors.Is(err, io.EOF) {
						return nil, io.EOF
					}
					return nil, err
				}
				if b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n' {
					br.ReadByte()
					skipped++
					continue
				}
				if b[0] == '[' {
					inArray = true
					if _, err := dec.Token(); err != nil {
						return nil, fmt.Errorf("invalid JSON: %v", err)
					}
				}
				break
			}
		}
		if inArray && !dec.More() {
			done = true
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("invalid JSON: %v", err)
			}
			if _, err := dec.Token(); !errors.Is(err, io.EOF) {
				return nil, errors.New("invalid JSON: unexpected data after the array")
			}
			return nil, io.EOF
		}
		// Decoded straight into a map: a bulk import spends much of its time parsing JSON, so it is done
		// once per record.
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			done = true
			if errors.Is(err, io.EOF) && !inArray {
				return nil, io.EOF
			}
			var typeErr *json.UnmarshalTypeError
			if errors.As(err, &typeErr) && typeErr.Field == "" {
				return nil, fmt.Errorf("invalid JSON: a record must be an object such as {\"id\": \"...\"}, not a %s", typeErr.Value)
			}
			return nil, fmt.Errorf("invalid JSON: %v", err)
		}
		if m == nil {
			done = true
			return nil, errors.New("invalid JSON: a record must be an object such as {\"id\": \"...\"}, not null")
		}
		// Every byte before the end of this record has been through the check; one found before the end of
		// the record before it would have stopped that one.
		if check.badBefore(skipped + dec.InputOffset()) {
			done = true
			return m, check.err()
		}
		return m, nil
	}
}

const utf8BOM = "\xef\xbb\xbf"

// openForRecord checks a record command's arguments (TABLE first), reads --output and opens the datafile,
// in that order, so that a typo is reported before the datafile is touched.
func openForRecord(c *cli.Context) (db *datafile.DB, t *datafile.Table, format string, err error) {
	if err = requireArgs(c, "TABLE", "ID"); err != nil {
		return nil, nil, "", err
	}
	if t, err = tableArg(c); err != nil {
		return nil, nil, "", err
	}
	if format, err = outputFormat(c); err != nil {
		return nil, nil, "", err
	}
	if db, err = openDatafile(c); err != nil {
		return nil, nil, "", err
	}
	return db, t, format, nil
}

func (env *Env) runRecordGet(c *cli.Context) error {
	db, t, format, err := openForRecord(c)
	if err != nil {
		return err
	}
	defer db.Close()
	rec, err := db.GetRecord(c.Context, t.Name, c.Args().Get(1))
	if err != nil {
		return err
	}
	if format == "json" {
		return writeJSON(env.Stdout, rec)
	}
	cols := t.Columns()
	rows := make([][]string, len(cols))
	for i, col := range cols {
		rows[i] = []string{col, datafile.FormatValue(rec.Values[col])}
	}
	return writeTable(env.Stdout, []string{"field", "value"}, rows, "")
}

func (env *Env) runRecordList(c *cli.Context) error {
	if err := requireArgs(c, "TABLE"); err != nil {
		return err
	}
	t, err := tableArg(c)
	if err != nil {
		return err
	}
	format, err := outputFormat(c)
	if err != nil {
		return err
	}
	var where []datafile.Condition
	for _, w := range c.StringSlice("where") {
		field, value, ok := strings.Cut(w, "=")
		if !ok || field == "" {
			return usageErrorf("--where %q is not FIELD=VALUE", w)
		}
		where = append(where, datafile.Condition{Field: field, Value: value})
	}
	opts := datafile.ListOptions{After: c.String("after"), Limit: c.Int("limit")}
	if c.IsSet("limit") && opts.Limit < 1 {
		return usageErrorf("--limit must be 1 or more, not %d", opts.Limit)
	}
	db, err := openDatafile(c)
	if err != nil {
		return err
	}
	defer db.Close()
	err = db.Snapshot(c.Context, func(db *datafile.DB) error {
		if format == "json" {
			out := &jsonArrayWriter{w: bufio.NewWriter(env.Stdout)}
			if err := db.EachRecord(c.Context, t.Name, where, opts, func(r datafile.Record) error { return out.add(r) }); err != nil {
				return err
			}
			return out.close()
		}
		return env.recordTable(c.Context, db, t, where, opts)
	})
	if datafile.ErrorCode(err) == datafile.EINVALID {
		return asUsage(err) // a --where that names no field or holds the wrong kind of value
	}
	return err
}

// recordTable prints a listing as a table, reading it twice from the snapshot db holds (to measure, then
// to print) rather than holding it: 300,000 rows once took 361 MB.
func (env *Env) recordTable(ctx context.Context, db *datafile.DB, t *datafile.Table, where []datafile.Condition, opts datafile.ListOptions) error {
	cols := t.Columns()
	var n int
	var last string
	each := func(row func([]string) error) error {
		n = 0
		return db.EachRecord(ctx, t.Name, where, opts, func(r datafile.Record) error {
			cells := make([]string, len(cols))
			for i, col := range cols {
				cells[i] = datafile.FormatValue(r.Values[col])
			}
			n++
			last = r.ID()
			return row(cells)
		})
	}
	footer := func() string {
		line := plural.Count(n, t.Name+" record", t.Name+" records")
		if opts.Limit > 0 && n == opts.Limit {
			more := false
			next := datafile.ListOptions{After: last, Limit: 1}
			if err := db.EachRecord(ctx, t.Name, where, next, func(datafile.Record) error { more = true; return nil }); err == nil && more {
				line += fmt.Sprintf("; more after them: --after %s", last)
			}
		}
		return line
	}
	w := bufio.NewWriter(env.Stdout)
	if err := writeStreamedTable(w, cols, each, footer); err != nil {
		return err
	}
	return w.Flush()
}

func (env *Env) runRecordDelete(c *cli.Context) error {
	db, t, _, err := openForRecord(c)
	if err != nil {
		return err
	}
	defer db.Close()
	remove := db.DeleteRecord
	if c.Bool("force") {
		remove = db.ForceDeleteRecord
	}
	if err := remove(c.Context, t.Name, c.Args().Get(1)); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "deleted %s %s\n", t.Name, c.Args().Get(1))
	return nil
}

func (env *Env) runRecordChecksum(c *cli.Context) error {
	db, format, _, err := openFor(c)
	if err != nil {
		return err
	}
	defer db.Close()
	storeID := ""
	if ref := c.String("store"); ref != "" {
		st, err := db.FindStore(c.Context, ref)
		if err != nil {
			return err
		}
		storeID = st.ID
	}
	sums, err := db.Checksum(c.Context, storeID)
	if err != nil {
		return err
	}
	if format == "json" {
		// Indented like every JSON output; encoding/json sorts the keys, so two datafiles can still be
		// compared with a plain diff.
		return writeJSON(env.Stdout, sums)
	}
	var rows [][]string
	for _, t := range datafile.Tables() {
		if s, ok := sums[t.Name]; ok {
			rows = append(rows, []string{t.Name, strconv.Itoa(s.Count), s.Digest})
		}
	}
	return writeTable(env.Stdout, []string{"table", "count", "digest"}, rows, "")
}
