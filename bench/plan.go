package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// plan is the sizes the full-size scenarios run at: the configured ones, unless the small run says they
// would not fit in the time budget.
type plan struct {
	items, pushLines, perSite int
	slowItems, slowLines      int
	fleetSites, histBig       int
	estimate                  float64 // seconds, for the sizes chosen
	notes                     []string
}

// margin allows for what the extrapolation misses.
const margin = 1.25

// slowMargin is the slow link's: its time is the link's, which its estimate computes from the bytes and
// round trips, and only the bytes per record are extrapolated. Measured at 160,000 items, the estimate
// without a margin was within 3% of the time the scenario took.
const slowMargin = 1.1

// makePlan extrapolates the small run's times to the configured sizes and, where a scenario would not fit its
// share of the time left, shrinks it to the largest round size that does. The extrapolation assumes that a
// scenario keeps its ratio to the fair raw insert, whose cost per row is measured at both sizes before this
// (it grows with the B-tree, and with a datafile's page cache as the product's does), and that a process's
// fixed cost (start, authentication) does not grow at all. The
// slow link is judged by its bytes on the wire instead (slowEstimate), and shrinks its two sizes together;
// the thousand sites and the history have estimates of their own (fleetEstimate, historyEstimate), whose
// sizes shrink until they fit.
func (b *bench) makePlan() plan {
	s := b.small
	p := plan{items: b.cfg.items, pushLines: b.cfg.pushLines, perSite: b.cfg.perSite, slowItems: b.cfg.slowItems, slowLines: b.cfg.slowLines,
		fleetSites: b.cfg.fleetSites, histBig: b.cfg.histBig}
	// grow is how much longer n rows take than the small run's m rows, judged by the fair raw insert: the
	// default cache's raw insert slows down past its 2 MB where a datafile's does not, and judged by it a
	// million items were estimated at twice what they took.
	grow := func(n, m int) float64 {
		rn, okN := b.fair[n]
		rm, okM := b.fair[m]
		if !okN || !okM || rm.secs <= 0 {
			return float64(n) / float64(m)
		}
		return max(float64(n)/float64(m), rn.secs/rm.secs)
	}
	fixedSync := median(s.idleWalls) + b.versionSecs // an idle cycle: start, authentication, three requests
	variable := func(secs, fixed float64) float64 { return max(secs-fixed, secs/10) }
	kItems := grow(p.items, s.items)
	kPush := grow(p.pushLines, s.pushLines)
	kSite := grow(p.perSite, s.items)

	est := []float64{
		margin*(kItems*(variable(s.importRes.Wall.Seconds(), b.versionSecs)+variable(s.syncRes.Wall.Seconds(), fixedSync)+s.verifySecs)+
			2*fixedSync) + 5*fixedSync,
		margin * (kPush*(variable(s.putRes.Wall.Seconds(), b.versionSecs)+variable(s.pushRes.Wall.Seconds(), fixedSync)) + 2*fixedSync),
		// Both phases (the sample one after another, then all at once): initial syncs, each remote's check,
		// and a remote init per site.
		margin * float64(manySequential(b.cfg.manySites)+b.cfg.manySites) * (kSite*(variable(s.syncRes.Wall.Seconds(), fixedSync)+s.verifySecs/2) + fixedSync + 0.1),
		slowMargin * b.slowEstimate(p.slowItems, p.slowLines),
		margin * b.fleetEstimate(p.fleetSites),
		margin * b.historyEstimate(b.cfg.histSmall, p.histBig),
	}
	names := []string{"bulk import and initial sync", "push", "many sites", "slow link", "thousand sites", "history"}
	sizes := []*int{&p.items, &p.pushLines, &p.perSite, &p.slowItems, &p.fleetSites, &p.histBig}
	units := []string{"items", "invoice lines", "items per site", "items", "sites", "change-log rows"}
	shares := []float64{0.25, 0.05, 0.16, 0.24, 0.19, 0.11}

	left := time.Until(b.planDeadline).Seconds() - 30 // the report, and raw baselines at reduced sizes
	total := 0.0
	var each []string
	for i := range est {
		total += est[i]
		each = append(each, fmt.Sprintf("%s %.0f s", names[i], est[i]))
	}
	fits := total <= left
	verdict := "do not fit"
	if fits {
		verdict = "fit"
	}
	p.notes = append(p.notes, fmt.Sprintf("plan: the full sizes %s the time budget: estimated %.0f s (%s) from the %s-item run with a %.2f× margin (%.2f× for the slow link), %.0f s left",
		verdict, total, strings.Join(each, ", "), count(s.items), margin, slowMargin, left))
	if fits {
		p.estimate = total
		return p
	}
	// Scenarios under their share keep their size; the time they leave is shared among the others.
	alloc := make([]float64, len(est))
	remaining, overShares := left, 0.0
	for i := range est {
		if est[i] <= shares[i]*left {
			alloc[i] = est[i]
			remaining -= est[i]
		} else {
			overShares += shares[i]
		}
	}
	for i := range est {
		if alloc[i] == 0 {
			alloc[i] = max(0, remaining) * shares[i] / overShares
		}
		if alloc[i] >= est[i] {
			p.estimate += est[i]
			continue
		}
		f := alloc[i] / est[i]
		old := *sizes[i]
		if i >= 4 {
			// Not in proportion to their sizes: each has a part that does not shrink (the run's periods, the
			// small log), so the size is stepped down until its own estimate fits.
			estimate := func(n int) float64 { return margin * b.fleetEstimate(n) }
			least := 5
			if i == 5 {
				estimate = func(n int) float64 { return margin * b.historyEstimate(b.cfg.histSmall, n) }
				least = 10 * b.cfg.histSmall
			}
			*sizes[i] = fitSize(old, least, alloc[i], estimate)
			p.estimate += estimate(*sizes[i])
			p.notes = append(p.notes, fmt.Sprintf("REDUCED: %s at %s %s would take about %.0f s with today's code (estimated from the %s-item run, %.2f× margin), more than the %.0f s it can have in the %s budget: ran at %s %s instead",
				names[i], count(old), units[i], est[i], count(s.items), margin, alloc[i], b.cfg.budget, count(*sizes[i]), units[i]))
			continue
		}
		*sizes[i] = max(1, niceFloor(float64(old)*f))
		if i == 0 {
			*sizes[i] = max(*sizes[i], b.cfg.small)
		}
		if i == 3 {
			// Its time is mostly bytes on the link, which both sizes bring in proportion; the round trips
			// of a transfer of nothing do not shrink.
			fixed := slowMargin * b.slowEstimate(0, 0)
			f = max(0, alloc[i]-fixed) / max(est[i]-fixed, 1)
			oldLines := p.slowLines
			p.slowItems = max(1, niceFloor(float64(old)*f))
			p.slowLines = max(1, niceFloor(float64(oldLines)*f))
			p.estimate += slowMargin * b.slowEstimate(p.slowItems, p.slowLines)
			p.notes = append(p.notes, fmt.Sprintf("REDUCED: slow link at %s items and %s invoice lines would take about %.0f s (%s, bytes per record from the %s-item run, %.2f× margin), more than the %.0f s it can have in the %s budget: ran at %s items and %s invoice lines instead",
				count(old), count(oldLines), est[i], b.cfg.link.short(), count(s.items), slowMargin, alloc[i], b.cfg.budget, count(p.slowItems), count(p.slowLines)))
			continue
		}
		p.estimate += est[i] * float64(*sizes[i]) / float64(old)
		p.notes = append(p.notes, fmt.Sprintf("REDUCED: %s at %s %s would take about %.0f s with today's code (extrapolated from the %s-item run, %.2f× margin), more than the %.0f s it can have in the %s budget: ran at %s %s instead",
			names[i], count(old), units[i], est[i], count(s.items), margin, alloc[i], b.cfg.budget, count(*sizes[i]), units[i]))
	}
	return p
}

// fitSize is the largest round size from old down, and no less than least, whose estimate fits in secs.
func fitSize(old, least int, secs float64, estimate func(int) float64) int {
	n := old
	for n > least && estimate(n) > secs {
		n = max(least, niceFloor(float64(n)*0.8))
	}
	return n
}

// niceFloor rounds x down to two significant digits: 437512 becomes 430000.
func niceFloor(x float64) int {
	if x < 100 {
		return int(x)
	}
	mag := math.Pow(10, math.Floor(math.Log10(x))-1)
	return int(math.Floor(x/mag) * mag)
}

func rowsPerSec(r rawResult, n int) float64 {
	if r.secs <= 0 {
		return math.Inf(1)
	}
	return float64(n) / r.secs
}
