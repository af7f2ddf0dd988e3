package state

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// plain is State without its MarshalJSON: what encoding/json writes for it.
type plain State

// jsonCases are states for the table test and seeds for the fuzz target.
var jsonCases = []State{
	{},
	{Bookmarks: map[string]map[string]string{}},
	{Bookmarks: map[string]map[string]string{"accounts": nil}},
	{Bookmarks: map[string]map[string]string{"accounts": {}}},
	{Bookmarks: map[string]map[string]string{
		"transactions": {"collected_at": "2026-09-30T23:59:49Z"},
		"accounts":     {"updated_at": "2026-09-30T23:31:13.123456Z", "created_at": "2019-01-01T00:00:00Z"},
		"a<b>&c":       {"k\"ey\\": "line\nbreak\ttab\x01\x7f", "é": "\u2028\u2029\xff"},
	}, CurrentlySyncing: ptr("plans")},
	{CurrentlySyncing: ptr("<&>\"\\\u00e9\x00")},
}

func ptr(s string) *string { return &s }

// TestMarshalJSONAsEncodingJSON: State's own encoding is encoding/json's,
// with and without HTML escaping.
func TestMarshalJSONAsEncodingJSON(t *testing.T) {
	for _, st := range jsonCases {
		checkJSON(t, st)
	}
}

// FuzzMarshalJSON builds a state of two streams from the input and checks
// State's encoding against encoding/json's.
func FuzzMarshalJSON(f *testing.F) {
	f.Add("accounts", "updated_at", "2026-09-30T23:31:13Z", "plans")
	f.Add("a<b>", "k\"", "\n\u2028\xff", "")
	f.Fuzz(func(t *testing.T, stream, key, value, syncing string) {
		st := State{Bookmarks: map[string]map[string]string{stream: {key: value, value: key}, value: {stream: syncing}}}
		if syncing != "" {
			st.CurrentlySyncing = &syncing
		}
		checkJSON(t, st)
	})
}

func checkJSON(t *testing.T, st State) {
	t.Helper()
	for _, html := range []bool{false, true} {
		want, got := encode(t, plain(st), html), encode(t, st, html)
		if !bytes.Equal(got, want) {
			t.Fatalf("escapeHTML %v: State encodes as\n%s\nencoding/json writes\n%s", html, got, want)
		}
	}
}

func encode(t *testing.T, v any, html bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var startOfBench = time.Date(2026, 9, 30, 23, 59, 49, 0, time.UTC)

// benchTracker holds the bookmarks of a default run's thirteen streams.
func benchTracker() *Tracker {
	tr := NewTracker(nil)
	for _, s := range []string{"account_acquisitions", "accounts", "adjustments", "billing_info", "coupons", "credit_payments",
		"custom_field_definitions", "invoices", "plans", "plans_add_ons", "subscriptions", "transactions", "unique_coupon_codes"} {
		tr.SetCurrentlySyncing(s) // a change, so that every call encodes
		tr.Advance(s, "updated_at", startOfBench)
	}
	return tr
}

func BenchmarkEncodeIfChanged(b *testing.B) {
	tr := benchTracker()
	for b.Loop() {
		tr.SetCurrentlySyncing("")
		tr.SetCurrentlySyncing("accounts")
		if _, ok := tr.EncodeIfChanged(); !ok {
			b.Fatal("not encoded")
		}
	}
}

// BenchmarkSnapshotEncoded is what a STATE cost before EncodeIfChanged: a
// deep copy, then encoding/json over it.
func BenchmarkSnapshotEncoded(b *testing.B) {
	tr := benchTracker()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(plain(tr.Snapshot())); err != nil {
			b.Fatal(err)
		}
	}
}
