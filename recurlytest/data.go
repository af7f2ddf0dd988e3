package recurlytest

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// kind identifies one of the eight served resources.
type kind int

const (
	kAccount kind = iota
	kLineItem
	kCoupon
	kInvoice
	kPlan
	kAddOn
	kSubscription
	kTransaction
	kCreditPayment
	kAcquisition
	kCustomFieldDef
	kUniqueCode
	kRedemption
	kNote
	numKinds
)

var kindNames = [numKinds]string{Accounts, LineItems, Coupons, Invoices, Plans, AddOns, Subscriptions, Transactions,
	CreditPayments, Acquisitions, CustomFieldDefinitions, UniqueCouponCodes, CouponRedemptions, Notes}

// kindComponents are the spec component schemas the records are built from.
var kindComponents = [numKinds]string{"Account", "LineItem", "Coupon", "Invoice", "Plan", "AddOn", "Subscription", "Transaction",
	"CreditPayment", "AccountAcquisition", "CustomFieldDefinition", "UniqueCouponCode", "CouponRedemption", "AccountNote"}

// kindObjects are the records' "object" values.
var kindObjects = [numKinds]string{"account", "line_item", "coupon", "invoice", "plan", "add_on", "subscription", "transaction",
	"credit_payment", "account_acquisition", "custom_field_definition", "unique_coupon_code", "coupon_redemption", "account_note"}

// kindSingular is used in not_found messages ("Couldn't find Account ...").
var kindSingular = [numKinds]string{"Account", "LineItem", "Coupon", "Invoice", "Plan", "AddOn", "Subscription", "Transaction",
	"CreditPayment", "AccountAcquisition", "CustomFieldDefinition", "UniqueCouponCode", "CouponRedemption", "AccountNote"}

// kindParam is the path parameter naming a record of the kind in errors.
var kindParam = [numKinds]string{"account_id", "line_item_id", "coupon_id", "invoice_id", "plan_id", "add_on_id", "subscription_id", "transaction_id",
	"credit_payment_id", "account_acquisition_id", "custom_field_definition_id", "unique_coupon_code_id", "coupon_redemption_id", "account_note_id"}

// idPrefix is the first character of each resource's ids; billingPrefix is
// that of billing infos.
var idPrefix = [numKinds]byte{'m', 'n', 'o', 'p', 'q', 'r', 's', 't', 'g', 'h', 'i', 'j', 'k', 'l'}

const billingPrefix = 'u'

func kindByName(name string) (kind, bool) {
	for k, n := range kindNames {
		if n == name {
			return kind(k), true
		}
	}
	return 0, false
}

// noTime marks a null timestamp in the index arrays.
const noTime = math.MinInt64

func unix(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// table is the compact index of one resource: per record only times, a
// version and two sort orders. Ids are a bijection of the index.
type table struct {
	kind    kind
	n       int
	idOff   uint64 // seed-dependent offset of the id bijection
	salt    uint64 // seed-dependent salt of the record's value states
	created []int64
	updated []int64 // what sort=updated_at uses (hidden for transactions)
	version []uint32
	// collected is a transaction's collected_at (noTime when null).
	collected []int64
	// removed is a coupon redemption's removed_at (noTime while active).
	removed []int64
	// billCreated/billUpdated are an account's billing info times (noTime
	// when the account has none).
	billCreated, billUpdated []int64
	byCreated                []int32 // indexes ordered by (created, key)
	byUpdated                []int32 // indexes ordered by (updated, key)
}

const (
	idBits = 60
	idMask = 1<<idBits - 1
	idMulA = 0x9E3779B97F4A7C15 & idMask
	idMulB = 0xC2B2AE3D27D4EB4F & idMask
)

var idInvA, idInvB = inverseOdd(idMulA), inverseOdd(idMulB)

// inverseOdd is the multiplicative inverse of odd a modulo 2^64 (and so
// modulo 2^60).
func inverseOdd(a uint64) uint64 {
	inv := a
	for range 6 {
		inv *= 2 - a*inv
	}
	return inv
}

// key maps a record index to its 60-bit id value. It is a bijection, and
// the id string's order equals the key order, so ties on a timestamp are
// broken by id.
func (t *table) key(i int) uint64 {
	x := (uint64(i) + t.idOff) & idMask
	x = x * idMulA & idMask
	x ^= x >> 30
	return x * idMulB & idMask
}

func (t *table) indexOfKey(k uint64) (int, bool) {
	if k > idMask {
		return 0, false
	}
	x := k * idInvB & idMask
	x ^= x >> 30
	x = x * idInvA & idMask
	x = (x - t.idOff) & idMask
	if x >= uint64(t.n) {
		return 0, false
	}
	return int(x), true
}

// idAlphabet is base32hex: ascending in ASCII, so string order = key order.
const idAlphabet = "0123456789abcdefghijklmnopqrstuv"

func appendKeyID(dst []byte, prefix byte, k uint64) []byte {
	dst = append(dst, prefix)
	for sh := idBits - 5; sh >= 0; sh -= 5 {
		dst = append(dst, idAlphabet[(k>>uint(sh))&31])
	}
	return dst
}

func parseKeyID(s string, prefix byte) (uint64, bool) {
	if len(s) != 13 || s[0] != prefix {
		return 0, false
	}
	var k uint64
	for i := 1; i < 13; i++ {
		c := s[i]
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'v':
			d = c - 'a' + 10
		default:
			return 0, false
		}
		k = k<<5 | uint64(d)
	}
	return k, true
}

func (t *table) appendID(dst []byte, i int) []byte {
	return appendKeyID(dst, idPrefix[t.kind], t.key(i))
}

func (t *table) id(i int) string { return string(t.appendID(make([]byte, 0, 13), i)) }

func (t *table) index(id string) (int, bool) {
	k, ok := parseKeyID(id, idPrefix[t.kind])
	if !ok {
		return 0, false
	}
	return t.indexOfKey(k)
}

// lookup resolves a path id: the record id, or the prefixed forms
// code-<code> (accounts, plans, coupons, add-ons) and number-<number>
// (invoices).
func (t *table) lookup(pathID string) (int, bool) {
	switch {
	case strings.HasPrefix(pathID, "code-") && (t.kind == kAccount || t.kind == kPlan || t.kind == kCoupon || t.kind == kAddOn):
		code := pathID[len("code-"):]
		dash := strings.LastIndexByte(code, '-')
		if dash < 0 {
			return 0, false
		}
		return t.index(string(idPrefix[t.kind]) + code[dash+1:])
	case strings.HasPrefix(pathID, "number-") && t.kind == kInvoice:
		n, err := strconv.Atoi(pathID[len("number-"):])
		if err != nil || n < invoiceNumberBase || n-invoiceNumberBase >= t.n {
			return 0, false
		}
		return n - invoiceNumberBase, true
	}
	return t.index(pathID)
}

// invoiceNumberBase is the number of the first invoice.
const invoiceNumberBase = 100000

func (t *table) billingID(dst []byte, i int) []byte {
	return appendKeyID(dst, billingPrefix, t.key(i))
}

// stable is the record's version-independent value state; volatile changes
// with every version bump.
func (t *table) stable(i int) uint64 { return mix(t.salt ^ mix(uint64(i)+0x632be59bd9b4e019)) }

func (t *table) volatile(i int) uint64 {
	return mix(t.stable(i) + uint64(t.version[i])*0x9E3779B97F4A7C15 + 1)
}

// order returns the sort order slice and its timestamps for a sort field.
func (t *table) order(byUpdated bool) ([]int32, []int64) {
	if byUpdated {
		return t.byUpdated, t.updated
	}
	return t.byCreated, t.created
}

// less orders records by (ts, key).
func (t *table) less(ts []int64, a, b int32) int {
	if ts[a] != ts[b] {
		if ts[a] < ts[b] {
			return -1
		}
		return 1
	}
	ka, kb := t.key(int(a)), t.key(int(b))
	switch {
	case ka < kb:
		return -1
	case ka > kb:
		return 1
	}
	return 0
}

// mix is the splitmix64 finalizer: a fast, well-spread hash of x.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// generate builds every table's index data from the seed: first the
// tables, then the times, parents before children (a child is created at or
// after its parent).
func (s *Site) generate() {
	counts := s.cfg.Counts.byKind()
	for k := range numKinds {
		n := counts[k]
		s.tables[k] = &table{
			kind:    k,
			n:       n,
			idOff:   mix(s.seed^uint64(k)*0x1000193) & idMask,
			salt:    mix(s.seed + uint64(k)*0x9E3779B97F4A7C15),
			created: make([]int64, n),
			updated: make([]int64, n),
			version: make([]uint32, n),
		}
	}
	// Line items' discounts come from the redemptions in force: index
	// them by account before any amount is computed.
	s.children[kRedemption] = buildCSR(s.n(kRedemption), s.n(kAccount), func(i int) int { return s.childParent(kRedemption, i) })
	for _, k := range genOrder {
		s.generateTimes(k)
	}
	for _, t := range s.tables {
		t.byCreated = make([]int32, t.n)
		t.byUpdated = make([]int32, t.n)
		for i := range t.n {
			t.byCreated[i] = int32(i)
			t.byUpdated[i] = int32(i)
		}
		slices.SortFunc(t.byCreated, func(a, b int32) int { return t.less(t.created, a, b) })
		slices.SortFunc(t.byUpdated, func(a, b int32) int { return t.less(t.updated, a, b) })
	}
}

// genOrder lists the kinds parents first.
var genOrder = []kind{kAccount, kPlan, kCoupon, kRedemption, kCustomFieldDef, kAddOn, kSubscription, kInvoice, kLineItem,
	kTransaction, kCreditPayment, kAcquisition, kUniqueCode, kNote}

// timeline draws a resource's timestamps. They fall on a set of distinct
// seconds (about n/TieDensity of them, spread over [Start, End]), so records
// share seconds as often as the tie density says.
type timeline struct {
	rng        *rand.Rand
	seconds    []int64 // sorted
	start, end int64
}

func (s *Site) newTimeline(k kind, n int) *timeline {
	tl := &timeline{rng: rand.New(rand.NewPCG(s.seed, uint64(k)+1)), start: s.cfg.Start.Unix(), end: s.cfg.End.Unix()}
	density := s.cfg.TieDensity
	if density == 0 {
		density = 3
	}
	if density <= 1 {
		return tl // any second: ties only by chance
	}
	m := max(1, int(float64(n)/density))
	tl.seconds = make([]int64, m)
	for c := range tl.seconds {
		tl.seconds[c] = tl.start + tl.rng.Int64N(tl.end-tl.start+1)
	}
	slices.Sort(tl.seconds)
	return tl
}

// any is a time anywhere in the range.
func (tl *timeline) any() int64 {
	if tl.seconds == nil {
		return tl.start + tl.rng.Int64N(tl.end-tl.start+1)
	}
	return tl.seconds[tl.rng.IntN(len(tl.seconds))]
}

// after is a time at or after t (when the range allows), biased towards t:
// the first of the resource's seconds at or after t plus a random share of
// the time left (its cube, so most follow soon).
func (tl *timeline) after(t int64) int64 {
	u := tl.rng.Float64()
	x := t + int64(float64(max(0, tl.end-t))*u*u*u)
	if tl.seconds == nil {
		return min(max(x, t), tl.end)
	}
	p, _ := slices.BinarySearch(tl.seconds, x)
	if p == len(tl.seconds) {
		return min(max(x, t), tl.end)
	}
	return tl.seconds[p]
}

// updatedAfter is an updated_at for a record created at c: c itself for
// about a third of records, else later.
func (tl *timeline) updatedAfter(c int64) int64 {
	if tl.rng.IntN(100) < 35 {
		return c
	}
	return max(c, tl.after(c))
}

// parentTime is the created_at a record of kind k must follow (ok false
// for records without a parent).
func (s *Site) parentTime(k kind, i int) (int64, bool) {
	at := func(pk kind, p int) (int64, bool) {
		if p < 0 {
			return 0, false
		}
		return s.tables[pk].created[p], true
	}
	switch k {
	case kAddOn:
		return at(kPlan, s.parent(s.tables[k], i, kPlan))
	case kSubscription:
		a, okA := at(kAccount, s.subAccount(i))
		p, okP := at(kPlan, s.planOfSub(i))
		return max(a, p), okA || okP
	case kInvoice:
		return s.firstBilled(s.invAccount(i))
	case kAcquisition, kNote:
		return at(kAccount, s.recordAccount(k, i))
	case kLineItem:
		if inv := s.lineInvoice(i); inv >= 0 {
			return at(kInvoice, inv)
		}
		return at(kAccount, s.lineAccount(i))
	case kTransaction:
		if inv := s.txInvoice(i); inv >= 0 {
			return at(kInvoice, inv)
		}
		return at(kAccount, s.txAccount(i))
	case kCreditPayment:
		return at(kInvoice, s.creditPaymentInvoice(i))
	case kUniqueCode:
		return at(kCoupon, s.childParent(k, i))
	case kRedemption:
		a, okA := at(kAccount, s.recordAccount(k, i))
		c, okC := at(kCoupon, s.redemptionCoupon(i))
		return max(a, c), okA || okC
	}
	return 0, false
}

// firstBilled is when account a can first be invoiced: when its first
// subscription was created, or when it was created if it has none (ok false
// for no account).
func (s *Site) firstBilled(a int) (int64, bool) {
	if a < 0 {
		return 0, false
	}
	lo, hi := s.accountSubs(a)
	if hi <= lo {
		return s.tables[kAccount].created[a], true
	}
	first := s.tables[kSubscription].created[lo]
	for i := lo + 1; i < hi; i++ {
		first = min(first, s.tables[kSubscription].created[i])
	}
	return first, true
}

func (s *Site) generateTimes(k kind) {
	t := s.tables[k]
	if t.n == 0 {
		return
	}
	tl := s.newTimeline(k, t.n)
	switch k {
	case kTransaction:
		t.collected = make([]int64, t.n)
	case kRedemption:
		t.removed = make([]int64, t.n)
	case kAccount:
		t.billCreated = make([]int64, t.n)
		t.billUpdated = make([]int64, t.n)
	}
	for i := range t.n {
		c := tl.any()
		if k == kPlan {
			c = tl.start + (c-tl.start)/4 // the catalog comes first: in the range's first quarter
		}
		if p, ok := s.parentTime(k, i); ok {
			switch {
			case k == kAcquisition, k == kLineItem && s.lineInvoice(i) >= 0 && tl.rng.IntN(100) < 80:
				c = p // acquired with the account; charged on the invoice
			default:
				c = tl.after(p)
			}
		}
		u := tl.updatedAfter(c)
		switch k {
		case kNote:
			u = c // notes are never updated
		case kTransaction:
			// collected_at exactly for successful transactions; the hidden
			// updated_at is at least collected_at.
			t.collected[i] = noTime
			if s.txFacts(i).status == txSuccess {
				col := c
				if tl.rng.IntN(100) >= 60 {
					col = tl.after(c)
				}
				t.collected[i] = col
				u = max(u, col)
			}
		case kAccount:
			if tl.rng.IntN(100) < 15 {
				t.billCreated[i], t.billUpdated[i] = noTime, noTime
			} else {
				bc := c + tl.rng.Int64N(u-c+1)
				t.billCreated[i], t.billUpdated[i] = bc, bc+tl.rng.Int64N(u-bc+1)
			}
		}
		if k == kRedemption {
			// removed (when inactive) between created and updated: the
			// removal updated it, and later updates keep removed_at.
			t.removed[i] = noTime
			if s.redemptionInactive(i) {
				t.removed[i] = c + int64(mix(t.stable(i)^0x7e)%uint64(u-c+1))
			}
		}
		t.created[i], t.updated[i] = c, u
	}
}

// parent returns the index of the record of kind pk that record i of t
// belongs to (an account for line items, invoices, subscriptions and
// transactions; a plan for add-ons), or -1 when there is none.
func (s *Site) parent(t *table, i int, pk kind) int {
	n := s.tables[pk].n
	if n == 0 {
		return -1
	}
	return int(mix(t.stable(i)^0xacc0) % uint64(n))
}

// recordAccount is the account a record belongs to (itself for accounts).
func (s *Site) recordAccount(k kind, i int) int {
	switch k {
	case kAccount:
		return i
	case kLineItem:
		return s.lineAccount(i)
	case kInvoice:
		return s.invAccount(i)
	case kSubscription:
		return s.subAccount(i)
	case kTransaction:
		return s.txAccount(i)
	case kRedemption, kNote:
		return s.parent(s.tables[k], i, kAccount)
	case kAcquisition:
		return s.acquisitionAccount(i)
	case kCreditPayment:
		if inv := s.creditPaymentInvoice(i); inv >= 0 {
			return s.invAccount(inv)
		}
	}
	return -1
}
