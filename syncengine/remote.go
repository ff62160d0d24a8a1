package syncengine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/msupply-foundation/msupply-sync/datafile"
)

// RemoteDatafile is what a remote's sync cycle needs of its datafile.
type RemoteDatafile interface {
	Settings(ctx context.Context) (datafile.Settings, error)
	SyncState(ctx context.Context) (datafile.SyncState, error)
	SetThisSiteID(ctx context.Context, id int64) error
	MarkInitRequested(ctx context.Context) error
	MarkSynced(ctx context.Context, serverQueueLength int64) error
	PendingPush(ctx context.Context, limit int) (datafile.PushBatch, error)
	PendingPushAfter(ctx context.Context, cursor int64, limit int) (datafile.PushBatch, error)
	AdvancePushCursor(ctx context.Context, cursor int64) error
	RotateDatafileID(ctx context.Context) error
	IntegrateBatch(ctx context.Context, source int64, records []datafile.InRecord, cursor int64) (datafile.IntegrationResult, error)
	Integrate(ctx context.Context) (datafile.IntegrationResult, error)
	SetRequestSize(ctx context.Context, n int) error
	StartRun(ctx context.Context, kind string) (*datafile.RunLog, error)
	SaveRun(ctx context.Context, r *datafile.RunLog, finished bool) error
	LegacyLookup(ctx context.Context) *datafile.LegacyLookup
}

// Step names, as progress reports them.
const (
	StepPush        = "pushed"
	StepPullCentral = "pulled master data"
	StepPullQueue   = "pulled store data"
	StepIntegrate   = "integrated"
)

// Progress hears how far a step has got.
type Progress func(step string, done, total int64)

// Remote runs the sync cycle of a remote datafile.
type Remote struct {
	DB       RemoteDatafile
	Client   *Client
	Log      *slog.Logger
	Progress Progress
	// Retries is how many times a failed request is tried again within a cycle, with a smaller batch.
	Retries int
	// Backoff is the first wait before a retry; it doubles each time.
	Backoff time.Duration
	// Stop, when closed, ends the cycle after the batch in flight.
	Stop <-chan struct{}

	lastSave time.Time
}

// ErrStopped means a cycle ended early because it was asked to stop; what it did is committed.
var ErrStopped = errors.New("sync stopped on request")

func (r *Remote) stopping() error {
	select {
	case <-r.Stop:
		return ErrStopped
	default:
		return nil
	}
}

// CycleResult summarises one cycle.
type CycleResult struct {
	Run          *datafile.RunLog
	Initialising bool
	Rejections   []Rejection
	Parked       []Rejection
	Duration     time.Duration
}

// Cycle runs one sync cycle: push (unless push is false), pull this site's queue (acknowledging it once
// stored), pull master data, integrate. Every step commits as it goes, so a cycle cut short anywhere loses nothing and
// the next one carries on.
func (r *Remote) Cycle(ctx context.Context, push bool) (*CycleResult, error) {
	start := time.Now()
	if r.Log == nil {
		r.Log = slog.New(slog.DiscardHandler)
	}
	if r.Progress == nil {
		r.Progress = func(string, int64, int64) {}
	}
	kind := "sync"
	if !push {
		kind = "retrieve"
	}
	run, err := r.DB.StartRun(ctx, kind)
	if err != nil {
		return nil, err
	}
	res := &CycleResult{Run: run}
	err = r.cycle(ctx, push, res)
	res.Duration = time.Since(start)
	if err != nil {
		run.Error = err.Error()
		run.ErrorCode = errorCode(err)
	}
	// The run log is written even when the cycle was interrupted.
	if serr := r.DB.SaveRun(context.WithoutCancel(ctx), run, true); serr != nil && err == nil {
		err = serr
	}
	return res, err
}

func errorCode(err error) string {
	var ae *APIError
	switch {
	case errors.As(err, &ae):
		return ae.Code
	case errors.Is(err, ErrUnreachable):
		return "unreachable"
	case errors.Is(err, ErrTimeout):
		return "timeout"
	case errors.Is(err, context.Canceled), errors.Is(err, ErrStopped):
		return "interrupted"
	}
	return "error"
}

func (r *Remote) cycle(ctx context.Context, push bool, res *CycleResult) error {
	run := res.Run
	info, err := retry(ctx, r, func(int) (SiteInfo, error) { return r.Client.SiteInfo(ctx) })
	if err != nil {
		return err
	}
	if err := r.DB.SetThisSiteID(ctx, info.SiteID); err != nil {
		return err
	}
	state, err := r.DB.SyncState(ctx)
	if err != nil {
		return err
	}
	if !state.Initialised {
		res.Initialising = true
		run.Kind = "initialise"
		if !state.InitRequested {
			n, err := retry(ctx, r, func(int) (int64, error) { return r.Client.Initialise(ctx) })
			if err != nil {
				return err
			}
			if err := r.DB.MarkInitRequested(ctx); err != nil {
				return err
			}
			r.Log.Info("initialisation started", "site", info.Name, "queued", n)
		}
	}
	if push {
		if err := r.push(ctx, res); err != nil {
			return err
		}
	}
	// The queue is read before the master data: a store moved to this site after the queue was read shows
	// up in the master data, and its records in the next cycle's queue. Read the other way round, a move
	// between the two reads brings the store's records before the news that the store is now this site's,
	// and they are dropped as another site's.
	queueLeft, err := r.pullQueue(ctx, run)
	if err != nil {
		return err
	}
	if err := r.pullCentral(ctx, run, state.CentralCursor); err != nil {
		return err
	}
	// What could not be written as it arrived waits in the buffer; with everything now here, try it again.
	ir, err := r.DB.Integrate(ctx)
	if err != nil {
		return fmt.Errorf("integrate: %w", err)
	}
	r.integrated(run, ir)
	run.IntegrationErrors = int64(ir.Failed)
	if ir.Integrated+ir.Failed+ir.Dropped > 0 {
		r.Progress(StepIntegrate, run.IntegrateDone, run.IntegrateTotal)
	}
	if ir.Failed > 0 {
		r.Log.Warn("some received records could not be integrated yet; they stay buffered and are tried again next cycle", "failed", ir.Failed)
	}
	if err := r.DB.MarkSynced(ctx, queueLeft); err != nil {
		return err
	}
	return r.DB.SaveRun(ctx, run, false)
}

// integrated adds what a batch wrote to the run's counts.
func (r *Remote) integrated(run *datafile.RunLog, ir datafile.IntegrationResult) {
	run.IntegrateDone += int64(ir.Integrated)
	run.IntegrateTotal += int64(ir.Integrated + ir.Failed + ir.Dropped)
}

// saveProgress writes the run's progress for 'sync status' every few seconds, not after every batch:
// each write is a commit, and commits wait for the disk.
func (r *Remote) saveProgress(ctx context.Context, run *datafile.RunLog) error {
	if time.Since(r.lastSave) < 2*time.Second {
		return nil
	}
	r.lastSave = time.Now()
	return r.DB.SaveRun(ctx, run, false)
}

// requestSize reads the current adaptive batch size.
func (r *Remote) requestSize(ctx context.Context) int {
	size, _, _ := r.requestBounds(ctx)
	return size
}

// requestBounds reads the current adaptive batch size and the range it adapts within, whose top is the
// administrator's setting. Should the settings not be readable, the smallest size is the one that cannot
// pass the setting.
func (r *Remote) requestBounds(ctx context.Context) (size, lo, hi int) {
	s, err := r.DB.Settings(ctx)
	if err != nil {
		return datafile.MinRequestSize, datafile.MinRequestSize, datafile.MinRequestSize
	}
	lo, hi = s.RequestSizeRange()
	return s.CurrentRequestSize(), lo, hi
}

// Requests are sized to take a few seconds each. On a slow link a request's round trip is dead time, which
// costs least against a long answer; yet an answer must come well within the half minute after which a
// person (or a proxy) takes the link for dead, and a cut connection loses what was on its way.
const (
	growRequestsUnder  = 5 * time.Second
	shrinkRequestsOver = 15 * time.Second
)

// adapt grows the batch size after a quick success and shrinks it after a failure or a slow answer, never
// past the administrator's setting.
func (r *Remote) adapt(ctx context.Context, took time.Duration, failed bool) int {
	size, lo, hi := r.requestBounds(ctx)
	next := size
	switch {
	case failed || took > shrinkRequestsOver:
		next = size / 2
	case took < growRequestsUnder:
		next = size + size/4 + 1
	}
	next = min(max(next, lo), hi)
	if next != size {
		r.DB.SetRequestSize(context.WithoutCancel(ctx), next)
	}
	return next
}

// retry runs call until it succeeds, fails for good, or has been retried r.Retries times; each retry
// shrinks the batch and waits longer.
func retry[T any](ctx context.Context, r *Remote, call func(attempt int) (T, error)) (T, error) {
	backoff := r.Backoff
	if backoff == 0 {
		backoff = time.Second
	}
	for attempt := 0; ; attempt++ {
		v, err := call(attempt)
		if err == nil || !Retryable(err) || attempt >= r.Retries {
			return v, err
		}
		r.Log.Warn("sync request failed; trying again", "attempt", attempt+1, "error", err)
		r.adapt(ctx, 0, true)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return v, ctx.Err()
		}
		backoff *= 2
	}
}

func (r *Remote) push(ctx context.Context, res *CycleResult) error {
	run := res.Run
	rotated := false
	if pending, err := r.DB.PendingPush(ctx, 1); err != nil {
		return err
	} else if len(pending.Records) > 0 {
		// Each cycle pushes under a fresh source id. The server skips what it has already integrated from
		// a source, so a late duplicate of an older cycle's push cannot roll records back, while a datafile
		// restored from an older copy (whose change numbers repeat) is never mistaken for a replay.
		if err := r.DB.RotateDatafileID(ctx); err != nil {
			return err
		}
	}
	handedOver := false
	// The batch after the one on its way is read and put in wire shape meanwhile, so that the remote's
	// reading overlaps the server's writing. It is used only if the batch before it went through at the
	// first attempt: after a failure everything is read afresh.
	var ahead <-chan preparedPush
	dropAhead := func() {
		if ahead != nil {
			<-ahead
			ahead = nil
		}
	}
	defer dropAhead()
	for {
		if err := r.stopping(); err != nil {
			return err
		}
		var recs []datafile.OutRecord
		began := time.Now()
		// Each attempt after the first reads the batch afresh, at the size adapted to the last failure: a
		// record changed since the first attempt is sent as it is now, never as it was.
		resp, err := retry(ctx, r, func(attempt int) (PushResponse, error) {
			var p preparedPush
			if attempt == 0 && ahead != nil {
				p = <-ahead
				ahead = nil
			} else {
				dropAhead()
				p = r.preparePush(ctx, -1, r.requestSize(ctx))
			}
			recs = p.pending.Records
			// With nothing left to push, one (possibly empty) batch still tells central which stores are
			// handed over; once per cycle, since central completes the moves only when it has the batch.
			if p.err != nil || (len(recs) == 0 && (len(p.pending.HandedOver) == 0 || handedOver)) {
				return PushResponse{}, p.err
			}
			// Changes made here while the push runs join it, so the total is what is done plus what is
			// left, read afresh with every batch: it grows with them, and what is done never passes it.
			run.PushTotal = max(run.PushTotal, run.PushDone+int64(len(recs))+p.pending.Remaining)
			if p.pending.Remaining > 0 {
				ahead = r.prepareAhead(ctx, recs[len(recs)-1].Cursor, r.requestSize(ctx))
			}
			resp, err := r.Client.Push(ctx, p.batch)
			if err == nil && len(p.pending.HandedOver) > 0 {
				handedOver = true
				r.Log.Info("handed stores over to their new sites", "stores", len(p.pending.HandedOver))
			}
			return resp, err
		})
		if err != nil {
			return fmt.Errorf("push: %w", err)
		}
		if len(recs) == 0 {
			return nil
		}
		r.adapt(ctx, time.Since(began), false)
		if last := recs[len(recs)-1].Cursor; resp.HighWater > last && !rotated {
			// The server has seen later changes of this datafile than it holds: it was restored from an
			// older copy, and the server skipped this batch as replays. Send it again under a new id.
			r.Log.Warn("this datafile was restored from an older copy; pushing its changes again under a new datafile id",
				"server_high_water", resp.HighWater, "local_cursor", last)
			dropAhead() // read under the old id
			if err := r.DB.RotateDatafileID(ctx); err != nil {
				return err
			}
			rotated = true
			continue
		}
		// The server has committed the batch; only now does the cursor move past it. Dying between the two
		// sends the batch again, which the server applies idempotently.
		if err := r.DB.AdvancePushCursor(ctx, recs[len(recs)-1].Cursor); err != nil {
			return err
		}
		run.PushDone += int64(len(recs))
		run.Rejected += int64(len(resp.Rejected))
		run.Parked += int64(len(resp.Parked))
		res.Rejections = append(res.Rejections, resp.Rejected...)
		res.Parked = append(res.Parked, resp.Parked...)
		for _, rj := range resp.Rejected {
			r.Log.Warn("the central server refused a record", "sync_out_id", rj.SyncOutID, "code", rj.Code, "reason", rj.Message)
		}
		for _, p := range resp.Parked {
			r.Log.Warn("the central server parked a record: it keeps it and integrates it once it can", "sync_out_id", p.SyncOutID, "reason", p.Message)
		}
		r.Progress(StepPush, run.PushDone, run.PushTotal)
		if err := r.saveProgress(ctx, run); err != nil {
			return err
		}
	}
}

// preparedPush is a batch of local changes read for a push, in wire shape.
type preparedPush struct {
	pending datafile.PushBatch
	batch   QueuedBatch
	err     error
}

// preparePush reads up to size local changes after cursor (from the push cursor when -1) and puts them
// in wire shape.
func (r *Remote) preparePush(ctx context.Context, cursor int64, size int) preparedPush {
	pending, err := r.DB.PendingPushAfter(ctx, cursor, size)
	if err != nil {
		return preparedPush{err: err}
	}
	// As open-mSupply's client does, queueLength counts this batch too.
	batch := QueuedBatch{QueueLength: pending.Remaining + int64(len(pending.Records)), Data: make([]QueuedRecord, 0, len(pending.Records)),
		HandedOverStores: pending.HandedOver}
	look := r.DB.LegacyLookup(ctx)
	if err := look.Preload(pending.Records); err != nil {
		return preparedPush{err: err}
	}
	for _, rec := range pending.Records {
		wire, err := toWire(rec, look)
		if err != nil {
			return preparedPush{err: err}
		}
		batch.Data = append(batch.Data, QueuedRecord{SyncOutID: rec.SyncOutID, SyncRecord: wire})
	}
	return preparedPush{pending: pending, batch: batch}
}

// prepareAhead runs preparePush in the background.
func (r *Remote) prepareAhead(ctx context.Context, cursor int64, size int) <-chan preparedPush {
	out := make(chan preparedPush, 1)
	go func() { out <- r.preparePush(ctx, cursor, size) }()
	return out
}

// fetchedPage is a page of master data fetched, decoded and validated ahead of its integration.
type fetchedPage struct {
	records   []datafile.InRecord
	next      int64 // the highest cursor in the page
	maxCursor int64
	took      time.Duration
	err       error
}

// fetchPage fetches the page of master data after cursor and prepares its records for writing.
func (r *Remote) fetchPage(ctx context.Context, cursor int64) fetchedPage {
	began := time.Now()
	// Each attempt asks for the size adapted to the failure before it: a page that a bad link cuts off
	// is asked for again smaller, not the same.
	batch, err := retry(ctx, r, func(int) (CentralBatch, error) { return r.Client.CentralRecords(ctx, cursor, r.requestSize(ctx)) })
	page := fetchedPage{next: cursor, maxCursor: batch.MaxCursor, took: time.Since(began), err: err}
	if err != nil {
		page.err = fmt.Errorf("pull master data: %w", err)
		return page
	}
	page.records = make([]datafile.InRecord, 0, len(batch.Data))
	look := r.DB.LegacyLookup(ctx)
	for _, rec := range batch.Data {
		if rec.ID <= cursor {
			page.err = fmt.Errorf("pull master data: the server sent cursor %d, not after %d", rec.ID, cursor)
			return page
		}
		page.records = append(page.records, fromWire("", rec.SyncRecord, look))
		page.next = max(page.next, rec.ID)
	}
	datafile.Prepare(page.records)
	return page
}

// pullCentral pages through the central server's master data. The next page is fetched, decoded and
// validated while the current one is written, so the server's reading, the network and the decoding
// overlap the remote's writing; the cursor still moves only in the transaction that writes a page, so a
// page fetched ahead and never written is simply fetched again by the next cycle.
func (r *Remote) pullCentral(ctx context.Context, run *datafile.RunLog, cursor int64) error {
	ctx, cancel := context.WithCancel(ctx)
	var fetching sync.WaitGroup
	defer func() {
		cancel()
		fetching.Wait()
	}()
	fetch := func(from int64) <-chan fetchedPage {
		out := make(chan fetchedPage, 1)
		fetching.Add(1)
		go func() {
			defer fetching.Done()
			out <- r.fetchPage(ctx, from)
		}()
		return out
	}
	ahead := fetch(cursor)
	for {
		if err := r.stopping(); err != nil {
			return err
		}
		page := <-ahead
		if page.err != nil {
			return page.err
		}
		if len(page.records) == 0 {
			r.adapt(ctx, page.took, false)
			return nil
		}
		if page.next < page.maxCursor {
			ahead = fetch(page.next)
		}
		r.adapt(ctx, page.took, false)
		ir, err := r.DB.IntegrateBatch(ctx, datafile.CentralSiteID, page.records, page.next)
		if err != nil {
			return err
		}
		r.integrated(run, ir)
		run.PullCentralDone += int64(len(page.records))
		run.PullCentralTotal = run.PullCentralDone
		cursor = page.next
		// Progress counts records, as the summary does. The cursor counts every change-log entry, store
		// data too, so how many records remain is not known: each cursor position left holds at most one,
		// which makes the total an upper bound that comes down to the count once the last page is in.
		left := max(page.maxCursor-cursor, 0)
		r.Progress(StepPullCentral, run.PullCentralDone, run.PullCentralDone+left)
		if err := r.saveProgress(ctx, run); err != nil {
			return err
		}
		if cursor >= page.maxCursor {
			return nil
		}
	}
}

func (r *Remote) pullQueue(ctx context.Context, run *datafile.RunLog) (int64, error) {
	for {
		if err := r.stopping(); err != nil {
			return 0, err
		}
		began := time.Now()
		batch, err := retry(ctx, r, func(int) (QueuedBatch, error) { return r.Client.QueuedRecords(ctx, r.requestSize(ctx)) })
		if err != nil {
			return 0, fmt.Errorf("pull store data: %w", err)
		}
		r.adapt(ctx, time.Since(began), false)
		if run.PullQueueTotal == 0 {
			run.PullQueueTotal = batch.QueueLength
		}
		if len(batch.Data) == 0 {
			return batch.QueueLength, nil
		}
		recs := make([]datafile.InRecord, 0, len(batch.Data))
		ids := make([]string, 0, len(batch.Data))
		look := r.DB.LegacyLookup(ctx)
		for _, rec := range batch.Data {
			recs = append(recs, fromWire(rec.SyncOutID, rec.SyncRecord, look))
			ids = append(ids, rec.SyncOutID)
		}
		ir, err := r.DB.IntegrateBatch(ctx, datafile.CentralSiteID, recs, 0)
		if err != nil {
			return 0, err
		}
		r.integrated(run, ir)
		// Acknowledged only once stored here: losing the acknowledgement means receiving them again.
		if _, err := retry(ctx, r, func(int) (struct{}, error) { return struct{}{}, r.Client.Acknowledge(ctx, ids) }); err != nil {
			return 0, fmt.Errorf("acknowledge: %w", err)
		}
		run.PullQueueDone += int64(len(recs))
		run.PullQueueTotal = max(run.PullQueueTotal, run.PullQueueDone)
		r.Progress(StepPullQueue, run.PullQueueDone, run.PullQueueTotal)
		if err := r.saveProgress(ctx, run); err != nil {
			return 0, err
		}
	}
}
