package datafile

import (
	"errors"
	"fmt"
)

// Error codes that callers branch on.
const (
	ENOTFOUND  = "not_found"
	EINVALID   = "invalid"
	ECONFLICT  = "conflict"
	EFORBIDDEN = "forbidden"
	ELOCKED    = "locked"
)

// Error is a failure the user can act on: Message says what is wrong, Hint what to do about it.
type Error struct {
	Code    string
	Message string
	Hint    string
	// cause is a sentinel the error stands for, so callers can test for it with errors.Is.
	cause error
}

func (e *Error) Error() string { return e.Message }

func (e *Error) Unwrap() error { return e.cause }

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) withHint(format string, args ...any) *Error {
	e.Hint = fmt.Sprintf(format, args...)
	return e
}

// ErrorCode returns the code of err if it is (or wraps) an *Error, else "".
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Conditions callers test for.
var (
	ErrNoDatafile     = &Error{Code: ENOTFOUND, Message: "no datafile here", Hint: "create one with 'msupply-sync init --central' or 'msupply-sync init --remote', or point --datafile (or MSUPPLY_DATAFILE) at an existing one"}
	ErrDatafileExists = &Error{Code: ECONFLICT, Message: "a datafile already exists at that path", Hint: "init never overwrites a datafile; choose another --datafile path, or remove the old file yourself if you are sure"}
	ErrLocked         = &Error{Code: ELOCKED, Message: "sync settings are locked", Hint: "run 'msupply-sync unlock' first, or pass --auth-code (or MSUPPLY_AUTH_CODE) for this one command"}
	ErrWrongAuthCode  = &Error{Code: EFORBIDDEN, Message: "the authorisation code is incorrect", Hint: "use the code set when this datafile was created"}
)
