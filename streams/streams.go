// Package streams declares the tap's streams as data and runs the one sync
// loop that serves them all.
//
// Every stream reads a site-level list of the v2018-08-09 API; none makes a
// request per parent record yet. billing_info is derived from the
// billing_info object embedded in each account of the accounts listing, so
// when accounts and billing_info are both selected that listing is read once
// for both.
//
// The files, by concern:
//
//	streams.go   the stream table (this file)
//	run.go       Syncer.Run: a run as a short sequence of steps
//	plan.go      planning a run into listings, their windows and cursor chains
//	pool.go      the worker pool (errgroup with SetLimit) and its job queue
//	read.go      reading one listing: first page, sizing, paging a chain
//	page.go      writing one page: records out of a page, per stream
//	bookmarks.go bookmarks and STATE
//	metrics.go   record_count METRIC lines
package streams

import (
	"slices"
	"strings"
)

// Stream declares one Singer stream: what it is called, where its records
// come from and how they are keyed and bookmarked.
type Stream struct {
	Name           string // Singer tap_stream_id and stream name
	Object         string // the spec component its records are, e.g. "Account"
	Source         string // the site-level list the records come from, e.g. "accounts"
	KeyProperty    string // primary key field
	ReplicationKey string // bookmark field

	// Embedded names the field of each Source record that holds this
	// stream's record; "" means the listed record is the stream's record.
	Embedded string
	// Fallback is a site-relative path format (with one %s for the source
	// record's id, path-escaped) fetched when a source record lacks the
	// Embedded key altogether. A 404 there means the record has none.
	Fallback string
}

// KeyProperties returns the stream's primary key as Singer lists it.
func (s Stream) KeyProperties() []string { return []string{s.KeyProperty} }

// table is every stream, sorted by name, built once.
var table = sortedByName([]Stream{
	{Name: "accounts", Object: "Account", Source: "accounts", KeyProperty: "id", ReplicationKey: "updated_at"},
	{Name: "adjustments", Object: "LineItem", Source: "line_items", KeyProperty: "id", ReplicationKey: "updated_at"},
	{Name: "billing_info", Object: "BillingInfo", Source: "accounts", KeyProperty: "account_id", ReplicationKey: "updated_at",
		Embedded: "billing_info", Fallback: "accounts/%s/billing_info"},
	{Name: "coupons", Object: "Coupon", Source: "coupons", KeyProperty: "id", ReplicationKey: "updated_at"},
	{Name: "invoices", Object: "Invoice", Source: "invoices", KeyProperty: "id", ReplicationKey: "updated_at"},
	{Name: "plans", Object: "Plan", Source: "plans", KeyProperty: "id", ReplicationKey: "updated_at"},
	{Name: "plans_add_ons", Object: "AddOn", Source: "add_ons", KeyProperty: "id", ReplicationKey: "updated_at"},
	{Name: "subscriptions", Object: "Subscription", Source: "subscriptions", KeyProperty: "id", ReplicationKey: "updated_at"},
	{Name: "transactions", Object: "Transaction", Source: "transactions", KeyProperty: "id", ReplicationKey: "collected_at"},
})

func sortedByName(all []Stream) []Stream {
	slices.SortFunc(all, func(a, b Stream) int { return strings.Compare(a.Name, b.Name) })
	return all
}

// All returns every stream, sorted by name. The slice is the caller's own.
func All() []Stream { return slices.Clone(table) }

// ByName returns the stream called name.
func ByName(name string) (Stream, bool) {
	i, ok := slices.BinarySearchFunc(table, name, func(s Stream, n string) int { return strings.Compare(s.Name, n) })
	if !ok {
		return Stream{}, false
	}
	return table[i], true
}
