package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"msupply-sync": func() { os.Exit(run()) },
	})
}

// TestScripts runs the end-to-end flows in testscripts/ against the real binary.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testscripts",
	})
}
