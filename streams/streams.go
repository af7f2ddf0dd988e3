// Package streams declares the tap's streams as data and runs the one sync
// loop that serves them all.
//
// Most streams read a site-level list of the v2018-08-09 API. billing_info
// is derived from the billing_info object embedded in each account of the
// accounts listing, so when accounts and billing_info are both selected that
// listing is read once for both. Three streams are per-parent: they read one
// child list per parent record (the unique codes of each bulk coupon, the
// coupon redemptions and the notes of each account), which costs one
// request per parent per run (see parent.go).
//
// The files, by concern:
//
//	streams.go   the stream table (this file)
//	run.go       Syncer.Run: a run as a short sequence of steps
//	plan.go      planning a run into listings, their windows and cursor chains
//	pool.go      the worker pool (errgroup with SetLimit) and its job queue
//	read.go      reading one listing: first page, sizing, paging a chain
//	complete.go  checking a listing read against the site's count
//	page.go      writing one page: records out of a page, per stream
//	parent.go    per-parent listings: parent ids, one child list per parent
//	bookmarks.go bookmarks and STATE
//	metrics.go   record_count METRIC lines
package streams

import (
	"fmt"
	"slices"
	"strings"
)

// Stream declares one Singer stream: what it is called, where its records
// come from and how they are keyed and bookmarked.
type Stream struct {
	Name   string // Singer tap_stream_id and stream name
	Object string // the spec component its records are, e.g. "Account"
	// Source is the site-level list the records come from, e.g. "accounts";
	// for a per-parent stream, the child list's path format with one %s for
	// the parent's id, e.g. "accounts/%s/notes".
	Source         string
	KeyProperty    string // primary key field
	ReplicationKey string // bookmark field

	// Parent, for a per-parent stream, is the site-level list whose
	// records the child list is read under, e.g. "accounts"; "" for a
	// stream read from a site-level list.
	Parent string
	// ParentWhere keeps only the parents whose top-level string field
	// Field equals Value (unique codes exist only on bulk coupons); the zero
	// value keeps every parent.
	ParentWhere Where
	// Params are the list parameters Source takes (the spec names them per
	// endpoint; anything else is a 400).
	Params Params
	// OptIn marks a stream not selected by default (discovery says
	// selected-by-default false, and a run without a catalog skips it):
	// its cost grows with the number of parents, not of records.
	OptIn bool

	// Embedded names the field of each Source record that holds this
	// stream's record; "" means the listed record is the stream's record.
	Embedded string
	// Fallback is a site-relative path format (with one %s for the source
	// record's id, path-escaped) fetched when a source record lacks the
	// Embedded key altogether. A 404 there means the record has none.
	Fallback string

	// Rows derives the stream's rows (none, one or several) from each
	// source record (its Embedded record, if any); nil: the record itself
	// is the stream's record, passed through untouched.
	Rows *Derive
	// Keys, when set, is the primary key as Singer lists it (the rows'
	// columns); nil: KeyProperty alone. KeyProperty always names the source
	// record's own id, read for messages ("": the source record has none).
	Keys []string
	// SourceKey is the source record's field the bookmark follows when the
	// rows hold it under another name (ReplicationKey is then that
	// column's name); "": ReplicationKey.
	SourceKey string
}

// Where is a condition on a top-level string field of a record.
type Where struct{ Field, Value string }

// Params says which list parameters a list takes.
type Params int

const (
	// AllParams: limit, order, sort, begin_time and end_time (paged).
	AllParams Params = iota
	// DateParams: sort, begin_time and end_time only; the list answers
	// every match at once.
	DateParams
	// NoParams: none of them; the list answers everything at once, and the
	// tap keeps the records from the stream's bookmark to the signpost.
	NoParams
	// OneObject: the path answers one object (the record), not a list.
	OneObject
)

// KeyProperties returns the stream's primary key as Singer lists it.
func (s Stream) KeyProperties() []string {
	if s.Keys != nil {
		return slices.Clone(s.Keys)
	}
	return []string{s.KeyProperty}
}

// sourceKey is the source record's field that the bookmark follows.
func (s Stream) sourceKey() string {
	if s.SourceKey != "" {
		return s.SourceKey
	}
	return s.ReplicationKey
}

// PerParent reports whether the stream reads one child list per parent.
func (s Stream) PerParent() bool { return s.Parent != "" }

// Path is the site-relative path of the stream's list, with {id} for the
// parent's id, e.g. "accounts/{id}/notes".
func (s Stream) Path() string { return strings.ReplaceAll(s.Source, "%s", "{id}") }

// Cost says what reading the stream costs in requests, for discovery,
// --about and the README.
func (s Stream) Cost() string {
	switch {
	case s.Embedded != "":
		return "none of its own: it rides on the `" + s.Source + "` listing (plus one request per record lacking `" + s.Embedded + "`)"
	case !s.PerParent():
		return fmt.Sprintf("one request per %d records changed since the bookmark, at least one (plus one count for a listing longer than a page)", PageSize)
	}
	parent := "each record of `" + s.Parent + "`"
	if s.ParentWhere.Field != "" {
		parent += fmt.Sprintf(" with %s %s", s.ParentWhere.Field, s.ParentWhere.Value)
	}
	pages := fmt.Sprintf(", plus a page per %d of its records", PageSize)
	if s.Params != AllParams {
		pages = " (the list answers in one page)"
	}
	if s.Params == OneObject {
		pages = " (it answers one object)"
	}
	return "one request for " + parent + " on every run, changed or not" + pages +
		"; the parent ids come from the `" + s.Parent + "` listing when it is read in the run, else from its own pass over it"
}

// table is every stream, sorted by name, built once.
var table = sortedByName([]Stream{
	{Name: "accounts", Object: "Account", Source: "accounts", KeyProperty: "id", ReplicationKey: "updated_at"},
	{Name: "adjustments", Object: "LineItem", Source: "line_items", KeyProperty: "id", ReplicationKey: "updated_at"},
	{Name: "billing_info", Object: "BillingInfo", Source: "accounts", KeyProperty: "account_id", ReplicationKey: "updated_at",
		Embedded: "billing_info", Fallback: "accounts/%s/billing_info"},
	{Name: "coupons", Object: "Coupon", Source: "coupons", KeyProperty: "id", ReplicationKey: "updated_at"},
	{Name: "credit_payments", Object: "CreditPayment", Source: "credit_payments", KeyProperty: "id", ReplicationKey: "updated_at"},
	{Name: "account_acquisitions", Object: "AccountAcquisition", Source: "acquisitions", KeyProperty: "id", ReplicationKey: "updated_at"},
	{Name: "custom_field_definitions", Object: "CustomFieldDefinition", Source: "custom_field_definitions", KeyProperty: "id", ReplicationKey: "updated_at"},
	{Name: "unique_coupon_codes", Object: "UniqueCouponCode", Source: "coupons/%s/unique_coupon_codes", KeyProperty: "id", ReplicationKey: "updated_at",
		Parent: "coupons", ParentWhere: Where{"coupon_type", "bulk"}},
	{Name: "coupon_redemptions", Object: "CouponRedemption", Source: "accounts/%s/coupon_redemptions", KeyProperty: "id", ReplicationKey: "updated_at",
		Parent: "accounts", Params: DateParams, OptIn: true},
	{Name: "account_notes", Object: "AccountNote", Source: "accounts/%s/notes", KeyProperty: "id", ReplicationKey: "created_at",
		Parent: "accounts", Params: NoParams, OptIn: true},
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
