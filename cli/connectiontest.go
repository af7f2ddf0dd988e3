package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/config"
	"github.com/tap-recurly/tap-recurly/internal/logging"
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
// (limit=1) of the site-level listing each selected stream reads, all of them
// at once through the one client (and so within its quota), and prints a
// per-stream OK / FAILED table with the reason on stderr (as JSON log lines
// with --log-format json). Streams sharing a listing (accounts and
// billing_info) share one request. Nothing is written to stdout. It fails
// unless every selected stream passed.
func runConnectionTest(ctx context.Context, o options, cfg *config.Config, e env, log *slog.Logger) error {
	selected, err := selectStreams(o, log)
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

	type check struct {
		request string // method and path with query, as sent
		records int
		err     error
	}
	checks := map[string]*check{}
	var wg sync.WaitGroup
	for _, s := range selected {
		src := s.Stream.Source
		if checks[src] != nil {
			continue
		}
		c := &check{}
		checks[src] = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			page, resp, err := api.ListPage(ctx, src, client.ListParams{Limit: 1, Sort: "updated_at", Order: "asc"})
			if err != nil {
				c.err = err
				return
			}
			c.records = len(page.Records)
			c.request = "GET /sites/" + cfg.SiteID() + "/" + src
			if resp != nil && resp.Response != nil && resp.Request != nil {
				c.request = "GET " + resp.Request.URL.RequestURI()
			}
		}()
	}
	wg.Wait()

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
		default:
			row.detail = fmt.Sprintf("%s: %d record(s) on the first page", c.request, c.records)
			if st.Embedded != "" {
				row.detail += fmt.Sprintf(" (%s comes from the %s listing's embedded %s)", st.Name, st.Source, st.Embedded)
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
