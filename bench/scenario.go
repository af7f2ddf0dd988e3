package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tap-recurly/tap-recurly/recurlytest"
	"github.com/tap-recurly/tap-recurly/streams"
)

// Purposes a scenario serves; each maps to one target of issue 6.
const (
	forRequests = "requests"
	forCPU      = "cpu"
	forMemory   = "memory"
	forQuota    = "quota"
	// forIncremental runs the tap a second time from the first run's last
	// STATE, with nothing changed on the site, and counts its requests.
	forIncremental = "incremental"
	// forFloor measures the tap's CPU against the floor reader's.
	forFloor = "floor"
)

// scenario is one tap run against one simulated site.
type scenario struct {
	Name       string
	For        []string // which targets it measures
	Records    int      // site size, spread over the resources in DefaultCounts' proportions
	MaxWorkers int      // the tap's max_workers (it also splits each listing into that many windows)
	QuotaLimit int      // the tap's quota_limit, percent
	// The site's rate limit: RateLimit requests per RateWindow, sliding in
	// RateBuckets buckets; 0 RateLimit means effectively unlimited.
	RateLimit   int
	RateWindow  time.Duration
	RateBuckets int
	Latency     time.Duration // added by the site before every response
	// NoGzip makes the site answer plain JSON; by default it gzips, as
	// Recurly's edge does for Go's default Accept-Encoding.
	NoGzip bool
	// Catalog runs the tap with a catalog selecting every stream, the
	// opt-in per-account ones included; otherwise it runs without one (the
	// default selection).
	Catalog bool
}

// benchAPIKey is shaped like a real Recurly private key (32 hex
// characters), so the client's work on it (redaction) is as in production.
const benchAPIKey = "5f2c9a1e7b3d4068a9c1e2f3b4d5a6c7"

// unlimited is a rate limit that no benchmark run comes near.
const unlimited = 1 << 30

// quotaSite is Recurly's rate limit (a 5-minute window sliding by the
// minute) scaled down by 30 in time: 100 requests per 10 s, sliding in 2 s
// buckets, so a run spans several windows in about half a minute.
func quotaSite(sc scenario) scenario {
	sc.RateLimit, sc.RateWindow, sc.RateBuckets, sc.Latency = 100, 10*time.Second, 5, 150*time.Millisecond
	return sc
}

// fixedWindow is quotaSite with a fixed window (one bucket): the count
// resets whole at X-RateLimit-Reset, so a probe after a reset never meets a
// full window. It separates pacing from the sliding window's probe problem.
func fixedWindow(sc scenario) scenario {
	sc = quotaSite(sc)
	sc.RateBuckets = 1
	return sc
}

// fullPlan is what `make bench` runs.
func fullPlan() []scenario {
	return []scenario{
		{Name: "200k-min-requests", For: []string{forRequests, forCPU}, Records: 200_000, MaxWorkers: 1, QuotaLimit: 100},
		{Name: "200k-default", For: []string{forRequests, forCPU, forIncremental, forFloor}, Records: 200_000, MaxWorkers: 4, QuotaLimit: 100},
		{Name: "200k-plain-json", For: []string{forCPU, forFloor}, Records: 200_000, MaxWorkers: 4, QuotaLimit: 100, NoGzip: true},
		{Name: "100k-default", For: []string{forMemory}, Records: 100_000, MaxWorkers: 4, QuotaLimit: 100},
		// Every stream, the per-parent ones included: about 6,000 accounts,
		// so about 12,000 requests for coupon_redemptions and account_notes.
		{Name: "50k-all-streams", For: []string{forRequests, forIncremental}, Records: 50_000, MaxWorkers: 4, QuotaLimit: 100, Catalog: true},
		{Name: "1m-default", For: []string{forMemory, forCPU}, Records: 1_000_000, MaxWorkers: 4, QuotaLimit: 100},
		// About 300 requests at 10 allowed per second, and about 90 at 3.
		quotaSite(scenario{Name: "quota-100", For: []string{forQuota}, Records: 56_000, MaxWorkers: 4, QuotaLimit: 100}),
		quotaSite(scenario{Name: "quota-30", For: []string{forQuota}, Records: 12_000, MaxWorkers: 4, QuotaLimit: 30}),
		fixedWindow(scenario{Name: "quota-100-fixed-window", For: []string{forQuota}, Records: 56_000, MaxWorkers: 4, QuotaLimit: 100}),
	}
}

// quickPlan is a smoke run of every kind of scenario on small sites.
func quickPlan() []scenario {
	return []scenario{
		{Name: "20k-min-requests", For: []string{forRequests, forCPU}, Records: 20_000, MaxWorkers: 1, QuotaLimit: 100},
		{Name: "20k-default", For: []string{forRequests, forCPU, forIncremental, forFloor}, Records: 20_000, MaxWorkers: 4, QuotaLimit: 100},
		{Name: "20k-plain-json", For: []string{forCPU, forFloor}, Records: 20_000, MaxWorkers: 4, QuotaLimit: 100, NoGzip: true},
		{Name: "10k-default", For: []string{forMemory}, Records: 10_000, MaxWorkers: 4, QuotaLimit: 100},
		{Name: "10k-all-streams", For: []string{forRequests, forIncremental}, Records: 10_000, MaxWorkers: 4, QuotaLimit: 100, Catalog: true},
		{Name: "50k-default", For: []string{forMemory}, Records: 50_000, MaxWorkers: 4, QuotaLimit: 100},
		quotaSite(scenario{Name: "quota-100", For: []string{forQuota}, Records: 12_000, MaxWorkers: 4, QuotaLimit: 100}),
		quotaSite(scenario{Name: "quota-30", For: []string{forQuota}, Records: 4_000, MaxWorkers: 4, QuotaLimit: 30}),
	}
}

// selectRuns keeps the scenarios named in the comma-separated list names.
func selectRuns(plan []scenario, names string) []scenario {
	want := map[string]bool{}
	for _, n := range strings.Split(names, ",") {
		want[strings.TrimSpace(n)] = true
	}
	var out []scenario
	for _, sc := range plan {
		if want[sc.Name] {
			out = append(out, sc)
		}
	}
	return out
}

func (sc scenario) serves(purpose string) bool {
	for _, p := range sc.For {
		if p == purpose {
			return true
		}
	}
	return false
}

// allowedRate is the tap's share of the site's rate limit, in requests per
// second: floor(limit * quota_limit / 100) per window, as the client budgets.
func (sc scenario) allowedRate() float64 {
	if sc.RateLimit == 0 || sc.RateWindow == 0 {
		return 0
	}
	return float64(sc.RateLimit*sc.QuotaLimit/100) / sc.RateWindow.Seconds()
}

// outcome is one measured run.
type outcome struct {
	scenario
	Config    string             // the tap's config.json (api_key shown as in the file: the site's fake key)
	Command   string             // the tap's command line
	Counts    recurlytest.Counts // what the site held
	PerStream map[string]int     // records per stream the site holds (billing_info: accounts with billing info)
	Expected  int64              // sum of PerStream
	Bound     int                // the request target: sum of ceil(records/200) plus one per stream, plus the per-parent streams' parentCost
	Requests  int                // requests the site received
	Statuses  map[int]int        // responses by HTTP status
	SiteBuild time.Duration      // time to generate the site
	Run       spawnResult

	// TapCPU and FloorCPU are the least CPU time (user+sys) of floorRuns
	// runs each of the tap and of the floor reader (every page received and
	// copied out unparsed), taken in turn on the same site (forFloor
	// scenarios; the least of several is the figure least disturbed by the
	// shared machine).
	TapCPU, FloorCPU time.Duration
	// Listings is how many site-level lists the run reads.
	Listings int
	// ParentCost is what the run's per-parent streams add to a no-change
	// run (parentCost): one request per parent, and the parent ids.
	ParentCost int
	// SecondRequests and SecondCPU are the requests and the tap's CPU time
	// (user+sys) of a second run from the first run's last STATE with
	// nothing changed (incremental scenarios).
	SecondRequests int
	SecondCPU      time.Duration
	// WorstWindow is the most of the tap's requests the site saw in any
	// window of RateWindow (quota scenarios), and Budget the tap's share
	// of the limit, floor(RateLimit*QuotaLimit/100).
	WorstWindow, Budget int
}

// FloorRatio is the tap's CPU over the floor reader's on the same site
// (both read every record once), or 0 without a floor run.
func (o *outcome) FloorRatio() float64 {
	if o.FloorCPU <= 0 {
		return 0
	}
	return o.TapCPU.Seconds() / o.FloorCPU.Seconds()
}

// floorRuns is how many times the tap and the floor reader each run for the
// CPU ratio, taking turns; the least of each is compared. On a shared 2-core
// machine one run's CPU varies by a fifth, so 5 rather than 3.
const floorRuns = 5

// worstWindow is the most requests of log inside any window of length w.
func worstWindow(log []recurlytest.Request, w time.Duration) int {
	n, _ := recurlytest.BusiestWindow(recurlytest.Times(log), w)
	return n
}

// CPU is the tap's user+sys CPU time.
func (o *outcome) CPU() time.Duration { return o.Run.User + o.Run.Sys }

// RecordsPerCPUSecond is records emitted per second of the tap's CPU time.
func (o *outcome) RecordsPerCPUSecond() float64 {
	if o.CPU() <= 0 {
		return 0
	}
	return float64(o.Run.Count.Records) / o.CPU().Seconds()
}

// QuotaTarget is the wall-time target of a quota-bound run: 1.15 times the
// requests made divided by the allowed request rate.
func (o *outcome) QuotaTarget() time.Duration {
	r := o.allowedRate()
	if r == 0 {
		return 0
	}
	return time.Duration(1.15 * float64(o.Requests) / r * float64(time.Second))
}

// perStream counts the records of each site-level stream a run selects:
// each listed resource, and billing_info as the accounts that have one
// (per-parent streams are counted by parentCost).
func perStream(site *recurlytest.Site, selected []streams.Stream) map[string]int {
	out := map[string]int{}
	for _, st := range selected {
		switch {
		case st.PerParent():
		case st.Embedded != "":
			out[st.Name] = len(site.BillingInfoKeys())
		default:
			out[st.Name] = len(site.Keys(st.Source))
		}
	}
	return out
}

// requestBound is issue 6's request target: the sum over the streams of
// ceil(records/pageSize), plus one request per stream.
func requestBound(records map[string]int, pageSize int) int {
	n := 0
	for _, r := range records {
		n += (r+pageSize-1)/pageSize + 1
	}
	return n
}

// measure builds the scenario's site, runs the tap once against it and
// collects the figures.
func measure(sp *spawner, tap, work string, sc scenario) (*outcome, error) {
	rate := sc.RateLimit
	if rate == 0 {
		rate = unlimited
	}
	fmt.Printf("%s: generating a site of about %d records...\n", sc.Name, sc.Records)
	built := time.Now()
	srv, err := recurlytest.NewServer(recurlytest.Config{
		Seed:        6,
		Counts:      recurlytest.ScaledCounts(sc.Records),
		RateLimit:   rate,
		RateWindow:  sc.RateWindow,
		RateBuckets: sc.RateBuckets,
		Latency:     sc.Latency,
		NoGzip:      sc.NoGzip,
		APIKey:      benchAPIKey,
	})
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	o := &outcome{scenario: sc, Counts: srv.Site.Counts(), SiteBuild: time.Since(built)}
	selected := selectedStreams(sc)
	o.PerStream = perStream(srv.Site, selected)
	for _, st := range selected {
		if st.PerParent() {
			o.PerStream[st.Name] = childRecords(srv.Site, st)
		}
	}
	for _, n := range o.PerStream {
		o.Expected += int64(n)
	}
	o.Bound = requestBound(perStream(srv.Site, selected), streams.PageSize) + parentCost(srv.Site, selected, sc.MaxWorkers, true)
	o.ParentCost = parentCost(srv.Site, selected, sc.MaxWorkers, false)

	dir := filepath.Join(work, sc.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cfg := map[string]any{
		"api_key":     srv.Site.APIKey(),
		"subdomain":   strings.TrimPrefix(srv.Site.SiteID(), "subdomain-"),
		"start_date":  "2019-01-01T00:00:00Z",
		"base_url":    srv.URL,
		"max_workers": sc.MaxWorkers,
		"quota_limit": sc.QuotaLimit,
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfgPath, cfgJSON, 0o600); err != nil {
		return nil, err
	}
	o.Config = string(cfgJSON)
	args := []string{"--config", cfgPath}
	o.Command = "bin/tap-recurly --config config.json > /dev/null"
	if sc.Catalog {
		catPath := filepath.Join(dir, "catalog.json")
		if err := writeCatalogSelectingAll(catPath); err != nil {
			return nil, err
		}
		args = append(args, "--catalog", catPath)
		o.Command = "bin/tap-recurly --config config.json --catalog catalog.json > /dev/null  # catalog.json: every stream selected"
	}

	srv.Site.ResetRequests()
	fmt.Printf("%s: %d records on the site (built in %s); running the tap...\n", sc.Name, o.Expected, o.SiteBuild.Round(time.Millisecond))
	res, err := sp.run(spawnRequest{Path: tap, Args: args, StderrPath: filepath.Join(dir, "tap.log")})
	o.Run = res
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("the tap exited with status %d; see %s", res.ExitCode, filepath.Join(dir, "tap.log"))
	}
	if res.Count.Records < o.Expected {
		return nil, fmt.Errorf("the tap emitted %d records, fewer than the %d on the site", res.Count.Records, o.Expected)
	}
	o.Statuses = map[int]int{}
	log := srv.Site.Requests()
	for _, r := range log {
		o.Requests++
		o.Statuses[r.Status]++
	}
	if err := writeRequestLog(filepath.Join(dir, "requests.tsv"), log); err != nil {
		return nil, err
	}
	o.Listings = len(floorSources(selected))
	if sc.serves(forQuota) {
		o.WorstWindow, o.Budget = worstWindow(log, sc.RateWindow), sc.RateLimit*sc.QuotaLimit/100
	}
	if sc.serves(forIncremental) {
		if o.SecondRequests, o.SecondCPU, err = runSecond(sp, tap, dir, args, srv.Site, res.Count.LastState); err != nil {
			return nil, err
		}
	}
	if sc.serves(forFloor) {
		if o.TapCPU, o.FloorCPU, err = compareFloor(sp, tap, dir, cfgPath, srv.Site, o.CPU()); err != nil {
			return nil, err
		}
	}
	if n := o.Requests - o.Statuses[http.StatusOK]; n > 0 && !sc.serves(forQuota) {
		return nil, fmt.Errorf("%d of %d requests were not answered 200: %v", n, o.Requests, o.Statuses)
	}
	return o, nil
}

// writeRequestLog writes the site's request log as tab-separated lines:
// arrival in seconds since the first request, duration, status, fault, path
// and query. It is kept with the tap's log for looking into a run.
func writeRequestLog(path string, log []recurlytest.Request) error {
	var b strings.Builder
	b.WriteString("at_s\tduration_ms\tstatus\tfault\tpath\n")
	for _, r := range log {
		fmt.Fprintf(&b, "%.3f\t%.1f\t%d\t%s\t%s?%s\n", r.At.Sub(log[0].At).Seconds(), float64(r.Duration.Microseconds())/1000,
			r.Status, r.Fault, r.Path, r.RawQuery)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// runSecond runs the tap again from the first run's last STATE line (the
// site unchanged) and returns the requests it made and its CPU time.
func runSecond(sp *spawner, tap, dir string, args []string, site *recurlytest.Site, lastState string) (int, time.Duration, error) {
	var msg struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal([]byte(lastState), &msg); err != nil {
		return 0, 0, fmt.Errorf("the first run's last STATE: %w", err)
	}
	statePath := filepath.Join(dir, "state.json")
	if err := os.WriteFile(statePath, msg.Value, 0o600); err != nil {
		return 0, 0, err
	}
	site.ResetRequests()
	res, err := sp.run(spawnRequest{Path: tap, Args: append(slices.Clone(args), "--state", statePath), StderrPath: filepath.Join(dir, "tap-second.log")})
	if err != nil {
		return 0, 0, err
	}
	if res.ExitCode != 0 {
		return 0, 0, fmt.Errorf("the second run exited with status %d; see %s", res.ExitCode, filepath.Join(dir, "tap-second.log"))
	}
	return len(site.Requests()), res.User + res.Sys, nil
}

// compareFloor runs this program as the floor reader (floor.go) and the
// tap in turn, floorRuns times each, on the same site, and returns the least
// CPU time of each (first is the tap's first run, already measured).
func compareFloor(sp *spawner, tap, dir, cfgPath string, site *recurlytest.Site, first time.Duration) (tapCPU, floorCPU time.Duration, err error) {
	self, err := os.Executable()
	if err != nil {
		return 0, 0, err
	}
	cpu := func(path string, args ...string) (time.Duration, error) {
		res, err := sp.run(spawnRequest{Path: path, Args: args, StderrPath: filepath.Join(dir, "floor.log")})
		if err != nil {
			return 0, err
		}
		if res.ExitCode != 0 {
			return 0, fmt.Errorf("%s exited with status %d; see %s", path, res.ExitCode, filepath.Join(dir, "floor.log"))
		}
		return res.User + res.Sys, nil
	}
	tapCPU, floorCPU = first, time.Duration(1<<62)
	for i := range floorRuns {
		f, err := cpu(self, "-floor", cfgPath)
		if err != nil {
			return 0, 0, err
		}
		floorCPU = min(floorCPU, f)
		if i == 0 {
			continue // the tap's first run is the scenario's own
		}
		t, err := cpu(tap, "--config", cfgPath)
		if err != nil {
			return 0, 0, err
		}
		tapCPU = min(tapCPU, t)
	}
	site.ResetRequests()
	return tapCPU, floorCPU, nil
}
