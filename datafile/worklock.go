package datafile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// WorkLock is an exclusive claim on a datafile for work that must not run twice at once: a sync cycle of a
// remote, or the central server. SQLite keeps each transaction whole, but two sync cycles interleaving their
// transactions on one datafile can push an older copy of a record after a newer one, and two servers on one
// datafile would each believe they hold every site's state. The claim is an advisory lock of the operating
// system on a file beside the datafile, so a process that dies, even by SIGKILL, lets go of it at once.
type WorkLock struct {
	f *os.File
}

// ErrWorkLocked means another process holds the datafile's work lock.
var ErrWorkLocked = errors.New("another msupply-sync process is working on this datafile")

// WorkLockPath is the lock file of the datafile at path.
func WorkLockPath(path string) string { return path + ".lock" }

// TryWorkLock claims the datafile at path for work of the kind named (for the message another process
// shows), or fails at once with an *Error wrapping ErrWorkLocked that says who holds it.
func TryWorkLock(path, kind string) (*WorkLock, error) {
	f, err := os.OpenFile(WorkLockPath(path), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the datafile's lock file: %w", err)
	}
	ok, err := tryLockFile(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock the datafile: %w", err)
	}
	if !ok {
		holder := readHolder(f)
		f.Close()
		return nil, &Error{Code: ECONFLICT, Message: fmt.Sprintf("%v (%s): %s", ErrWorkLocked, path, holder),
			Hint: "wait for it to finish, or stop it, then try again", cause: ErrWorkLocked}
	}
	// Who holds the lock is written for the message the next process shows; the lock itself is the claim.
	f.Truncate(0)
	f.WriteAt([]byte(fmt.Sprintf("%s by process %d since %s\n", kind, os.Getpid(), time.Now().UTC().Format(time.RFC3339))), 0)
	return &WorkLock{f: f}, nil
}

// WaitWorkLock claims the datafile like TryWorkLock, waiting while another process holds it, until ctx ends.
// waiting is called once, when the first attempt finds the lock taken.
func WaitWorkLock(ctx context.Context, path, kind string, waiting func(holder error)) (*WorkLock, error) {
	told := false
	for {
		l, err := TryWorkLock(path, kind)
		if !errors.Is(err, ErrWorkLocked) {
			return l, err
		}
		if !told && waiting != nil {
			waiting(err)
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func readHolder(f *os.File) string {
	b := make([]byte, 200)
	n, _ := f.ReadAt(b, 0)
	holder := strings.TrimSpace(string(b[:n]))
	if holder == "" {
		return "in use"
	}
	return holder
}

// Release lets go of the claim.
func (l *WorkLock) Release() {
	if l == nil || l.f == nil {
		return
	}
	// Cleared first, so that a holder that takes the lock without saying who it is is not named after this one.
	l.f.Truncate(0)
	unlockFile(l.f)
	l.f.Close()
	l.f = nil
}
