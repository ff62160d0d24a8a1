//go:build !unix

package main

// detachTerminal is a no-op where there are no sessions to leave.
func detachTerminal() {}
