// Package legacy translates records between this project's model and mSupply's legacy tables and fields,
// as the v5 sync wire carries them to and from real mSupply clients: one file a legacy table, and the
// formats they share here. What a translator needs of the datafile (an item's name, an invoice's type) it
// asks through Lookup.
package legacy

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// noDate is how legacy mSupply writes a date that is not set.
const noDate = "0000-00-00"

// legacyDate writes one of our dates (YYYY-MM-DD or nil) as a legacy date.
func legacyDate(v any) string {
	if s, ok := v.(string); ok && s != "" {
		return s
	}
	return noDate
}

// parseDate reads a legacy date: YYYY-MM-DD, or the same with a time after "T" or a space (which
// open-mSupply pushes); "", "0000-00-00" and null are no date.
func parseDate(v any) (any, error) {
	s, ok := v.(string)
	if v == nil || ok && (s == "" || s == noDate) {
		return nil, nil
	}
	if !ok {
		return nil, fmt.Errorf("a date must be a string, not %s", describe(v))
	}
	if len(s) > 10 && (s[10] == 'T' || s[10] == ' ') {
		s = s[:10]
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return nil, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
	}
	return s, nil
}

// legacyDateTime writes one of our date-times (RFC 3339, UTC) as open-mSupply's om_*_datetime: no zone.
func legacyDateTime(v any) string {
	s, _ := v.(string)
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}

// parseDateTime reads an om_*_datetime ("YYYY-MM-DDTHH:MM:SS[.f]", no zone, taken as UTC) as one of ours.
func parseDateTime(v any) (string, bool) {
	s, ok := v.(string)
	if !ok || s == "" {
		return "", false
	}
	t, err := time.Parse("2006-01-02T15:04:05.999999999", s)
	if err != nil {
		return "", false
	}
	return t.UTC().Format(time.RFC3339), true
}

// optionalDateTime reads an om_*_datetime that may be unset ("" or null) as one of ours: nil, or RFC 3339.
func optionalDateTime(v any) (any, error) {
	if s, ok := v.(string); v == nil || ok && s == "" {
		return nil, nil
	}
	if t, ok := parseDateTime(v); ok {
		return t, nil
	}
	if _, ok := v.(string); !ok {
		return nil, fmt.Errorf("a date-time must be a string, not %s", describe(v))
	}
	return nil, fmt.Errorf("%q is not a date-time (YYYY-MM-DDTHH:MM:SS, no zone)", v)
}

// keptOrLegacyDateTime is the om_*_datetime to send for one of our date-times: the one kept from what a site
// sent while it is the same second, so that its fraction goes back as it came, or else ours written afresh.
func keptOrLegacyDateTime(kept, ours any) string {
	fresh := legacyDateTime(ours)
	if s, ok := kept.(string); ok && s != "" {
		if t, ok := parseDateTime(s); ok && legacyDateTime(t) == fresh {
			return s
		}
	}
	return fresh
}

// secondsSinceMidnight reads a legacy time: a whole number of seconds (legacy mSupply), or "HH:MM:SS"
// (open-mSupply's pushes). Anything else reads as midnight, as open-mSupply reads it.
func secondsSinceMidnight(v any) int {
	switch t := v.(type) {
	case float64:
		if t >= 0 && t < 86400 && t == math.Trunc(t) {
			return int(t)
		}
	case json.Number:
		if f, err := t.Float64(); err == nil {
			return secondsSinceMidnight(f)
		}
	case string:
		if tm, err := time.Parse("15:04:05", strings.SplitN(t, ".", 2)[0]); err == nil {
			return tm.Hour()*3600 + tm.Minute()*60 + tm.Second()
		}
	}
	return 0
}

// text reads a legacy string field; null is "".
func text(v any) (string, error) {
	switch s := v.(type) {
	case nil:
		return "", nil
	case string:
		return s, nil
	}
	return "", fmt.Errorf("must be a string, not %s", describe(v))
}

// optionalRef reads a legacy reference that may be unset ("" or null): nil, or the id.
func optionalRef(v any) (any, error) {
	s, err := text(v)
	if err != nil || s == "" {
		return nil, err
	}
	return s, nil
}

// refOrEmpty writes one of our optional references as legacy writes it: the id or "".
func refOrEmpty(v any) string {
	s, _ := v.(string)
	return s
}

// boolean reads a legacy boolean: true/false, or 1/0 as older mSupply wrote them; null is false.
func boolean(v any) (bool, error) {
	switch b := v.(type) {
	case nil:
		return false, nil
	case bool:
		return b, nil
	case float64:
		if b == 0 || b == 1 {
			return b == 1, nil
		}
	}
	return false, fmt.Errorf("must be true or false, not %s", describe(v))
}

// number reads a legacy number; open-mSupply pushes every number as a float, and null as none (0).
func number(v any) (float64, error) {
	switch n := v.(type) {
	case nil:
		return 0, nil
	case float64:
		return n, nil
	case json.Number:
		return n.Float64()
	case string:
		if f, err := strconv.ParseFloat(n, 64); err == nil {
			return f, nil
		}
	}
	return 0, fmt.Errorf("must be a number, not %s", describe(v))
}

// wholeNumber writes one of our numbers where legacy wants an integer.
func wholeNumber(v any) int64 {
	f, _ := v.(float64)
	return int64(math.Round(f))
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "true or false"
	case float64, json.Number:
		return "a number"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
