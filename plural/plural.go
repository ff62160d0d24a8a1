// Package plural writes counts that read right for one and for many: "1 store", "3 stores".
package plural

import "strconv"

// Integer is any count.
type Integer interface {
	~int | ~int64
}

// Count returns n followed by one when n is 1, else by many: Count(1, "store", "stores") is "1 store".
func Count[T Integer](n T, one, many string) string {
	return strconv.FormatInt(int64(n), 10) + " " + Choose(n, one, many)
}

// Choose returns one when n is 1, else many, for a word that follows a count written elsewhere.
func Choose[T Integer](n T, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
