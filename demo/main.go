// Command demo shows tap-recurly working end to end with no credentials: it
// starts the simulated Recurly site on a free loopback port, runs the real
// tap binary for a full sync and then an incremental one (after touching a
// few records), writes everything to demo/out/ and prints a per-stream
// table of records emitted and the final bookmarks. Then it syncs once more
// in the dbt_recurly layout and prints its tables, and, with a PostgreSQL
// ($TAP_RECURLY_DEMO_PG, or one it starts), the monthly recurring revenue of
// the last three months computed there.
//
// Run it with `make demo` (which builds bin/tap-recurly first).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tap-recurly/tap-recurly/recurlytest"
	"github.com/tap-recurly/tap-recurly/streams"
)

func main() {
	tap := flag.String("tap", "bin/tap-recurly", "path of the tap binary")
	out := flag.String("out", "demo/out", "output folder")
	seed := flag.Int64("seed", 1, "seed of the simulated site's data")
	flag.Parse()
	if err := run(*tap, *out, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(tap, out string, seed int64) error {
	srv, err := recurlytest.NewServer(recurlytest.Config{Seed: seed})
	if err != nil {
		return err
	}
	defer srv.Close()
	site := srv.Site
	total := site.Counts().Total()
	fmt.Printf("Simulated Recurly site %s at %s with %d records.\n\n", site.SiteID(), srv.URL, total)

	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	cfg := map[string]any{
		"api_key":    site.APIKey(),
		"subdomain":  strings.TrimPrefix(site.SiteID(), "subdomain-"),
		"start_date": "2019-01-01T00:00:00Z",
		"base_url":   srv.URL,
	}
	cfgPath := filepath.Join(out, "config.json")
	if err := writeJSON(cfgPath, cfg); err != nil {
		return err
	}

	full, err := sync(tap, out, "full", cfgPath)
	if err != nil {
		return err
	}
	touched := 0
	for _, r := range []string{"accounts", "invoices", "subscriptions", "transactions"} {
		touched += len(site.Touch(r, 5))
	}
	fmt.Printf("\nTouched %d records on the site; running an incremental sync from %s.\n\n", touched, full.statePath)
	incr, err := sync(tap, out, "incremental", cfgPath, "--state", full.statePath)
	if err != nil {
		return err
	}

	printStreams(full, incr)
	if err := dbtRecurly(tap, out, cfg); err != nil {
		return err
	}
	fmt.Printf("\nOutput in %s: full.jsonl, incremental.jsonl, dbt_recurly.jsonl (Singer messages), *.state.json, *.log (stderr).\n", out)
	return nil
}

// printStreams prints the streams layout's table: records of both runs and
// the final bookmarks.
func printStreams(full, incr *result) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stream\tfull sync records\tincremental records\tfinal bookmark\t")
	for _, st := range streams.All() { // every stream, the opt-in ones included
		n := st.Name
		if _, ran := full.counts[n]; !ran && st.OptIn {
			fmt.Fprintf(tw, "%s\t-\t-\topt-in: %s\t\n", n, "not selected without a catalog")
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t\n", n, full.counts[n], incr.counts[n], incr.bookmarks[n])
	}
	tw.Flush()
	fmt.Println("\nOpt-in streams (coupon_redemptions, account_notes) cost one request per account on every run;")
	fmt.Println("select them in a catalog (tap-recurly --discover, set \"selected\": true) to sync them.")
}

// result is what one run of the tap wrote: RECORDs per stream, the final
// bookmarks, and where its output and last STATE are.
type result struct {
	counts            map[string]int
	bookmarks         map[string]string
	statePath, output string
}

// sync runs the tap once with args after --config, writing stdout to
// NAME.jsonl, stderr to NAME.log and the last STATE to NAME.state.json.
func sync(tap, out, name, cfgPath string, args ...string) (*result, error) {
	args = append([]string{"--config", cfgPath}, args...)
	cmd := exec.Command(tap, args...)
	var stdout bytes.Buffer
	logf, err := os.Create(filepath.Join(out, name+".log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = &stdout, logf
	began := time.Now()
	fmt.Printf("$ %s %s > %s/%s.jsonl\n", tap, strings.Join(args, " "), out, name)
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s sync failed (%v); see %s", name, err, logf.Name())
	}
	res := &result{statePath: filepath.Join(out, name+".state.json"), output: filepath.Join(out, name+".jsonl")}
	if err := os.WriteFile(res.output, stdout.Bytes(), 0o644); err != nil {
		return nil, err
	}
	lines, lastState, err := res.tally(stdout.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%s sync: %w", name, err)
	}
	if err := os.WriteFile(res.statePath, append(lastState, '\n'), 0o644); err != nil {
		return nil, err
	}
	fmt.Printf("  %d Singer messages in %s\n", lines, time.Since(began).Round(time.Millisecond))
	return res, nil
}

// tally counts the RECORDs of each stream in a run's output and reads the
// bookmarks of its last STATE, which it returns.
func (res *result) tally(stdout []byte) (lines int, lastState json.RawMessage, err error) {
	res.counts, res.bookmarks = map[string]int{}, map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for ; sc.Scan(); lines++ {
		var msg struct {
			Type   string          `json:"type"`
			Stream string          `json:"stream"`
			Value  json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(sc.Bytes(), &msg); err != nil {
			return 0, nil, fmt.Errorf("a line is not JSON: %v", err)
		}
		switch msg.Type {
		case "SCHEMA":
			res.counts[msg.Stream] += 0 // a selected stream, even with no records
		case "RECORD":
			res.counts[msg.Stream]++
		case "STATE":
			lastState = msg.Value
		}
	}
	if lastState == nil {
		return 0, nil, errors.New("no STATE emitted")
	}
	var st struct {
		Bookmarks map[string]map[string]string `json:"bookmarks"`
	}
	_ = json.Unmarshal(lastState, &st)
	for stream, keys := range st.Bookmarks {
		for k, v := range keys {
			res.bookmarks[stream] = k + " " + v
		}
	}
	return lines, lastState, sc.Err()
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}
