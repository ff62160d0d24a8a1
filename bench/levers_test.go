package main

import (
	"strings"
	"testing"
)

func TestLeverReportReadsGoBenchmarkOutput(t *testing.T) {
	out := `goos: linux
BenchmarkSiteMarks/group_commit-2         	    2000	     61723 ns/op
BenchmarkSiteMarks/a_commit_each-2        	    2000	   1581981 ns/op
BenchmarkIdleCycleReads/prepared_once-2         	    3000	    163367 ns/op
BenchmarkIdleCycleReads/prepared_each_time-2    	    3000	    265831 ns/op
PASS
`
	b := &bench{leverResults: parseLevers(strings.NewReader(out)), leverSecs: 12}
	if len(b.leverResults) != 4 {
		t.Fatalf("parsed %+v", b.leverResults)
	}
	var w strings.Builder
	b.leverReport(&w)
	for _, want := range []string{
		"| central notes 1,000 sites' completed syncs, 50 requests at once | group commit | 61.7 | 1.00 (the lever) |",
		"| a commit each | 1582.0 | 25.63 |",
		"| prepared each time | 265.8 | 1.63 |",
	} {
		if !strings.Contains(w.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, w.String())
		}
	}
}
