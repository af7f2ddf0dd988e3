// Package recurlytest is a simulated Recurly site that speaks the
// v2018-08-09 ("Partner API") wire contract over HTTP, for the tap's tests,
// benchmarks and demo. It is product code; cmd/recurly-sim serves it on a
// loopback port.
//
// # Endpoints
//
// GET and HEAD on /sites/{site_id}/R for R in accounts, line_items,
// coupons, invoices, plans, add_ons, subscriptions, transactions,
// credit_payments, acquisitions and custom_field_definitions;
// /sites/{site_id}/accounts/{account_id}/{line_items,invoices,subscriptions,transactions,coupon_redemptions,notes};
// /sites/{site_id}/coupons/{coupon_id}/unique_coupon_codes (only bulk
// coupons have codes); /sites/{site_id}/plans/{plan_id}/add_ons; single
// objects at /sites/{site_id}/R/{id} for the first eight R and
// credit_payments, custom_field_definitions and unique_coupon_codes (also
// code-<code> for accounts, plans, coupons and add-ons, number-<number> for
// invoices), /sites/{site_id}/accounts/{account_id}/billing_info and
// .../acquisition (404 when the account has none) and
// .../notes/{account_note_id}. A child list under an unknown parent is a
// 404. site_id is the configured id (default subdomain-demo) or the plain
// id from Site.PlainSiteID.
//
// Lists take limit (1..200, default 20), order (asc|desc, default desc),
// sort (created_at|updated_at, default created_at), begin_time and end_time
// (inclusive, on the sort field; a value without a zone is UTC), ids (up to
// 200, alone) and each list's filters (state, type, subscriber, past_due,
// original, success), except where the spec gives a list fewer: credit
// payments take no ids; an account's coupon redemptions take only ids, sort,
// begin_time and end_time and answer everything in one page; an account's
// notes take only ids (one page, newest first). Anything else is a 400
// "Invalid or unpermitted parameter". Pages come in the envelope
// {"object":"list","has_more":...,"next":...,"data":[...]}, where next is
// the same path with an opaque keyset cursor on (sort value, id) followed by
// limit, order, sort and the other parameters; it is null on the last page.
// HEAD answers the count in Recurly-Total-Records.
//
// # Order of checks
//
// Each request is, in order: delayed by the latency; answered 503 when the
// site is down; answered 401 without Basic auth carrying the API key as user
// name and an empty password; answered 405 unless GET or HEAD; answered 429
// (type rate_limited) when the window is used up, without counting; counted;
// given the drawn fault, if any (so fault answers do count); answered 406
// for an Accept naming another API version; routed. Every response carries
// Recurly-Version, Content-Type, X-Request-Id and X-RateLimit-Limit,
// -Remaining and -Reset (and Recurly-Deprecated and Recurly-Sunset-Date when
// Config.Deprecated), and is appended to the request log before it is sent.
// The exception are the edge faults (Faults.CF520, CF522, CF524): a
// Cloudflare HTML error page with none of Recurly's headers. A request that
// accepts gzip gets its JSON gzip-compressed and streamed (chunked, no
// Content-Length) unless Config.NoGzip.
//
// # Records
//
// Records are generated deterministically from the seed by walking the
// spec's component schemas (package internal/openapi), so every field is
// present; values are chosen by field name, format and enum, and nullable
// fields are sometimes null. Fields that carry business meaning (states,
// amounts, parents, state timestamps) come from a small domain model
// (model.go, overrides.go): accounts own subscriptions, invoices and their
// line items and transactions, credit payments pay charge invoices, and the
// relations listed in the README ("The simulated Recurly site") hold for
// every record. Only compact index data is kept per record (timestamps and a
// version counter; ids are a bijection of the index; parents are blocks of
// index ranges) and JSON is rendered on demand, so a site of a million
// records takes about 34 MB. Transactions carry no updated_at in JSON
// (unless Config.TransactionUpdatedAt); sort=updated_at uses a hidden one,
// at least collected_at. Site.Touch and Site.StartMutator update records
// while they are being paged.
package recurlytest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// Resource names as they appear in site-level list URLs
// (/sites/{site_id}/<resource>).
const (
	Accounts      = "accounts"
	LineItems     = "line_items"
	Coupons       = "coupons"
	Invoices      = "invoices"
	Plans         = "plans"
	AddOns        = "add_ons"
	Subscriptions = "subscriptions"
	Transactions  = "transactions"

	// Site-level lists added for the tap's second set of streams.
	CreditPayments         = "credit_payments"
	Acquisitions           = "acquisitions" // account acquisitions (GET /sites/{site_id}/acquisitions)
	CustomFieldDefinitions = "custom_field_definitions"

	// Child lists, read per parent record: unique codes of a bulk coupon
	// (/coupons/{coupon_id}/unique_coupon_codes), an account's coupon
	// redemptions (/accounts/{account_id}/coupon_redemptions) and an
	// account's notes (/accounts/{account_id}/notes). Keys and Record take
	// these names too.
	UniqueCouponCodes = "unique_coupon_codes"
	CouponRedemptions = "coupon_redemptions"
	Notes             = "notes"
)

// Counts says how many records of each resource a site holds. A zero field
// means none of that resource (Config.Counts as a whole being zero means
// DefaultCounts). AccountAcquisitions may not exceed Accounts (an account has
// at most one); coupon redemptions and notes need accounts, redemptions and
// unique coupon codes need coupons.
type Counts struct {
	Accounts, LineItems, Coupons, Invoices, Plans, AddOns, Subscriptions, Transactions int

	CreditPayments, AccountAcquisitions, CustomFieldDefinitions int
	UniqueCouponCodes, CouponRedemptions, AccountNotes          int
}

// Total is the number of records over all resources.
func (c Counts) Total() int {
	n := 0
	for _, v := range c.byKind() {
		n += v
	}
	return n
}

func (c Counts) byKind() [numKinds]int {
	return [numKinds]int{c.Accounts, c.LineItems, c.Coupons, c.Invoices, c.Plans, c.AddOns, c.Subscriptions, c.Transactions,
		c.CreditPayments, c.AccountAcquisitions, c.CustomFieldDefinitions, c.UniqueCouponCodes, c.CouponRedemptions, c.AccountNotes}
}

func countsOf(v [numKinds]int) Counts {
	return Counts{v[kAccount], v[kLineItem], v[kCoupon], v[kInvoice], v[kPlan], v[kAddOn], v[kSubscription], v[kTransaction],
		v[kCreditPayment], v[kAcquisition], v[kCustomFieldDef], v[kUniqueCode], v[kRedemption], v[kNote]}
}

// DefaultCounts is a site of a few thousand records (4,940): enough for
// several pages of every large list at limit=200, with tens of plans and
// coupons.
func DefaultCounts() Counts {
	return Counts{Accounts: 600, LineItems: 1000, Coupons: 30, Invoices: 700, Plans: 25, AddOns: 60, Subscriptions: 450, Transactions: 900,
		CreditPayments: 150, AccountAcquisitions: 420, CustomFieldDefinitions: 8, UniqueCouponCodes: 300, CouponRedemptions: 240, AccountNotes: 57}
}

// ScaledCounts keeps DefaultCounts' proportions and makes about total
// records in all (every resource gets at least one record when total > 0).
func ScaledCounts(total int) Counts {
	if total <= 0 {
		return Counts{}
	}
	d := DefaultCounts().byKind()
	f := float64(total) / float64(DefaultCounts().Total())
	var out [numKinds]int
	for k, n := range d {
		out[k] = max(1, int(float64(n)*f+0.5))
	}
	out[kAcquisition] = min(out[kAcquisition], out[kAccount])
	return countsOf(out)
}

// Faults are per-request probabilities of simulated failures. At most one
// fault is drawn for each authenticated request within the rate limit, from
// an RNG seeded by Config.Seed, so the same configuration gives the same
// fault sequence for the same request order. The zero value injects nothing.
type Faults struct {
	Status500, Status502, Status503, Status429 float64       // probability per request of answering that status (429 carries Retry-After)
	ConnReset                                  float64       // probability of closing the connection without a response
	Truncate                                   float64       // probability of a 200 whose body is cut off mid-JSON and the connection closed
	RetryAfter                                 time.Duration // Retry-After for fault 429s; 0 means 1s; sent as whole seconds, at least 1
	Down                                       bool          // every request answers 503 (an outage)
	// CF520, CF522 and CF524 are probabilities of an answer from Recurly's
	// edge (Cloudflare) instead of Recurly: 520 (unknown error), 522
	// (connection timed out) or 524 (a timeout occurred), as an HTML page
	// without any Recurly header (no Recurly-Version, X-Request-Id or
	// X-RateLimit-*), with Server: cloudflare and a CF-RAY id.
	CF520, CF522, CF524 float64
}

// Config configures a simulated site. Its zero value is usable: every zero
// field takes the default documented on it.
type Config struct {
	Seed   int64
	SiteID string // as addressed in paths; "" means "subdomain-demo"
	APIKey string // "" means "sim-key"; requests must send Basic auth with it as user name and an empty password
	Counts Counts // zero value means DefaultCounts()
	// Start and End bound the created/updated timestamps of generated
	// records; zero values mean 2019-06-01 and 2026-10-01 UTC.
	Start, End time.Time
	RateLimit  int           // X-RateLimit-Limit, requests allowed per window; 0 means 2000
	RateWindow time.Duration // sliding window length; 0 means 5 minutes
	// RateBuckets is how many buckets the window slides in; X-RateLimit-Reset
	// is the end of the current bucket. 0 means 5 (Recurly: a 5-minute
	// window, resets on whole minutes); 1 is a fixed window.
	RateBuckets int
	// BackgroundLoad is requests per second spent on the same quota by
	// "other integrations": counted in the window, not logged as requests.
	BackgroundLoad float64
	Latency        time.Duration // added before every response
	Faults         Faults
	// TieDensity is about how many records of one resource share each
	// distinct created_at second (updated_at likewise): the tap's bookmark
	// rules are tested on ties, so they must occur. 0 means 3; values up to
	// 1 make ties rare. Records created with their parent (line items on
	// their invoice, acquisitions with their account) tie on top of this.
	TieDensity float64
	// NoGzip turns compression off. By default a request that accepts gzip
	// (Accept-Encoding) gets a gzip body streamed without Content-Length,
	// as Recurly's edge sends it.
	NoGzip bool
	// Deprecated makes every Recurly answer carry Recurly-Deprecated: TRUE
	// and Recurly-Sunset-Date (SunsetDate; zero means 2026-12-31), the
	// headers Recurly sends for a deprecated API version.
	Deprecated bool
	SunsetDate time.Time
	// TransactionUpdatedAt also exposes the hidden transaction updated_at in
	// JSON (v2018-08-09 has none, so the default is false).
	TransactionUpdatedAt bool
	// Drift makes some records drift from the spec (unknown fields, a
	// number sent as a string, a value of the wrong type); see Drift.
	Drift Drift
	// SkipRecords makes every site-level list (GET) leave out this many
	// records of each resource that its count (HEAD) still includes: the
	// records at evenly spaced places in the resource, the same ones in
	// every listing (a listing that misses records, for the tap's
	// completeness check). 0, the default, skips none.
	SkipRecords int
	Now         func() time.Time // clock; nil means time.Now
}

// Request is one entry of a site's request log.
type Request struct {
	Method, Path, RawQuery string
	Status                 int // 0 when the connection was reset without a response
	At                     time.Time
	Duration               time.Duration // from arrival until the response was ready to send (latency included)
	Fault                  string        // "" (none), "500", "502", "503", "429", "reset", "truncate", "down", "cf520", "cf522" or "cf524"
}

// Key is the truth about one record, for tests comparing what a tap emitted
// with what the site holds.
type Key struct {
	ID          string
	Sort        time.Time  // the value sort=updated_at orders and filters by (hidden updated_at for transactions)
	Created     time.Time  // created_at
	Replication *time.Time // updated_at; for transactions collected_at (nil when null); for notes created_at
	// Parent is the id of the record a child-list record is listed under:
	// the coupon of a unique coupon code, the account of a coupon
	// redemption or note. It is "" for the other resources.
	Parent string
}

// Site is a simulated Recurly site. It is an http.Handler and safe for
// concurrent use; create it with NewSite.
type Site struct {
	cfg     Config
	now     func() time.Time
	plainID string // the site's id without the subdomain- prefix form

	mu     sync.RWMutex // guards tables' mutable parts (updated, versions, orders)
	tables [numKinds]*table
	// children indexes the child-list kinds by parent (nil for others).
	children     [numKinds]*csr
	cpByInvoice  *csr // credit payments by the invoice they are applied to
	addOnsByPlan *csr // add-ons by plan
	seed         uint64
	plans        *plans

	touchMu  sync.Mutex
	touchRNG *rand.Rand

	ctl      sync.Mutex // guards faults, latency, rate window, log, fault RNG
	faults   Faults
	latency  time.Duration
	faultRNG *rand.Rand
	rate     *rateWindow
	log      []Request
	reqSeq   uint64
}

var defaultStart = time.Date(2019, 6, 1, 0, 0, 0, 0, time.UTC)
var defaultEnd = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// NewSite generates a site's records from cfg and returns it ready to serve.
func NewSite(cfg Config) (*Site, error) {
	if cfg.SiteID == "" {
		cfg.SiteID = "subdomain-demo"
	}
	if cfg.APIKey == "" {
		cfg.APIKey = "sim-key"
	}
	if cfg.Counts == (Counts{}) {
		cfg.Counts = DefaultCounts()
	}
	for k, n := range cfg.Counts.byKind() {
		if n < 0 || n > 1<<30 {
			return nil, fmt.Errorf("recurlytest: count of %s out of range: %d", kindNames[k], n)
		}
	}
	if c := cfg.Counts; c.AccountAcquisitions > c.Accounts {
		return nil, errors.New("recurlytest: more account acquisitions than accounts (an account has at most one)")
	}
	if c := cfg.Counts; (c.CouponRedemptions > 0 || c.AccountNotes > 0) && c.Accounts == 0 ||
		(c.CouponRedemptions > 0 || c.UniqueCouponCodes > 0) && c.Coupons == 0 || c.CreditPayments > 0 && c.Invoices == 0 {
		return nil, errors.New("recurlytest: coupon redemptions and notes need accounts, redemptions and unique codes need coupons, credit payments need invoices")
	}
	if cfg.Start.IsZero() {
		cfg.Start = defaultStart
	}
	if cfg.End.IsZero() {
		cfg.End = defaultEnd
	}
	if !cfg.End.After(cfg.Start) {
		return nil, errors.New("recurlytest: End must be after Start")
	}
	if cfg.RateLimit == 0 {
		cfg.RateLimit = 2000
	}
	if cfg.RateWindow == 0 {
		cfg.RateWindow = 5 * time.Minute
	}
	if cfg.RateBuckets == 0 {
		cfg.RateBuckets = 5
	}
	if cfg.SkipRecords < 0 {
		return nil, errors.New("recurlytest: negative SkipRecords")
	}
	if cfg.TieDensity < 0 {
		return nil, errors.New("recurlytest: negative TieDensity")
	}
	if cfg.RateLimit < 0 || cfg.RateWindow < 0 || cfg.RateBuckets < 0 || cfg.BackgroundLoad < 0 || cfg.Latency < 0 {
		return nil, errors.New("recurlytest: negative rate limit, window, buckets, background load or latency")
	}
	if cfg.RateWindow/time.Duration(cfg.RateBuckets) < time.Second {
		return nil, errors.New("recurlytest: rate window buckets must be at least one second long")
	}
	if err := cfg.Faults.validate(); err != nil {
		return nil, err
	}
	if strings.ContainsAny(cfg.SiteID, "/?#") {
		return nil, fmt.Errorf("recurlytest: invalid site id %q", cfg.SiteID)
	}
	s := &Site{cfg: cfg, now: cfg.Now, seed: mix(uint64(cfg.Seed) ^ 0x5eed5eed5eed5eed)}
	if s.now == nil {
		s.now = time.Now
	}
	s.plainID = s.derivePlainID()
	s.faults = cfg.Faults
	s.latency = cfg.Latency
	s.faultRNG = rand.New(rand.NewPCG(uint64(cfg.Seed), 0xfa017))
	s.touchRNG = rand.New(rand.NewPCG(uint64(cfg.Seed), 0x70c4))
	s.rate = newRateWindow(cfg.RateLimit, cfg.RateWindow, cfg.RateBuckets, cfg.BackgroundLoad)
	p, err := compilePlans(cfg.TransactionUpdatedAt)
	if err != nil {
		return nil, err
	}
	s.plans = p
	s.generate()
	s.buildChildren()
	return s, nil
}

// derivePlainID gives the site a 12-character id that paths may use instead
// of the subdomain- form.
func (s *Site) derivePlainID() string {
	if !strings.HasPrefix(s.cfg.SiteID, "subdomain-") {
		return s.cfg.SiteID
	}
	return string(appendRandomID(nil, mix(s.seed^0x517e), 12))
}

// SiteID is the site id as addressed in paths (for example "subdomain-demo").
func (s *Site) SiteID() string { return s.cfg.SiteID }

// PlainSiteID is the site's plain id (no subdomain- prefix), which paths
// also accept. It equals SiteID when that is not in subdomain- form.
func (s *Site) PlainSiteID() string { return s.plainID }

// APIKey is the key requests must send as the Basic auth user name.
func (s *Site) APIKey() string { return s.cfg.APIKey }

// Counts is how many records of each resource the site holds.
func (s *Site) Counts() Counts { return s.cfg.Counts }

// SetFaults replaces the faults for subsequent requests. Unlike NewSite it
// does not validate: probabilities are consumed in field order, so a sum
// past 1 starves the later kinds.
func (s *Site) SetFaults(f Faults) {
	s.ctl.Lock()
	s.faults = f
	s.ctl.Unlock()
}

// SetLatency replaces the delay added before every response.
func (s *Site) SetLatency(d time.Duration) {
	s.ctl.Lock()
	s.latency = d
	s.ctl.Unlock()
}

// Requests returns a copy of the request log, in arrival order.
func (s *Site) Requests() []Request {
	s.ctl.Lock()
	defer s.ctl.Unlock()
	return append([]Request(nil), s.log...)
}

// ResetRequests empties the request log.
func (s *Site) ResetRequests() {
	s.ctl.Lock()
	s.log = nil
	s.ctl.Unlock()
}

// Keys lists every record of resource (one of the resource constants) in
// its current state, ordered by created_at then id. It returns nil for an
// unknown resource.
func (s *Site) Keys(resource string) []Key {
	k, ok := kindByName(resource)
	if !ok {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.tables[k]
	out := make([]Key, 0, t.n)
	for _, i := range t.byCreated {
		out = append(out, s.key(k, int(i)))
	}
	return out
}

// ChildKeys lists the records of a child list (UniqueCouponCodes,
// CouponRedemptions or Notes) under one parent (a coupon id, an account id)
// in their current state, ordered by created_at then id. It returns nil for
// an unknown parent or a resource that is not a child list.
func (s *Site) ChildKeys(resource, parentID string) []Key {
	k, ok := kindByName(resource)
	if !ok {
		return nil
	}
	pk, ok := childParentKind(k)
	if !ok {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.tables[pk].index(parentID)
	if !ok {
		return nil
	}
	t := s.tables[k]
	idx := slices.Clone(s.children[k].of(p))
	slices.SortFunc(idx, func(a, b int32) int { return t.less(t.created, a, b) })
	out := make([]Key, 0, len(idx))
	for _, i := range idx {
		out = append(out, s.key(k, int(i)))
	}
	return out
}

// key is the truth about record i of kind k. The caller holds s.mu.
func (s *Site) key(k kind, i int) Key {
	t := s.tables[k]
	key := Key{ID: t.id(i), Sort: unix(t.updated[i]), Created: unix(t.created[i])}
	if k == kTransaction {
		if c := t.collected[i]; c != noTime {
			ct := unix(c)
			key.Replication = &ct
		}
	} else {
		u := unix(t.updated[i])
		key.Replication = &u
	}
	if pk, ok := childParentKind(k); ok {
		if p := s.childParent(k, i); p >= 0 {
			key.Parent = s.tables[pk].id(p)
		}
	}
	return key
}

// BillingInfoKeys lists one Key per account that has billing info: ID is the
// account id, Replication the billing info's updated_at, Sort the account's
// updated_at and Created the billing info's created_at.
func (s *Site) BillingInfoKeys() []Key {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.tables[kAccount]
	var out []Key
	for _, i := range t.byCreated {
		if t.billUpdated[i] == noTime {
			continue
		}
		u := unix(t.billUpdated[i])
		out = append(out, Key{ID: t.id(int(i)), Sort: unix(t.updated[i]), Created: unix(t.billCreated[i]), Replication: &u})
	}
	return out
}

// Record returns the current JSON of one record of resource by id.
func (s *Site) Record(resource, id string) (json.RawMessage, bool) {
	k, ok := kindByName(resource)
	if !ok {
		return nil, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.tables[k]
	i, ok := t.index(id)
	if !ok {
		return nil, false
	}
	return json.RawMessage(s.appendRecord(nil, k, i)), true
}

// BillingInfo returns the current JSON of an account's billing info, or
// false when the account does not exist or has none.
func (s *Site) BillingInfo(accountID string) (json.RawMessage, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.tables[kAccount]
	i, ok := t.index(accountID)
	if !ok || t.billUpdated[i] == noTime {
		return nil, false
	}
	return json.RawMessage(s.appendBillingInfo(nil, i)), true
}
