package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tap-recurly/tap-recurly/streams"
)

// machine describes where the figures were taken.
type machine struct {
	CPUs      int
	CPUModel  string
	GoVersion string
	LoadAvg   string // /proc/loadavg's first three fields when the run began
	Date      time.Time
}

func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), CPUModel: "unknown", GoVersion: runtime.Version(), LoadAvg: "unknown", Date: time.Now().UTC()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	return m
}

// Report-wide thresholds from issue 6.
const (
	cpuTarget      = 100_000 // records per CPU-second
	cpuMinRecords  = 200_000 // on a site of at least this many records
	rssTargetMB    = 64.0    // peak RSS for a million records
	rssAtRecords   = 1_000_000
	quotaTolerance = 1.15
)

// target is one line of the targets table.
type target struct {
	Name    string
	Run     string
	Figure  string
	Target  string
	Verdict string // "met", "NOT met" or "n/a (why)"
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func mb(kb int64) float64 { return float64(kb) / 1024 }

// targets evaluates every outcome against the target it serves.
func (r *report) targets() []target {
	var out []target
	var rss []*outcome
	for _, o := range r.Outcomes {
		if o.serves(forRequests) {
			out = append(out, target{
				Name:    fmt.Sprintf("requests, max_workers %d", o.MaxWorkers),
				Run:     o.Name,
				Figure:  fmt.Sprintf("%d requests", o.Requests),
				Target:  fmt.Sprintf("<= %d (sum of ceil(records/200) + 1 per stream%s)", o.Bound, perParentNote(o, true)),
				Verdict: verdict(o.Requests <= o.Bound),
			})
		}
	}
	for _, o := range r.Outcomes {
		if o.serves(forCPU) {
			t := target{
				Name:    "CPU, every field selected",
				Run:     o.Name,
				Figure:  fmt.Sprintf("%.0f records/CPU-s (%d records, %.2f s user+sys)", o.RecordsPerCPUSecond(), o.Run.Count.Records, o.CPU().Seconds()),
				Target:  fmt.Sprintf(">= %d records/CPU-s on >= %d records", cpuTarget, cpuMinRecords),
				Verdict: verdict(o.RecordsPerCPUSecond() >= cpuTarget),
			}
			if o.Expected < cpuMinRecords {
				t.Verdict = "n/a (site too small)"
			}
			out = append(out, t)
		}
	}
	for _, o := range r.Outcomes {
		if o.serves(forFloor) {
			out = append(out, target{
				Name:    "CPU over the I/O floor, " + map[bool]string{false: "gzip", true: "plain JSON"}[o.NoGzip],
				Run:     o.Name,
				Figure:  fmt.Sprintf("x%.2f (least user+sys of %d runs each: tap %.2f s, floor reader %.2f s)", o.FloorRatio(), floorRuns, o.TapCPU.Seconds(), o.FloorCPU.Seconds()),
				Target:  "<= x2.0",
				Verdict: verdict(o.FloorRatio() <= 2.0),
			})
		}
		if o.serves(forIncremental) {
			out = append(out, target{
				Name:    "requests, incremental run with no changes",
				Run:     o.Name,
				Figure:  fmt.Sprintf("%d requests (tap CPU %.2f s)", o.SecondRequests, o.SecondCPU.Seconds()),
				Target:  fmt.Sprintf("<= %d (one per listing%s)", o.Listings+o.ParentCost, perParentNote(o, false)),
				Verdict: verdict(o.SecondRequests <= o.Listings+o.ParentCost),
			})
		}
		if o.serves(forMemory) {
			rss = append(rss, o)
		}
	}
	sort.Slice(rss, func(i, j int) bool { return rss[i].Expected < rss[j].Expected })
	for _, o := range rss {
		t := target{
			Name:   "peak RSS",
			Run:    o.Name,
			Figure: fmt.Sprintf("%.1f MB at %d records", mb(o.Run.MaxRSSKB), o.Expected),
			Target: fmt.Sprintf("<= %.0f MB at %d records, flat as data grows", rssTargetMB, rssAtRecords),
		}
		switch {
		case o.Expected >= rssAtRecords:
			t.Verdict = verdict(mb(o.Run.MaxRSSKB) <= rssTargetMB)
		case len(rss) > 1 && o == rss[0]:
			t.Verdict = "n/a (baseline for flatness)"
		default:
			t.Verdict = "n/a (site below 1M records)"
		}
		out = append(out, t)
	}
	if len(rss) > 1 {
		lo, hi := rss[0], rss[len(rss)-1]
		growth := mb(hi.Run.MaxRSSKB) / mb(lo.Run.MaxRSSKB)
		dataGrowth := float64(hi.Expected) / float64(lo.Expected)
		out = append(out, target{
			Name:    "peak RSS, flat",
			Run:     lo.Name + " -> " + hi.Name,
			Figure:  fmt.Sprintf("x%.2f RSS for x%.1f records", growth, dataGrowth),
			Target:  "flat (we take <= x1.25)",
			Verdict: verdict(growth <= 1.25),
		})
	}
	for _, o := range r.Outcomes {
		if o.serves(forQuota) {
			n429 := o.Statuses[429]
			window := "sliding window"
			if o.RateBuckets == 1 {
				window = "fixed window"
			}
			out = append(out, target{
				Name:    fmt.Sprintf("worst window over the budget, quota_limit %d, %s", o.QuotaLimit, window),
				Run:     o.Name,
				Figure:  fmt.Sprintf("%d over (%d requests in the busiest %s, budget %d)", max(0, o.WorstWindow-o.Budget), o.WorstWindow, o.RateWindow, o.Budget),
				Target:  "0",
				Verdict: verdict(o.WorstWindow <= o.Budget),
			})
			out = append(out, target{
				Name: fmt.Sprintf("quota-bound wall time, quota_limit %d, %s", o.QuotaLimit, window),
				Run:  o.Name,
				Figure: fmt.Sprintf("%.1f s for %d requests at %.1f allowed/s; %d answered 429",
					o.Run.Wall.Seconds(), o.Requests, o.allowedRate(), n429),
				Target:  fmt.Sprintf("<= %.1f s (1.15 x requests / allowed rate), no 429", o.QuotaTarget().Seconds()),
				Verdict: verdict(o.Run.Wall <= o.QuotaTarget() && n429 == 0),
			})
		}
	}
	return out
}

func printTargets(w io.Writer, ts []target) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tRUN\tFIGURE\tTARGET VALUE\tVERDICT")
	for _, t := range ts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", t.Name, t.Run, t.Figure, t.Target, t.Verdict)
	}
	tw.Flush()
}

func printOutcome(w io.Writer, o *outcome) {
	fmt.Fprintf(w, "%s: %d records emitted (site %d), %d requests (bound %d), wall %.2f s, CPU %.2f s (user %.2f, sys %.2f) = %.0f records/CPU-s, peak RSS %.1f MB, statuses %v\n",
		o.Name, o.Run.Count.Records, o.Expected, o.Requests, o.Bound, o.Run.Wall.Seconds(), o.CPU().Seconds(),
		o.Run.User.Seconds(), o.Run.Sys.Seconds(), o.RecordsPerCPUSecond(), mb(o.Run.MaxRSSKB), o.Statuses)
}

// report is everything BENCHMARKS.md's generated section shows.
type report struct {
	Machine  machine
	Outcomes []*outcome
	Quick    bool
	Took     time.Duration
	Tap      string
	GoBench  string
}

// Markers delimiting the generated section of BENCHMARKS.md.
const (
	beginMarker = "<!-- BEGIN GENERATED by `make bench` (go run ./bench); edits here are overwritten -->"
	endMarker   = "<!-- END GENERATED -->"
)

// markdown renders the generated section, markers included.
func (r *report) markdown() string {
	var b strings.Builder
	m := r.Machine
	fmt.Fprintln(&b, beginMarker)
	fmt.Fprintf(&b, "## Figures (generated %s)\n\n", m.Date.Format("2006-01-02 15:04 UTC"))
	if r.Quick {
		fmt.Fprintln(&b, "**Quick run (`-quick`): small sites; these figures do not meet the size conditions of the targets.**")
		fmt.Fprintln(&b)
	}
	fmt.Fprintf(&b, "Machine: %d CPUs (`nproc`), %s, %s, %s/%s; load average %s when the runs began (the machine is shared).\n",
		m.CPUs, m.CPUModel, m.GoVersion, runtime.GOOS, runtime.GOARCH, m.LoadAvg)
	fmt.Fprintf(&b, "All runs took %s. Command: `make bench` (builds `%s`, runs `go test -bench` in `bench/`, then `go run ./bench`).\n\n", r.Took.Round(time.Second), r.Tap)
	fmt.Fprintln(&b, "Each run starts a simulated site (package `recurlytest`) on loopback in the driver process and runs the tap binary as")
	fmt.Fprintln(&b, "a separate process with no catalog (every stream, every field) from `start_date` 2019-01-01, so every record on the")
	fmt.Fprintln(&b, "site is extracted. CPU is the tap process's user+sys time and peak RSS its `ru_maxrss`, both from `wait4`; requests")
	fmt.Fprintln(&b, "and their statuses are counted by the site.")
	fmt.Fprintln(&b)

	fmt.Fprintln(&b, "### Targets")
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "| target | run | figure | target value | verdict |")
	fmt.Fprintln(&b, "|---|---|---|---|---|")
	for _, t := range r.targets() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", t.Name, t.Run, t.Figure, t.Target, t.Verdict)
	}
	fmt.Fprintln(&b)

	fmt.Fprintln(&b, "### Runs")
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "| run | max_workers | quota_limit | site rate limit | latency | records on site | records emitted | requests | bound | wall s | user s | sys s | records/CPU-s | peak RSS MB | statuses |")
	fmt.Fprintln(&b, "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, o := range r.Outcomes {
		rate := "unlimited"
		if o.RateLimit > 0 {
			rate = fmt.Sprintf("%d / %s sliding in %d buckets", o.RateLimit, o.RateWindow, o.RateBuckets)
			if o.RateBuckets == 1 {
				rate = fmt.Sprintf("%d / %s fixed window", o.RateLimit, o.RateWindow)
			}
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %d | %d | %d | %d | %.2f | %.2f | %.2f | %.0f | %.1f | %s |\n",
			o.Name, o.MaxWorkers, o.QuotaLimit, rate, o.Latency, o.Expected, o.Run.Count.Records, o.Requests, o.Bound,
			o.Run.Wall.Seconds(), o.Run.User.Seconds(), o.Run.Sys.Seconds(), o.RecordsPerCPUSecond(), mb(o.Run.MaxRSSKB), statuses(o.Statuses))
	}
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "Records emitted above the site's count are boundary duplicates: adjacent time windows both include their shared")
	fmt.Fprintln(&b, "boundary second (a duplicate, never a loss).")
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "Records per stream on each site (\"-\": not selected in that run). The request bound is the sum over the site-level")
	fmt.Fprintln(&b, "streams of ceil(n/200) plus one each; a per-parent stream (unique_coupon_codes; with a catalog also coupon_redemptions")
	fmt.Fprintln(&b, "and account_notes) adds one request per parent (bulk coupon, account) plus ceil(n/200) for its records, and each")
	fmt.Fprintln(&b, "parent list its pages (the parent ids), one more request and a partial page per extra window:")
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "| run | "+strings.Join(streamNames(), " | ")+" |")
	fmt.Fprintln(&b, "|---|"+strings.Repeat("---|", len(streamNames())))
	for _, o := range r.Outcomes {
		var cells []string
		for _, n := range streamNames() {
			if v, ok := o.PerStream[n]; ok {
				cells = append(cells, fmt.Sprint(v))
			} else {
				cells = append(cells, "-")
			}
		}
		fmt.Fprintf(&b, "| %s | %s |\n", o.Name, strings.Join(cells, " | "))
	}
	fmt.Fprintln(&b)
	fmt.Fprintln(&b, "Tap configs (`"+r.Outcomes[0].Command+"`, `base_url` is the site's loopback port):")
	fmt.Fprintln(&b)
	for _, o := range r.Outcomes {
		fmt.Fprintf(&b, "- %s: `%s`", o.Name, o.Config)
		if o.Catalog {
			fmt.Fprint(&b, ", with a catalog selecting every stream")
		}
		fmt.Fprintln(&b)
	}
	fmt.Fprintln(&b)
	if r.GoBench != "" {
		fmt.Fprintln(&b, "### Go benchmarks (in process)")
		fmt.Fprintln(&b)
		fmt.Fprintln(&b, "`go test -run '^$' -bench . -benchmem ./bench/` (see the profiling notes below for what each measures):")
		fmt.Fprintln(&b)
		fmt.Fprintln(&b, "```")
		fmt.Fprint(&b, strings.TrimRight(r.GoBench, "\n")+"\n")
		fmt.Fprintln(&b, "```")
		fmt.Fprintln(&b)
	}
	fmt.Fprint(&b, endMarker)
	return b.String()
}

// streamNames is every stream, in name order.
func streamNames() []string {
	var out []string
	for _, st := range streams.All() {
		out = append(out, st.Name)
	}
	return out
}

func statuses(m map[int]int) string {
	var codes []int
	for c := range m {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d x%d", c, m[c]))
	}
	return strings.Join(parts, ", ")
}

// spliceGenerated replaces the generated section of doc (markers included)
// with section, or appends section when doc has none.
func spliceGenerated(doc, section string) string {
	i := strings.Index(doc, beginMarker)
	j := strings.Index(doc, endMarker)
	if i < 0 || j < i {
		if doc != "" && !strings.HasSuffix(doc, "\n") {
			doc += "\n"
		}
		if doc != "" {
			doc += "\n"
		}
		return doc + section + "\n"
	}
	return doc[:i] + section + doc[j+len(endMarker):]
}

// writeReport rewrites the generated section of the report at path, keeping
// everything else in it.
func writeReport(path string, r *report) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	doc := string(old)
	if len(bytes.TrimSpace(old)) == 0 {
		doc = "# Benchmarks\n\n"
	}
	return os.WriteFile(path, []byte(spliceGenerated(doc, r.markdown())), 0o644)
}

// perParentNote says what a request target adds for per-parent streams, if
// the run has any (full: their records' pages too).
func perParentNote(o *outcome, full bool) string {
	switch {
	case o.ParentCost == 0:
		return ""
	case full:
		return "; per-parent streams: + one per parent + their records' pages + the parent ids"
	}
	return fmt.Sprintf("; per-parent streams: + one per parent + the parent ids = %d", o.ParentCost)
}
