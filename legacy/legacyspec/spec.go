// Package legacyspec checks records against legacy_tables.md and its companion requisition_tables.md, the
// record of which legacy mSupply tables and fields open-mSupply reads, in which formats, and which it
// requires (read from open-mSupply's source). The checks are made from the documents themselves, so the
// two cannot drift apart: the conformance tests check with them every record this project sends on the
// wire.
package legacyspec

import (
	_ "embed"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
)

// The documents are copies of those in the interop notes, kept here so that go:embed can reach them.
var (
	//go:embed legacy_tables.md
	document string
	//go:embed requisition_tables.md
	requisitionDocument string
)

// Field is one legacy field as the document gives it.
type Field struct {
	Name     string
	Format   string // the document's words
	Required bool   // open-mSupply fails to read a record without the key
	check    func(v any) error
}

// Tables are the legacy tables of the documents, by name, each with its fields.
var Tables = parse(document, requisitionDocument)

var (
	headingRE = regexp.MustCompile("^## `([A-Za-z_]+)`")
	rowRE     = regexp.MustCompile("^\\| `([^`]+)` \\| (.*?) \\| (.*?) \\| (.*?) \\|$")
	quotedRE  = regexp.MustCompile(`"([^"]*)"`)
)

func parse(docs ...string) map[string]map[string]Field {
	tables := map[string]map[string]Field{}
	for _, doc := range docs {
		var current map[string]Field
		for _, line := range strings.Split(doc, "\n") {
			if m := headingRE.FindStringSubmatch(line); m != nil {
				current = map[string]Field{}
				tables[m[1]] = current
				continue
			}
			if strings.HasPrefix(line, "## ") {
				current = nil
			}
			m := rowRE.FindStringSubmatch(line)
			if m == nil || current == nil {
				continue
			}
			f := Field{Name: m[1], Format: m[2], Required: strings.HasPrefix(m[3], "yes")}
			f.check = checker(f.Format)
			current[f.Name] = f
		}
	}
	return tables
}

// checker makes the check of a value from the document's description of its format.
func checker(format string) func(any) error {
	nullable := strings.Contains(format, "null = none") || strings.Contains(format, "or null") ||
		strings.Contains(format, "null, \"\", {} = none")
	emptyOK := strings.Contains(format, `"" ok`) || strings.Contains(format, `"" or null = none`) || strings.Contains(format, `""/null = none`) ||
		strings.Contains(format, `"", "0000-00-00", null = none`) || strings.Contains(format, `null, "", {} = none`)
	var base func(any) error
	switch {
	case strings.HasPrefix(format, "string"):
		base = isString
	case strings.HasPrefix(format, "true/false"):
		base = isBool
	case strings.HasPrefix(format, "number"):
		base = isNumber
	case strings.HasPrefix(format, "integer seconds since midnight"):
		base = func(v any) error {
			if err := isInteger(v); err != nil {
				return err
			}
			if n := v.(float64); n < 0 || n >= 86400 {
				return fmt.Errorf("%v seconds is not a time of day", n)
			}
			return nil
		}
	case strings.HasPrefix(format, "integer"):
		base = isInteger
	case strings.HasPrefix(format, "datetime"):
		base = isZonelessDateTime
	case strings.HasPrefix(format, `date "YYYY-MM-DD" exactly`):
		return func(v any) error { return isDate(v, false) }
	case strings.HasPrefix(format, "date"):
		base = func(v any) error {
			if v == "0000-00-00" {
				return nil
			}
			return isDate(v, true)
		}
	case strings.HasPrefix(format, "enum"), strings.HasPrefix(format, `"`):
		values := map[string]bool{}
		head, _, _ := strings.Cut(format, ";")
		for _, q := range quotedRE.FindAllStringSubmatch(head, -1) {
			values[strings.TrimSuffix(q[1], "…")] = true
		}
		base = func(v any) error {
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("%v is not a string", v)
			}
			if values[s] {
				return nil
			}
			for value := range values {
				if strings.HasPrefix(s, value) && strings.HasSuffix(value, "TRANSGENDER") {
					return nil
				}
			}
			return fmt.Errorf("%q is none of %s", s, strings.Join(sortedKeys(values), ", "))
		}
	case strings.HasPrefix(format, "object"):
		base = func(v any) error {
			if _, ok := v.(map[string]any); !ok {
				return fmt.Errorf("%v is not an object", v)
			}
			return nil
		}
	default: // any JSON
		return func(any) error { return nil }
	}
	return func(v any) error {
		if v == nil {
			if nullable {
				return nil
			}
			return fmt.Errorf("null is not allowed")
		}
		if v == "" && emptyOK {
			return nil
		}
		return base(v)
	}
}

// Check returns what is wrong with rec as a record of the legacy table: required keys missing, and values
// not in their field's format. Keys the document does not list are not checked; open-mSupply ignores them.
func Check(table string, rec map[string]any) []string {
	fields, ok := Tables[table]
	if !ok {
		return []string{fmt.Sprintf("%s is not a legacy table", table)}
	}
	var problems []string
	for _, f := range fields {
		v, given := rec[f.Name]
		if !given {
			if f.Required {
				problems = append(problems, fmt.Sprintf("%s: required, missing", f.Name))
			}
			continue
		}
		if err := f.check(v); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v (format: %s)", f.Name, err, f.Format))
		}
	}
	sort.Strings(problems)
	return problems
}

func isString(v any) error {
	if _, ok := v.(string); !ok {
		return fmt.Errorf("%v is not a string", v)
	}
	return nil
}

func isBool(v any) error {
	if _, ok := v.(bool); !ok {
		return fmt.Errorf("%v is not true or false", v)
	}
	return nil
}

func isNumber(v any) error {
	if _, ok := v.(float64); !ok {
		return fmt.Errorf("%v is not a number", v)
	}
	return nil
}

func isInteger(v any) error {
	n, ok := v.(float64)
	if !ok || n != math.Trunc(n) {
		return fmt.Errorf("%v is not a whole number", v)
	}
	return nil
}

func isDate(v any, timeAllowed bool) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("%v is not a string", v)
	}
	if timeAllowed && len(s) == 19 && (s[10] == 'T' || s[10] == ' ') {
		s = s[:10]
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return fmt.Errorf("%q is not YYYY-MM-DD", v)
	}
	return nil
}

func isZonelessDateTime(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("%v is not a string", v)
	}
	if _, err := time.Parse("2006-01-02T15:04:05.999999999", s); err != nil {
		return fmt.Errorf("%q is not YYYY-MM-DDTHH:MM:SS[.f] without a zone", s)
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	var keys []string
	for k := range m {
		keys = append(keys, `"`+k+`"`)
	}
	sort.Strings(keys)
	return keys
}
