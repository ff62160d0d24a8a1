package main

import (
	"context"
	"database/sql"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	_ "modernc.org/sqlite"
)

func init() {
	scriptCmds["holdwrite"] = cmdHoldwrite
}

// cmdHoldwrite implements 'holdwrite FILE DURATION': it takes the write lock of the SQLite datafile FILE,
// as another process writing to it would, and lets go after DURATION or when the script ends. It returns
// at once, so the commands that follow meet the lock.
func cmdHoldwrite(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: holdwrite FILE DURATION")
	}
	hold, err := time.ParseDuration(args[1])
	ts.Check(err)
	db, err := sql.Open("sqlite", "file:"+ts.MkAbs(args[0])+"?_pragma=busy_timeout(10000)")
	ts.Check(err)
	conn, err := db.Conn(context.Background())
	ts.Check(err)
	_, err = conn.ExecContext(context.Background(), "BEGIN IMMEDIATE")
	ts.Check(err)
	done := make(chan struct{})
	ts.Defer(func() { close(done) })
	go func() {
		select {
		case <-time.After(hold):
		case <-done:
		}
		conn.ExecContext(context.Background(), "ROLLBACK")
		conn.Close()
		db.Close()
	}()
}
