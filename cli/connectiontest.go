package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/config"
	"github.com/tap-recurly/tap-recurly/internal/logging"
	"github.com/tap-recurly/tap-recurly/layouts"
	"github.com/tap-recurly/tap-recurly/streams"
)

// Connection test results, as printed in the RESULT column.
const (
	testOK     = "OK"
	testFailed = "FAILED"
)

// testRetries is the number of retries a connection check allows each request.
const testRetries = 2

// testRow is one line of the connection test's report.
type testRow struct {
	stream, result, detail string
}

// runConnectionTest checks credentials and reachability: it fetches one page
// (limit=1) of the site-level listing each selected stream reads, and for a
// per-parent stream the child list of the first parent, all of them at once
// through the one client (and so within its quota), and prints a
// per-stream OK / FAILED table with the reason on stderr (as JSON log lines
// with --log-format json). Streams sharing a listing (accounts and
// billing_info) share one request. Nothing is written to stdout. It fails
// unless every selected stream passed.
func runConnectionTest(ctx context.Context, o options, cfg *config.Config, e env, log *slog.Logger) error {
	lay, err := layouts.Get(cfg.Layout)
	if err != nil {
		return err
	}
	selected, err := selectStreams(o, lay, log)
	if err != nil {
		return err
	}
	if len(selected) == 0 {
		return errors.New("connection test: no stream is selected, so nothing was checked")
	}
	// A connection check answers quickly: two retries, waits of 1 s to 5 s, so an outage is reported in
	// seconds rather than after the sync's minute or two of retries.
	api, err := newClient(cfg, log, client.WithRetries(testRetries, time.Second, 5*time.Second))
	if err != nil {
		return err
	}

	checks := runChecks(ctx, api, cfg.SiteID(), selected)
	rows := make([]testRow, 0, len(selected))
	failed := 0
	for _, s := range selected {
		st := s.Stream
		c := checks[st.Source]
		row := testRow{stream: st.Name, result: testOK}
		switch {
		case c.err != nil:
			failed++
			row.result = testFailed
			row.detail = strings.Join(strings.Fields(c.err.Error()), " ")
		case c.request == "":
			row.detail = fmt.Sprintf("no %s on the site to read %s for (the %s list answered)", parentNoun(st), st.Path(), st.Parent)
		default:
			row.detail = fmt.Sprintf("%s: %d record(s) on the first page", c.request, c.records)
			if st.Embedded != "" {
				row.detail += fmt.Sprintf(" (%s comes from the %s listing's embedded %s)", st.Name, st.Source, st.Embedded)
			}
			if st.PerParent() {
				row.detail += fmt.Sprintf(" (the first %s; a sync reads one such list per %s)", parentNoun(st), parentNoun(st))
			}
		}
		rows = append(rows, row)
	}
	var notes []string
	if d, ok := api.Deprecation(); ok {
		notes = append(notes, "WARNING: "+d.String())
	}
	if err := writeTestReport(e, o.logFormat, rows, notes); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("connection test: %d of %d selected streams failed", failed, len(selected))
	}
	log.Info(fmt.Sprintf("connection test: all %d selected streams OK", len(selected)))
	return nil
}

// writeTestReport prints the rows on stderr: an aligned table in text
// format, or one JSON log line per stream in json format (so every stderr
// line stays JSON), then the notes (such as Recurly's deprecation notice)
// under it, as WARN lines in json format. The report is shown whatever the
// log level.
func writeTestReport(e env, format string, rows []testRow, notes []string) error {
	if format == "json" {
		report, err := logging.New(e.stderr, slog.LevelDebug, format)
		if err != nil {
			return err
		}
		for _, r := range rows {
			level := slog.LevelInfo
			if r.result != testOK {
				level = slog.LevelError
			}
			report.Log(context.Background(), level, "connection test",
				"stream", r.stream, "result", r.result, "detail", r.detail)
		}
		for _, n := range notes {
			report.Log(context.Background(), slog.LevelWarn, n)
		}
		return nil
	}
	tw := tabwriter.NewWriter(e.stderr, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tRESULT\tDETAIL")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", r.stream, r.result, r.detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range notes {
		if _, err := fmt.Fprintln(e.stderr, n); err != nil {
			return err
		}
	}
	return nil
}

// check is the answer to one connection-test request.
type check struct {
	request string // method and path with query, as sent; "" when there was no parent to ask for
	records int
	err     error
}

// runChecks makes one request per distinct listing of the selected streams,
// concurrently; a per-parent stream's request is its child list of the
// first parent, found with one request to the parent list (shared by the
// streams of one parent).
func runChecks(ctx context.Context, api *client.Client, siteID string, selected []streams.Selected) map[string]*check {
	checks := map[string]*check{}
	parents := map[streams.Where]func() (string, error){}
	var wg sync.WaitGroup
	for _, s := range selected {
		st := s.Stream
		if checks[st.Source] != nil {
			continue
		}
		c := &check{}
		checks[st.Source] = c
		var parent func() (string, error)
		if st.PerParent() {
			key := streams.Where{Field: st.Parent, Value: st.ParentWhere.Field + "=" + st.ParentWhere.Value}
			if parents[key] == nil {
				parents[key] = sync.OnceValues(func() (string, error) { return firstParent(ctx, api, st) })
			}
			parent = parents[key]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			*c = checkList(ctx, api, siteID, st, parent)
		}()
	}
	wg.Wait()
	return checks
}

// checkList asks for the first page (limit=1) of a stream's list; for a
// per-parent stream, of the first parent's child list, with only the
// parameters that list takes.
func checkList(ctx context.Context, api *client.Client, siteID string, st streams.Stream, parent func() (string, error)) check {
	path := st.Source
	if parent != nil {
		id, err := parent()
		if err != nil || id == "" {
			return check{err: err}
		}
		path = fmt.Sprintf(st.Source, url.PathEscape(id))
	}
	c := check{request: "GET /sites/" + siteID + "/" + path}
	p := client.ListParams{Limit: 1, Sort: "updated_at", Order: "asc"}
	if st.Params != streams.AllParams {
		p = client.ListParams{Unpaged: true} // the list takes no limit: it answers whole
	}
	page, resp, err := api.ListPage(ctx, path, p)
	if err != nil {
		return check{err: err}
	}
	c.records = len(page.Records)
	if resp != nil && resp.Response != nil && resp.Request != nil {
		c.request = "GET " + resp.Request.URL.RequestURI()
	}
	return c
}

// firstParent is the id of the first record of a per-parent stream's
// parent list that has children (by ParentWhere), "" when there is none on
// the first page: one request (limit 1, or a full page when only some
// parents qualify).
func firstParent(ctx context.Context, api *client.Client, st streams.Stream) (string, error) {
	p := client.ListParams{Limit: 1, Sort: "created_at", Order: "asc"}
	if st.ParentWhere.Field != "" {
		p.Limit = streams.PageSize
	}
	page, _, err := api.ListPage(ctx, st.Parent, p)
	if err != nil {
		return "", err
	}
	for _, rec := range page.Records {
		var fields map[string]any
		if err := json.Unmarshal(rec, &fields); err != nil {
			return "", fmt.Errorf("GET %s: %w", st.Parent, err)
		}
		id, _ := fields["id"].(string)
		if w := st.ParentWhere; id != "" && (w.Field == "" || fields[w.Field] == w.Value) {
			return id, nil
		}
	}
	return "", nil
}

// parentNoun names a per-parent stream's parent records, e.g. "account",
// "coupon with coupon_type bulk".
func parentNoun(st streams.Stream) string {
	n := strings.TrimSuffix(st.Parent, "s")
	if w := st.ParentWhere; w.Field != "" {
		n += fmt.Sprintf(" with %s %s", w.Field, w.Value)
	}
	return n
}
