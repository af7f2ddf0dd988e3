package progress

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/internal/logging"
	"github.com/tap-recurly/tap-recurly/internal/testutil"
	"github.com/vbauerster/mpb/v8"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestStatusLines(t *testing.T) {
	for _, tt := range []struct {
		name   string
		total  int // -1: never counted
		read   int
		after  time.Duration
		finish bool
		want   string // "" means no line
	}{
		{"counted", 1000, 250, 10 * time.Second, false, "INFO progress: accounts: 250 of 1000 records (25.0%), 25 records/s, ETA 30s listing=accounts records=250 rate=25 total=1000 percent=25 eta_s=30"},
		{"not counted", -1, 400, 20 * time.Second, false, "INFO progress: accounts: 400 records so far, 20 records/s listing=accounts records=400 rate=20"},
		{"more than counted", 100, 150, 10 * time.Second, false, "INFO progress: accounts: 150 of 100 records (100.0%), 15 records/s, ETA 0s listing=accounts records=150 rate=15 total=100 percent=100 eta_s=0"},
		{"nothing read yet", 500, 0, 10 * time.Second, false, "INFO progress: accounts: 0 of 500 records (0.0%), 0 records/s, ETA unknown listing=accounts records=0 rate=0 total=500 percent=0"},
		{"finished", 1000, 1000, 10 * time.Second, true, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log, _ := logging.New(&buf, 0, logging.FormatText)
			c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			m := NewLog(log, time.Hour, c.now)
			defer m.Stop()
			m.Start("accounts")
			if tt.total >= 0 {
				m.Expect("accounts", tt.total)
			}
			c.advance(tt.after)
			m.Add("accounts", tt.read)
			if tt.finish {
				m.Finish("accounts")
			}
			m.Report()
			if got := strings.TrimSuffix(buf.String(), "\n"); got != tt.want {
				t.Errorf("logged\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// TestJSONFormat: the same line under --log-format json carries the
// figures as fields.
func TestJSONFormat(t *testing.T) {
	var buf bytes.Buffer
	log, _ := logging.New(&buf, 0, logging.FormatJSON)
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	m := NewLog(log, time.Hour, c.now)
	defer m.Stop()
	m.Expect("invoices", 800)
	c.advance(4 * time.Second)
	m.Add("invoices", 200)
	m.Report()
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("%v: %s", err, buf.Bytes())
	}
	for k, v := range map[string]any{"level": "INFO", "listing": "invoices", "records": 200.0, "total": 800.0, "percent": 25.0, "rate": 50.0, "eta_s": 12.0} {
		if line[k] != v {
			t.Errorf("%s = %v, want %v (line %s)", k, line[k], v, buf.Bytes())
		}
	}
}

// TestTicker: lines come on their own every interval until Stop.
func TestTicker(t *testing.T) {
	var buf testutil.Buffer
	log, _ := logging.New(&buf, 0, logging.FormatText)
	m := NewLog(log, 10*time.Millisecond, nil)
	m.Start("plans")
	m.Add("plans", 3)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(buf.String(), "progress: plans: 3 records so far") {
		if time.Now().After(deadline) {
			t.Fatal("no progress line within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	m.Stop()
	n := strings.Count(buf.String(), "\n")
	time.Sleep(50 * time.Millisecond)
	if strings.Count(buf.String(), "\n") != n {
		t.Error("lines logged after Stop")
	}
}

// TestTerminalBars: a terminal meter draws a bar per listing with its name
// and counts, and log lines written through it come out whole. A listing
// whose total is known shows "read / total", percent and ETA, the counters
// and the percent apart; one whose total is not known shows its count and
// rate only: no total, no percent, no ETA (it used to claim "1001100 %"
// and "ETA 0s").
func TestTerminalBars(t *testing.T) {
	for _, tt := range []struct {
		name     string
		total    int // -1: not counted
		read     int
		finish   bool
		want     []string
		wantNone []string
	}{
		{"finished", 10, 10, true, []string{"accounts", "10 / 10"}, nil},
		{"counted", 800, 200, false, []string{"invoices", "200 / 800", "  25 % ", " rec/s ETA "}, nil},
		{"not counted", -1, 1000, false, []string{"plans", "1000", " rec/s"}, []string{"%", "ETA", "1000 /", "1001"}},
		{"more than counted", 100, 101, false, []string{"subscriptions", "101 / 100", " 100 % "}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var buf testutil.Buffer
			m, logw := newTerminal(&buf, mpb.WithAutoRefresh(), mpb.WithWidth(100)) // off a terminal, the width is the whole line's
			name := tt.want[0]
			m.Start(name)
			if tt.total >= 0 {
				m.Expect(name, tt.total)
			}
			m.Add(name, tt.read)
			if tt.finish {
				m.Finish(name)
			}
			if _, err := logw.Write([]byte("INFO a log line\n")); err != nil {
				t.Fatal(err)
			}
			m.Stop()
			out := buf.String()
			for _, want := range append(tt.want, "INFO a log line\n") {
				if !strings.Contains(out, want) {
					t.Errorf("display lacks %q:\n%s", want, out)
				}
			}
			for _, bad := range tt.wantNone {
				if strings.Contains(out, bad) {
					t.Errorf("display shows %q:\n%s", bad, out)
				}
			}
		})
	}
}
