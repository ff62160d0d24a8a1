package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// leverBenchmarks are Go benchmarks that each measure one of the product's levers beside the way it was
// done before, in the same run: their first sub-benchmark is the product's way, the others references.
var leverBenchmarks = []struct{ name, what string }{
	{"BenchmarkSiteMarks", "central notes 1,000 sites' completed syncs, 50 requests at once"},
	{"BenchmarkIdleCycleReads", "central reads what a site's idle cycle asks for (credentials, master data, queue), 8 requests at once"},
}

// leverRuns is how many operations each variant runs: enough for a steady figure, a few seconds in all.
const leverRuns = 2000

type leverResult struct {
	benchmark, variant string
	nsPerOp            float64
}

// levers runs the lever benchmarks of the datafile package once.
func (b *bench) levers(ctx context.Context) {
	root, err := moduleRoot(ctx)
	if err != nil {
		b.fail("levers", err)
		return
	}
	names := make([]string, len(leverBenchmarks))
	for i, l := range leverBenchmarks {
		names[i] = "^" + l.name + "$"
	}
	b.logf("levers: go test -bench %s ./datafile", strings.Join(names, "|"))
	cmd := exec.CommandContext(ctx, goTool(), "test", "-run", "^$", "-bench", strings.Join(names, "|"),
		"-benchtime", fmt.Sprintf("%dx", leverRuns), "-count", "1", "./datafile")
	cmd.Dir = root
	began := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.fail("levers", fmt.Errorf("go test -bench: %v\n%s", err, out))
		return
	}
	b.leverSecs = time.Since(began).Seconds()
	b.leverResults = parseLevers(strings.NewReader(string(out)))
}

var benchLine = regexp.MustCompile(`^(Benchmark[^/\s]+)/(\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op`)

// parseLevers reads sub-benchmark results from go test's output, in their order.
func parseLevers(r io.Reader) []leverResult {
	var out []leverResult
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		ns, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			continue
		}
		out = append(out, leverResult{benchmark: m[1], variant: strings.ReplaceAll(m[2], "_", " "), nsPerOp: ns})
	}
	return out
}

func (b *bench) leverReport(w io.Writer) {
	if len(b.leverResults) == 0 {
		fmt.Fprintf(w, "Not measured (they run at -scale 0.5 and above, from the module's source).\n\n")
		return
	}
	fmt.Fprintf(w, "Go benchmarks of the datafile package (`go test -bench -benchtime %dx ./datafile`, %.0f s with their build), each lever beside the way before it in the same run; the last column is each variant's time per operation ÷ the lever's.\n\n", leverRuns, b.leverSecs)
	fmt.Fprintf(w, "| what | variant | µs/op | time ÷ the lever's |\n| --- | --- | --: | --: |\n")
	first := map[string]float64{}
	for _, r := range b.leverResults {
		what := r.benchmark
		for _, l := range leverBenchmarks {
			if l.name == r.benchmark {
				what = l.what
			}
		}
		speedUp := "1.00 (the lever)"
		if f, ok := first[r.benchmark]; !ok {
			first[r.benchmark] = r.nsPerOp
		} else if f > 0 {
			speedUp = fmt.Sprintf("%.2f", r.nsPerOp/f)
		}
		fmt.Fprintf(w, "| %s | %s | %.1f | %s |\n", what, r.variant, r.nsPerOp/1000, speedUp)
	}
	fmt.Fprintln(w)
}
