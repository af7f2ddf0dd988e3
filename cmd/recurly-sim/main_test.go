package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/internal/testutil"
)

func TestHelpDocumentsEveryKnob(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, &out); code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, f := range []string{"addr", "seed", "site", "api-key", "records", "accounts", "line-items", "coupons", "invoices", "plans",
		"add-ons", "subscriptions", "transactions", "start", "end", "rate-limit", "rate-window", "rate-buckets", "background-load",
		"latency", "fault-500", "fault-502", "fault-503", "fault-429", "retry-after", "fault-reset", "fault-truncate", "fault-down",
		"transaction-updated-at", "mutate-every", "mutate-count", "url-file", "credit-payments", "account-acquisitions",
		"custom-field-definitions", "unique-coupon-codes", "coupon-redemptions", "account-notes", "fault-cf520", "fault-cf522",
		"fault-cf524", "gzip", "deprecated", "sunset-date", "tie-density", "drift", "skip-records"} {
		if !strings.Contains(out.String(), "  -"+f+" ") && !strings.Contains(out.String(), "  -"+f+"\n") {
			t.Errorf("--help does not document --%s", f)
		}
	}
}

func TestBadArguments(t *testing.T) {
	tests := [][]string{
		{"--addr", "0.0.0.0:0"},
		{"--addr", "192.0.2.1:8080"},
		{"--records", "-5"},
		{"--accounts", "-1"},
		{"--start", "last tuesday"},
		{"--fault-500", "2"},
		{"--rate-window", "1s", "--rate-buckets", "5"},
		{"extra"},
		{"--records", "0", "--accounts", "0", "--line-items", "0", "--coupons", "0", "--invoices", "0", "--plans", "0", "--add-ons", "0", "--subscriptions", "0", "--transactions", "0",
			"--credit-payments", "0", "--account-acquisitions", "0", "--custom-field-definitions", "0", "--unique-coupon-codes", "0",
			"--coupon-redemptions", "0", "--account-notes", "0"},
		{"--accounts", "5", "--account-acquisitions", "6"},
		{"--coupon-redemptions", "-1"},
		{"--fault-cf522", "0.7", "--fault-500", "0.7"},
		{"--tie-density", "-2"},
		{"--skip-records", "-1"},
		{"--sunset-date", "soon"},
		{"--drift", "unknown-fields,typo"},
	}
	for _, args := range tests {
		var out bytes.Buffer
		if code := run(context.Background(), args, &out); code == 0 {
			t.Errorf("%v: exit 0", args)
		} else if !strings.Contains(out.String(), "recurly-sim") {
			t.Errorf("%v: message %q", args, out.String())
		}
	}
}

func TestServesUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "url")
	ctx, cancel := context.WithCancel(context.Background())
	var stderr testutil.Buffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"--seed", "3", "--site", "subdomain-acme", "--api-key", "k1", "--records", "500", "--plans", "7",
			"--rate-limit", "50", "--url-file", urlFile, "--mutate-every", "10ms", "--mutate-count", "2",
			"--deprecated", "--sunset-date", "2027-01-15", "--gzip=false"}, &stderr)
	}()
	var base string
	deadline := time.Now().Add(10 * time.Second)
	for base == "" {
		if b, err := os.ReadFile(urlFile); err == nil {
			base = strings.TrimSpace(string(b))
		} else if time.Now().After(deadline) {
			t.Fatalf("no URL file; stderr: %s", stderr.String())
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("URL %q", base)
	}
	req, _ := http.NewRequest("GET", base+"/sites/subdomain-acme/plans?limit=200", nil)
	req.SetBasicAuth("k1", "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var env struct {
		Data []json.RawMessage `json:"data"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(body, &env) != nil || len(env.Data) != 7 || resp.Header.Get("X-RateLimit-Limit") != "50" {
		t.Fatalf("%d %v %.200s", resp.StatusCode, resp.Header, body)
	}
	if resp.Header.Get("Recurly-Deprecated") != "TRUE" || resp.Header.Get("Recurly-Sunset-Date") != "2027-01-15T00:00:00+00:00" {
		t.Fatalf("--deprecated: headers %v", resp.Header)
	}
	if resp.Uncompressed || resp.ContentLength != int64(len(body)) {
		t.Fatalf("--gzip=false: the answer was compressed (%v)", resp.Header)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not stop after cancel")
	}
	line := stderr.String()
	if want := "recurly-sim: serving site subdomain-acme at " + base + " (api key: k1, "; !strings.HasPrefix(line, want) || strings.Count(line, "\n") != 1 {
		t.Fatalf("stderr %q, want one line starting %q", line, want)
	}
	if _, err := http.Get(base + "/sites/subdomain-acme/plans"); err == nil {
		t.Fatal("still serving after cancel")
	}
}
