package commands

import (
	"encoding/json"
	"io"

	"github.com/olekukonko/tablewriter"
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

// writeTable renders rows under header, with an optional footer line.
func writeTable(w io.Writer, header []string, rows [][]string, footer string) error {
	t := tablewriter.NewWriter(w)
	h := make([]any, len(header))
	for i, s := range header {
		h[i] = s
	}
	t.Header(h...)
	for _, r := range rows {
		if err := t.Append(r); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	if footer != "" {
		_, err := io.WriteString(w, footer+"\n")
		return err
	}
	return nil
}
