//go:build unix

package main

import "syscall"

// detachTerminal puts the command in a session of its own, without a controlling terminal, so that it
// never prompts on /dev/tty and the scripts behave the same under 'go test' at a terminal as in CI. Under
// ttyin the command already leads its own session and Setsid fails harmlessly.
func detachTerminal() { _, _ = syscall.Setsid() }
