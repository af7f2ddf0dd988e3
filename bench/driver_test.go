package main

import (
	"os"
	"testing"
	"time"
)

func TestLineCounter(t *testing.T) {
	out := `{"type":"SCHEMA","stream":"a","schema":{}}` + "\n" +
		`{"type":"RECORD","stream":"a","record":{"type":"STATE"}}` + "\n" +
		`{"type":"STATE","value":{"bookmarks":{"a":1}}}` + "\n" +
		`{"type":"RECORD","stream":"a","record":{}}` + "\n" +
		"\n" +
		`{"type":"STATE","value":{"bookmarks":{"a":2}}}` // no final newline
	want := lineCount{Lines: 6, Records: 2, States: 2, Schemas: 1, Bytes: int64(len(out)), LastState: `{"type":"STATE","value":{"bookmarks":{"a":2}}}`}
	// Every way of cutting the output into two writes, and byte by byte.
	for cut := 0; cut <= len(out); cut++ {
		var l lineCounter
		l.Write([]byte(out[:cut]))
		l.Write([]byte(out[cut:]))
		if got := l.result(); got != want {
			t.Fatalf("cut at %d: %+v, want %+v", cut, got, want)
		}
	}
	var l lineCounter
	for i := range len(out) {
		l.Write([]byte{out[i]})
	}
	if got := l.result(); got != want {
		t.Fatalf("byte by byte: %+v, want %+v", got, want)
	}
}

func TestRequestBound(t *testing.T) {
	tests := []struct {
		records map[string]int
		want    int
	}{
		{map[string]int{"a": 0}, 1},
		{map[string]int{"a": 1}, 2},
		{map[string]int{"a": 200}, 2},
		{map[string]int{"a": 201}, 3},
		{map[string]int{"a": 400, "b": 1, "c": 0}, 3 + 2 + 1},
	}
	for _, tt := range tests {
		if got := requestBound(tt.records, 200); got != tt.want {
			t.Errorf("requestBound(%v) = %d, want %d", tt.records, got, tt.want)
		}
	}
}

func TestSpliceGenerated(t *testing.T) {
	section := beginMarker + "\nnew figures\n" + endMarker
	tests := []struct{ name, doc, want string }{
		{"empty", "", section + "\n"},
		{"no section yet", "# Benchmarks\n\nnotes", "# Benchmarks\n\nnotes\n\n" + section + "\n"},
		{"replaced, notes kept", "# B\n\n" + beginMarker + "\nold\n" + endMarker + "\n\n## Profiling\n", "# B\n\n" + section + "\n\n## Profiling\n"},
	}
	for _, tt := range tests {
		if got := spliceGenerated(tt.doc, section); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestTargets(t *testing.T) {
	run := func(sc scenario, records int64, requests, bound int, cpu, wall time.Duration, rssKB int64, statuses map[int]int) *outcome {
		return &outcome{scenario: sc, Expected: records, Requests: requests, Bound: bound, Statuses: statuses,
			Run: spawnResult{User: cpu, Wall: wall, MaxRSSKB: rssKB, Count: lineCount{Records: records}}}
	}
	cpuRun := scenario{Name: "cpu", For: []string{forRequests, forCPU}, MaxWorkers: 1, QuotaLimit: 100}
	small := scenario{Name: "small", For: []string{forMemory}}
	big := scenario{Name: "big", For: []string{forMemory}}
	quota := quotaSite(scenario{Name: "quota", For: []string{forQuota}, QuotaLimit: 30}) // 3 requests/s allowed
	incr := scenario{Name: "incr", For: []string{forIncremental}}
	floorRun := run(scenario{Name: "floor", For: []string{forCPU, forFloor}}, 300_000, 0, 0, 3*time.Second, time.Second, 1, nil)
	floorRun.TapCPU, floorRun.FloorCPU = 3*time.Second, 3*time.Second/2 // x2.0
	quotaRun := run(quota, 1000, 90, 100, time.Second, 35*time.Second, 1, map[int]int{200: 89, 429: 1})
	quotaRun.WorstWindow, quotaRun.Budget = 31, 30
	incrRun := run(incr, 10, 0, 0, time.Second, time.Second, 1, nil)
	incrRun.SecondRequests, incrRun.Listings = 9, 8
	r := &report{Outcomes: []*outcome{
		run(cpuRun, 300_000, 1500, 1600, 2*time.Second, time.Second, 30_000, map[int]int{200: 1500}), // 150k/CPU-s
		run(big, 1_000_000, 0, 0, time.Second, time.Second, 70*1024, nil),
		run(small, 100_000, 0, 0, time.Second, time.Second, 40*1024, nil),
		quotaRun, floorRun, incrRun,
	}}
	got := map[string]string{}
	for _, tg := range r.targets() {
		got[tg.Name+"/"+tg.Run] = tg.Verdict
	}
	want := map[string]string{
		"requests, max_workers 1/cpu":   "met",
		"CPU, every field selected/cpu": "met",
		"peak RSS/small":                "n/a (baseline for flatness)",
		"peak RSS/big":                  "NOT met", // 70 MB
		"peak RSS, flat/small -> big":   "NOT met", // x1.75
		"quota-bound wall time, quota_limit 30, sliding window/quota":        "NOT met", // a 429; 35 s <= 1.15*90/3 = 34.5 s fails too
		"worst window over the budget, quota_limit 30, sliding window/quota": "NOT met", // 31 of 30
		"CPU, every field selected/floor":                                    "met",
		"CPU over the I/O floor, gzip/floor":                                 "met",     // exactly x2.0
		"requests, incremental run with no changes/incr":                     "NOT met", // 9 for 8 listings
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: verdict %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("targets %v, want %d of them", got, len(want))
	}
}

// TestSpawn runs a small shell program through spawn and checks what it
// measured: output counts, exit status and a resident set size.
func TestSpawn(t *testing.T) {
	dir := t.TempDir()
	res, err := spawn(spawnRequest{
		Path:       "/bin/sh",
		Args:       []string{"-c", `printf '{"type":"RECORD"}\n{"type":"STATE","value":1}\n'; echo oops >&2; exit 3`},
		StderrPath: dir + "/stderr",
		StdoutPath: dir + "/stdout",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 3 || res.Count.Records != 1 || res.Count.States != 1 || res.Count.LastState != `{"type":"STATE","value":1}` {
		t.Fatalf("spawn = %+v", res)
	}
	if res.MaxRSSKB <= 0 || res.Wall <= 0 {
		t.Fatalf("no rusage: %+v", res)
	}
	for name, want := range map[string]string{"stdout": "{\"type\":\"RECORD\"}\n{\"type\":\"STATE\",\"value\":1}\n", "stderr": "oops\n"} {
		b, err := os.ReadFile(dir + "/" + name)
		if err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", name, b, err, want)
		}
	}
	if _, err := spawn(spawnRequest{Path: dir + "/missing", StderrPath: dir + "/e"}); err == nil {
		t.Error("spawning a missing program did not fail")
	}
}

func TestNextLink(t *testing.T) {
	for _, tt := range []struct{ body, want string }{
		{`{"object":"list","has_more":true,"next":"\/sites\/s\/accounts?cursor=a&limit=200","data":[]}`, "/sites/s/accounts?cursor=a&limit=200"},
		{`{"object":"list","has_more":false,"next":null,"data":[]}`, ""},
		{`{"object":"list","data":[]}`, ""},
	} {
		if got := nextLink([]byte(tt.body)); got != tt.want {
			t.Errorf("nextLink(%s) = %q, want %q", tt.body, got, tt.want)
		}
	}
}
