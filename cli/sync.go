package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/config"
	"github.com/tap-recurly/tap-recurly/internal/fileerr"
	"github.com/tap-recurly/tap-recurly/internal/logging"
	"github.com/tap-recurly/tap-recurly/internal/progress"
	"github.com/tap-recurly/tap-recurly/layouts"
	"github.com/tap-recurly/tap-recurly/singer"
	"github.com/tap-recurly/tap-recurly/state"
	"github.com/tap-recurly/tap-recurly/streams"
)

// selectStreams reads the catalog (if any) and returns the streams to sync
// with their field selections, logging what was chosen and why.
func selectStreams(o options, lay *layouts.Layout, log *slog.Logger) ([]streams.Selected, error) {
	path, user, err := readCatalog(o, lay)
	if err != nil {
		return nil, err
	}
	discovered, err := DiscoverLayout(lay)
	if err != nil {
		return nil, err
	}
	var selected []streams.Selected
	var chosen, skipped []string
	for i := range discovered.Streams {
		entry := &discovered.Streams[i]
		st, _ := lay.ByName(entry.TapStreamID)
		if why := skipReason(st, user, path); why != "" {
			skipped = append(skipped, st.Name+" ("+why+")")
			continue
		}
		if user != nil {
			applyUserSelection(entry, user.Entry(entry.TapStreamID))
		}
		s, desc, err := selectionOf(entry, st, path, log)
		if err != nil {
			return nil, err
		}
		chosen = append(chosen, desc)
		selected = append(selected, s)
	}
	logSelection(path, chosen, skipped, log)
	return selected, nil
}

// readCatalog reads and checks the --catalog (or --properties) file. With
// neither given, it returns an empty path and a nil catalog.
func readCatalog(o options, lay *layouts.Layout) (string, *singer.Catalog, error) {
	path := o.catalogPath
	if path == "" {
		path = o.propertiesPath
	}
	if path == "" {
		return "", nil, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, inputError{fmt.Errorf("%s: cannot read: %s", path, fileerr.Describe(err))}
	}
	user, err := singer.ParseCatalog(path, data)
	if err != nil {
		return "", nil, inputError{err}
	}
	if err := checkCatalog(path, user, lay); err != nil {
		return "", nil, inputError{err}
	}
	return path, user, nil
}

// skipReason says why a stream is not synced ("" when it is): without a
// catalog, opt-in streams are left out; with one, streams it leaves out or
// does not select.
func skipReason(st streams.Stream, user *singer.Catalog, path string) string {
	if user == nil {
		if st.OptIn {
			return fmt.Sprintf("opt-in: one request per record of %s per run; select it in a catalog", st.Parent)
		}
		return ""
	}
	ue := user.Entry(st.Name)
	switch {
	case ue == nil:
		return "not in " + path
	case !ue.IsSelected():
		return "not selected in " + path
	}
	return ""
}

// applyUserSelection copies the selection choices of the user's catalog
// entry onto the discovered one. Our schema and inclusion rules are the
// truth; the user's catalog contributes only its selection choices, so it
// cannot deselect a key property or the replication key.
func applyUserSelection(entry, ue *singer.CatalogEntry) {
	for _, md := range ue.Metadata {
		if v, ok := md.Metadata[singer.Selected]; ok {
			entry.Metadata.Set(md.Breadcrumb, singer.Selected, v)
		}
	}
	entry.Selected = ue.Selected
}

// selectionOf is the stream to sync for a selected catalog entry, and how
// it is described in the log: its name, and the fields left out.
func selectionOf(entry *singer.CatalogEntry, st streams.Stream, path string, log *slog.Logger) (streams.Selected, string, error) {
	sel, err := entry.Selection()
	if err != nil {
		return streams.Selected{}, "", inputError{fmt.Errorf("%s: %s: %w", path, st.Name, err)}
	}
	for _, w := range sel.Warnings() {
		log.Warn(fmt.Sprintf("%s: %s: %s", path, st.Name, w))
	}
	s := streams.Selected{Stream: st, Schema: sel.Schema}
	desc := st.Name
	if !sel.AllSelected() {
		s.Project = sel.Project
		var ex []string
		for _, e := range sel.Excluded() {
			ex = append(ex, e.Field+" ("+e.Reason+")")
		}
		desc += " without " + strings.Join(ex, ", ")
	}
	return s, desc, nil
}

// logSelection logs the streams chosen and skipped, and warns when none
// is chosen.
func logSelection(path string, chosen, skipped []string, log *slog.Logger) {
	reason := "no catalog given: every stream selected by default, every field"
	if path != "" {
		reason = "from " + path
	}
	log.Info(fmt.Sprintf("selected streams (%s): %s", reason, listOrNone(chosen)))
	if len(chosen) == 0 {
		log.Warn(path + ": no stream is selected, so nothing will be extracted; select streams with \"selected\": true in their metadata at breadcrumb [] (Meltano: the select setting)")
	}
	if len(skipped) > 0 {
		log.Info("skipped streams: " + strings.Join(skipped, ", "))
	}
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, "; ")
}

// checkCatalog refuses catalogs naming streams or replication keys the tap
// does not have.
func checkCatalog(path string, cat *singer.Catalog, lay *layouts.Layout) error {
	for i, e := range cat.Streams {
		st, ok := lay.ByName(e.TapStreamID)
		if !ok {
			known := "known"
			if lay != layouts.Default() {
				known += " in layout " + lay.Name
			}
			return fmt.Errorf("%s: streams[%d].tap_stream_id: unknown stream %q (%s: %s)", path, i, e.TapStreamID, known, strings.Join(lay.Names(), ", "))
		}
		keys := []struct{ where, value string }{{"replication_key", e.ReplicationKey}}
		if md := e.Metadata.Root(); md != nil {
			if rk, ok := md[singer.ReplicationKey].(string); ok {
				keys = append(keys, struct{ where, value string }{"metadata[[]].replication-key", rk})
			}
		}
		for _, k := range keys {
			if k.value != "" && k.value != st.ReplicationKey {
				return fmt.Errorf("%s: streams[%d].%s: %q is not a replication key of %s (valid: %s)", path, i, k.where, k.value, st.Name, st.ReplicationKey)
			}
		}
		for _, method := range []string{e.ReplicationMethod, stringOf(e.Metadata.Root(), singer.ReplicationMethod)} {
			if method != "" && method != singer.ReplicationIncremental {
				return fmt.Errorf("%s: streams[%d]: replication method %q is not supported for %s (only INCREMENTAL)", path, i, method, st.Name)
			}
		}
	}
	return nil
}

func stringOf(md map[string]any, key string) string {
	s, _ := md[key].(string)
	return s
}

// loadState reads the state file, refusing a bookmark more than a day
// after the run's start (a run from it would silently extract nothing) and
// warning about one within a day (clock skew).
func loadState(path string, start time.Time, log *slog.Logger) (*state.State, error) {
	if path == "" {
		return nil, nil
	}
	st, err := state.Load(path)
	if err != nil {
		return nil, inputError{err}
	}
	ahead, err := st.CheckFuture(path, start)
	if err != nil {
		return nil, inputError{err}
	}
	for _, f := range ahead {
		log.Warn(fmt.Sprintf("%s: %s (clock skew?); the stream reads nothing until then", path, f))
	}
	return st, nil
}

// newClient builds the API client for cfg, reporting each request as a
// singer http_request_duration metric. extra options apply last.
func newClient(cfg *config.Config, log *slog.Logger, extra ...client.Option) (*client.Client, error) {
	ua := "tap-recurly/" + Version
	if cfg.UserAgent != "" {
		ua += " " + cfg.UserAgent
	}
	return client.New(cfg.APIKey.Reveal(), cfg.SiteID(), append([]client.Option{
		client.WithBaseURL(cfg.BaseURL),
		client.WithUserAgent(ua),
		client.WithQuotaLimit(cfg.QuotaLimit),
		client.WithTimeout(cfg.RequestTimeout),
		client.WithMaxQuotaWait(cfg.MaxQuotaWait),
		client.WithLogger(log),
		client.WithRequestHook(func(ri client.RequestInfo) {
			status := "succeeded"
			if ri.Err != nil || ri.Status >= 400 || ri.Status == 0 {
				status = "failed"
			}
			log.Info(singer.FormatMetric(singer.MetricTimer, singer.MetricHTTPRequestDuration, ri.Duration.Seconds(),
				map[string]any{singer.TagEndpoint: ri.Endpoint, singer.TagHTTPStatusCode: ri.Status, singer.TagStatus: status}))
		}),
	}, extra...)...)
}

func runSync(ctx context.Context, o options, cfg *config.Config, e env, log *slog.Logger) error {
	// The state is read before the catalog so that every bad input file is
	// refused before anything is logged.
	initial, err := loadState(o.statePath, e.now(), log)
	if err != nil {
		return err
	}
	lay, err := layouts.Get(cfg.Layout)
	if err != nil {
		return err
	}
	selected, err := selectStreams(o, lay, log)
	if err != nil {
		return err
	}
	// While the run lasts, logs go through runLog: above the bars on a
	// terminal. The summary goes out after the bars are gone.
	meter, runLog := startProgress(o, e, log)
	defer meter.Stop()
	api, err := newClient(cfg, runLog, e.clientOptions...)
	if err != nil {
		return err
	}
	out := singer.NewWriter(e.stdout)
	syncer := &streams.Syncer{
		API:   api,
		Out:   out,
		State: state.NewTracker(initial),
		Options: streams.Options{
			StartDate:  cfg.StartDate,
			EndDate:    cfg.EndDate,
			Now:        e.now,
			MaxWorkers: cfg.MaxWorkers,
			Windows:    cfg.MaxWorkers,
			Logger:     runLog,
			Progress:   meter,
		},
	}
	began := time.Now()
	results, runErr := runUntilStopped(ctx, syncer, selected, out, runLog)
	meter.Stop() // the bars end before the summary line
	stats := api.Stats()
	logClientStats(log, stats) // before the final line, failed run or not
	logSummary(log, results, stats, time.Since(began), runErr)
	if runErr != nil {
		if cause := context.Cause(ctx); cause != nil && errors.Is(runErr, context.Canceled) {
			return cause
		}
		return runErr
	}
	return nil
}

// logSummary logs the run's totals: "sync finished" for a run that
// succeeded, "sync stopped" for one that failed (its error line follows).
func logSummary(log *slog.Logger, results []streams.Result, stats client.Stats, took time.Duration, runErr error) {
	var total int64
	for _, r := range results {
		total += r.Records
	}
	how := "finished"
	if runErr != nil {
		how = "stopped"
	}
	log.Info(fmt.Sprintf("sync %s: %d records from %d streams, %d requests (%d retries), quota waits %s, in %s",
		how, total, len(results), stats.Requests, stats.Retries, stats.QuotaWaited.Round(time.Millisecond), took.Round(time.Millisecond)))
	streams.LogSummary(log, results)
}

// Stopping a run: once the context is cancelled (a signal), the sync
// normally winds down at once and writes its final STATE. A write blocked on
// a reader that stopped reading would hold it up for good, so after
// stopGrace the run is abandoned: the final STATE is attempted for at most
// stopStateWait, and the caller exits. Together they keep a stop within 2 s.
const (
	stopGrace     = time.Second
	stopStateWait = 500 * time.Millisecond
)

// runUntilStopped runs the sync and flushes the output, but returns no
// later than stopGrace+stopStateWait after ctx is done, even when stdout is
// blocked.
func runUntilStopped(ctx context.Context, syncer *streams.Syncer, selected []streams.Selected, out *singer.Writer, log *slog.Logger) ([]streams.Result, error) {
	type outcome struct {
		results []streams.Result
		err     error
	}
	done := make(chan outcome, 1)
	go func() {
		results, err := syncer.Run(ctx, selected)
		if ferr := out.Flush(); ferr != nil && err == nil {
			err = ferr
		}
		done <- outcome{results, err}
	}()
	select {
	case o := <-done:
		return o.results, o.err
	case <-ctx.Done():
	}
	select {
	case o := <-done:
		return o.results, o.err
	case <-time.After(stopGrace):
	}
	if err := out.WriteStateWithin(syncer.State.Snapshot(), stopStateWait); err != nil {
		log.Warn(fmt.Sprintf("stopping without a final STATE: %v; the last STATE the reader took is safe to resume from", err))
	}
	return nil, context.Cause(ctx)
}

// startProgress starts the run's progress report: live bars when stderr is
// a terminal (log lines then go through the display, printed above the
// bars, and the returned logger writes there), else INFO lines every
// e.progressEvery (default 30 s) through log.
func startProgress(o options, e env, log *slog.Logger) (*progress.Meter, *slog.Logger) {
	if progress.IsTerminal(e.stderr) {
		meter, w := progress.NewTerminal(e.stderr)
		level, _ := logging.ParseLevel(o.logLevel) // checked before the run
		if barLog, err := logging.New(w, level, o.logFormat); err == nil {
			return meter, barLog
		}
		meter.Stop()
	}
	return progress.NewLog(log, e.progressEvery, e.now), log
}
