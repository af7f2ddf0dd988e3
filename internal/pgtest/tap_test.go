package pgtest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/cli"
	"github.com/tap-recurly/tap-recurly/internal/testutil"
	"github.com/tap-recurly/tap-recurly/recurlytest"
)

// TestTapIntoPostgres runs the tap (streams layout) against the simulated
// site, loads its output, touches records on the site, runs again from the
// STATE and loads that: every table then holds each record once, with the
// site's latest updated_at for the touched ones.
func TestTapIntoPostgres(t *testing.T) {
	conn, schema := Connect(t)
	ctx := context.Background()
	srv := testutil.StartSite(t, recurlytest.Config{Seed: 7, RateLimit: 1_000_000})
	dir := t.TempDir()
	cfg := writeJSON(t, dir, "config.json", map[string]any{
		"api_key":    srv.Site.APIKey(),
		"subdomain":  strings.TrimPrefix(srv.Site.SiteID(), "subdomain-"),
		"start_date": "2019-01-01T00:00:00Z",
		"base_url":   srv.URL,
	})
	l := &Loader{Conn: conn, Schema: schema}
	sync := func(args ...string) {
		t.Helper()
		var out, errs bytes.Buffer
		if code := cli.Main(append([]string{"--config", cfg}, args...), &out, &errs); code != cli.ExitOK {
			t.Fatalf("tap exit %d: %s", code, errs.String())
		}
		if err := l.Load(ctx, &out); err != nil {
			t.Fatal(err)
		}
	}
	sync()
	touched := map[string][]string{}
	for _, r := range []string{"accounts", "invoices", "subscriptions", "plans"} {
		touched[r] = srv.Site.Touch(r, 4)
	}
	sync("--state", writeJSON(t, dir, "state.json", l.State))

	for resource, ids := range touched {
		table := Ident(schema) + "." + Ident(resource)
		want := len(srv.Site.Keys(resource))
		if got := query(t, conn, "SELECT count(*)::text FROM "+table)[0]; got != strconv.Itoa(want) {
			t.Errorf("%s: %s rows, want %d (one per record on the site)", resource, got, want)
		}
		for _, id := range ids {
			rec, _ := srv.Site.Record(resource, id)
			var site struct {
				UpdatedAt time.Time `json:"updated_at"`
			}
			if err := json.Unmarshal(rec, &site); err != nil {
				t.Fatal(err)
			}
			got := query(t, conn, "SELECT to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM "+table+" WHERE id = $1", id)
			if len(got) != 1 || got[0] != site.UpdatedAt.UTC().Format(time.RFC3339) {
				t.Errorf("%s %s: updated_at %v in the table, %s on the site", resource, id, got, site.UpdatedAt.UTC().Format(time.RFC3339))
			}
		}
	}
}

func writeJSON(t testing.TB, dir, name string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
