package recurlytest

import (
	"strconv"
)

// The domain model. Records are still rendered on demand from the spec's
// component schemas (plan.go), but every field that takes part in a
// business relation is decided here, from compact structure that needs no
// storage:
//
//   - Subscriptions and invoices belong to accounts, and invoiced line items
//     and transactions to invoices, in contiguous blocks of the parent's
//     index range (blockOf / blockRange), so a parent finds its children and
//     a child its parent by arithmetic.
//   - Each record's states, amounts and choices are pure functions of its
//     stable hash (never of its version), so Touch changes only cosmetic
//     fields and updated_at, and every relation keeps holding.
//   - Money is computed in cents: a line item's subtotal is quantity ×
//     unit_amount, its amount subtotal − discount + tax; an invoice sums its
//     line items; a charge invoice's paid + balance is its total; the last
//     transaction of an invoice is the payment that settled it (or the
//     declined attempt that did not), earlier ones failed attempts; a credit
//     invoice follows a paid charge invoice of the same account and is
//     refunded against that invoice's payment.

// blockOf maps i in [0,n) to its block in [0,m): blocks are contiguous and
// as even as integer division makes them.
func blockOf(i, n, m int) int {
	if n <= 0 || m <= 0 {
		return -1
	}
	return int(int64(i) * int64(m) / int64(n))
}

// blockRange is [lo, hi): the indexes in [0,n) whose block in [0,m) is b.
func blockRange(b, n, m int) (int, int) {
	if n <= 0 || m <= 0 || b < 0 {
		return 0, 0
	}
	ceil := func(x int64) int { return int((x + int64(m) - 1) / int64(m)) }
	return ceil(int64(b) * int64(n)), ceil(int64(b+1) * int64(n))
}

// h is a record's stable hash for one decision (salt).
func (s *Site) h(k kind, i int, salt uint64) uint64 { return mix(s.tables[k].stable(i) ^ salt) }

func (s *Site) n(k kind) int { return s.tables[k].n }

// --- accounts, plans, add-ons, coupons ---

func (s *Site) accountInactive(a int) bool { return s.h(kAccount, a, 0xdead)%100 < 8 }

// accountCurrency is the currency every money record of account a uses.
func (s *Site) accountCurrency(a int) string {
	if a < 0 {
		return "USD"
	}
	r := s.h(kAccount, a, 0xc1c1)
	if r%4 != 0 {
		return "USD"
	}
	return currencies[(r>>8)%uint64(len(currencies))]
}

// accountParent is the parent account of account a (about one in eight
// accounts is a child of an earlier one), or -1.
func (s *Site) accountParent(a int) int {
	if r := s.h(kAccount, a, 0x9a4e); a > 0 && r%8 == 0 {
		return int((r >> 8) % uint64(a))
	}
	return -1
}

// billsParent: a child account billed to its parent.
func (s *Site) billsParent(a int) bool {
	return s.accountParent(a) >= 0 && s.h(kAccount, a, 0xb1)%2 == 0
}

// previousLine is the charge line item a credit line item refunds: one of
// the line items of the invoice its credit invoice credits, or -1.
func (s *Site) previousLine(li int) int {
	inv := s.lineInvoice(li)
	if inv < 0 || !s.isCredit(inv) {
		return -1
	}
	lo, _ := s.invLines(inv)
	plo, phi := s.invLines(inv - 1)
	if phi <= plo {
		return -1
	}
	return plo + (li-lo)%(phi-plo)
}

func (s *Site) planInactive(p int) bool { return p >= 0 && s.h(kPlan, p, 0xdead)%100 < 15 }

func (s *Site) addOnInactive(i int) bool {
	return s.planInactive(s.parent(s.tables[kAddOn], i, kPlan)) || s.h(kAddOn, i, 0xdead)%100 < 8
}

// coupon states
const (
	couponRedeemable = iota
	couponMaxedOut
	couponExpired
)

var couponStates = []string{"redeemable", "maxed_out", "expired"}

func (s *Site) couponState(c int) int {
	switch r := s.h(kCoupon, c, 0x57a7e) % 100; {
	case r < 15:
		return couponExpired
	case r < 25:
		return couponMaxedOut
	}
	return couponRedeemable
}

func (s *Site) couponAllPlans(c int) bool { return s.h(kCoupon, c, 0xa11)%100 < 40 }

// --- subscriptions ---

var subStates = []string{"active", "canceled", "expired", "future", "paused", "failed"}

const (
	subActive = iota
	subCanceled
	subExpired
	subFuture
	subPaused
	subFailed
)

type subFacts struct {
	acct, plan, state int
	trial             bool
	unit              int64 // cents
	qty               int64
	addOns            int
	addOnsTotal       int64
}

func (s *Site) subAccount(i int) int { return blockOf(i, s.n(kSubscription), s.n(kAccount)) }

// accountSubs is the [lo, hi) range of account a's subscriptions.
func (s *Site) accountSubs(a int) (int, int) {
	return blockRange(a, s.n(kSubscription), s.n(kAccount))
}

func (s *Site) planOfSub(i int) int {
	if np := s.n(kPlan); np > 0 {
		return int(s.h(kSubscription, i, 0x91a) % uint64(np))
	}
	return -1
}

// subAddOnOf is the plan add-on of element e of subscription i's add-ons:
// distinct add-ons of its plan.
func (s *Site) subAddOnOf(i, e int) int {
	list := s.addOnsByPlan.of(s.planOfSub(i))
	if len(list) == 0 {
		return -1
	}
	return int(list[(int(s.h(kSubscription, i, 0xa0a0)%uint64(len(list)))+e)%len(list)])
}

// subAddOn is element e of subscription i's add-ons: unit amount (cents)
// and quantity.
func (s *Site) subAddOn(i, e int) (unit, qty int64) {
	r := s.h(kSubscription, i, 0xadd0+uint64(e))
	return int64(100 * (1 + r%30)), int64(1 + (r>>8)%5)
}

func (s *Site) subFacts(i int) subFacts {
	f := subFacts{acct: s.subAccount(i), plan: s.planOfSub(i)}
	r := s.h(kSubscription, i, 0x5b5)
	switch x := r % 100; {
	case x < 72:
		f.state = subActive
	case x < 81:
		f.state = subCanceled
	case x < 89:
		f.state = subExpired
	case x < 93:
		f.state = subFuture
	case x < 97:
		f.state = subPaused
	default:
		f.state = subFailed
	}
	f.trial = (r>>8)%100 < 30
	f.unit = int64(100*(5+(r>>16)%196)) - int64((r>>24)%2)
	f.qty = 1
	if (r>>32)%100 >= 70 {
		f.qty = int64(2 + (r>>40)%9)
	}
	if (r>>48)%2 == 1 { // up to three of its plan's add-ons
		f.addOns = min(int(1+(r>>50)%3), len(s.addOnsByPlan.of(f.plan)))
	}
	for e := range f.addOns {
		u, q := s.subAddOn(i, e)
		f.addOnsTotal += u * q
	}
	return f
}

// --- invoices ---

var invoiceStates = []string{"pending", "processing", "past_due", "paid", "failed"}

const (
	invPending = iota
	invProcessing
	invPastDue
	invPaid
	invFailed
)

type invFacts struct {
	acct                                          int
	credit, legacy                                bool
	state                                         int
	linesLo, linesHi                              int
	subtotal, discount, tax, total, paid, balance int64
}

func (s *Site) invAccount(j int) int { return blockOf(j, s.n(kInvoice), s.n(kAccount)) }

// invoicedLines is how many line items are on invoices (the rest are
// pending): nine in ten, when there are invoices.
func (s *Site) invoicedLines() int {
	if s.n(kInvoice) == 0 {
		return 0
	}
	l := s.n(kLineItem)
	return l - l/10
}

func (s *Site) invLines(j int) (int, int) { return blockRange(j, s.invoicedLines(), s.n(kInvoice)) }

func (s *Site) invTransactions(j int) (int, int) {
	return blockRange(j, s.n(kTransaction), s.n(kInvoice))
}

func (s *Site) chargeState(j int) int {
	switch r := s.h(kInvoice, j, 0x57a) % 100; {
	case r < 85:
		return invPaid
	case r < 91:
		return invPastDue
	case r < 93:
		return invPending
	case r < 95:
		return invProcessing
	}
	return invFailed
}

// creditCandidate: invoice j may be a credit invoice (it is not its
// account's first).
func (s *Site) creditCandidate(j int) bool {
	return j > 0 && s.invAccount(j-1) == s.invAccount(j) && s.h(kInvoice, j, 0xc4ed)%100 < 18
}

// isCredit reports whether invoice j is a credit invoice: one that follows
// a paid charge invoice of the same account (its previous invoice).
func (s *Site) isCredit(j int) bool {
	return j >= 0 && j < s.n(kInvoice) && s.creditCandidate(j) && !s.creditCandidate(j-1) && s.chargeState(j-1) == invPaid
}

// isLegacy: a few charge invoices were imported from Recurly's v2 API
// (type legacy); they add up like charge invoices.
func (s *Site) isLegacy(j int) bool { return s.h(kInvoice, j, 0x1e6)%100 < 3 }

func (s *Site) invState(j int) int {
	if s.isCredit(j) {
		if s.h(kInvoice, j, 0x57b)%100 < 85 {
			return invPaid
		}
		return invPending
	}
	return s.chargeState(j)
}

func (s *Site) invFacts(j int) invFacts {
	f := invFacts{acct: s.invAccount(j), credit: s.isCredit(j), state: s.invState(j)}
	f.legacy = !f.credit && s.isLegacy(j)
	f.linesLo, f.linesHi = s.invLines(j)
	for li := f.linesLo; li < f.linesHi; li++ {
		l := s.lineFacts(li)
		f.subtotal += l.subtotal - l.discount
		f.discount += l.discount
		f.tax += l.tax
	}
	f.total = f.subtotal + f.tax
	switch {
	case f.credit:
		if f.state != invPaid {
			f.balance = f.total
		}
	case f.state == invPaid:
		f.paid = f.total
	case f.state == invPastDue && s.h(kInvoice, j, 0x9a1d)%100 < 30:
		f.paid = f.total / 2
	}
	if !f.credit {
		f.balance = f.total - f.paid
	}
	return f
}

// --- line items ---

type lineFacts struct {
	inv, acct, sub, plan                       int
	credit                                     bool
	qty, unit, subtotal, discount, tax, amount int64
}

// lineInvoice is the invoice of line item li, or -1 while it is pending.
func (s *Site) lineInvoice(li int) int {
	if n := s.invoicedLines(); li < n {
		return blockOf(li, n, s.n(kInvoice))
	}
	return -1
}

func (s *Site) lineAccount(li int) int {
	if inv := s.lineInvoice(li); inv >= 0 {
		return s.invAccount(inv)
	}
	n := s.invoicedLines()
	return blockOf(li-n, s.n(kLineItem)-n, s.n(kAccount))
}

func (s *Site) txInvoice(t int) int { return blockOf(t, s.n(kTransaction), s.n(kInvoice)) }

func (s *Site) txAccount(t int) int {
	if inv := s.txInvoice(t); inv >= 0 {
		return s.invAccount(inv)
	}
	return blockOf(t, s.n(kTransaction), s.n(kAccount))
}

var taxRates = []int64{0, 0, 500, 825, 2000} // basis points

func (s *Site) lineFacts(li int) lineFacts {
	f := lineFacts{inv: -1, sub: -1, plan: -1}
	r := s.h(kLineItem, li, 0x11e)
	f.inv, f.acct = s.lineInvoice(li), s.lineAccount(li)
	if f.inv >= 0 {
		f.credit = s.isCredit(f.inv)
	} else {
		f.credit = r%100 < 10
	}
	f.qty = 1
	if (r>>8)%100 >= 60 {
		f.qty = int64(2 + (r>>16)%4)
	}
	f.unit = int64(100 * (5 + (r>>24)%300))
	if (r>>34)%3 == 0 {
		f.unit -= 1 // 19.99-style prices
	}
	if f.credit {
		f.unit = -f.unit
	}
	f.subtotal = f.qty * f.unit
	if !f.credit && (r>>40)%100 < 25 {
		f.discount = f.subtotal * int64(5+(r>>48)%46) / 100
	}
	f.tax = (f.subtotal - f.discount) * taxRates[(r>>56)%uint64(len(taxRates))] / 10000
	f.amount = f.subtotal - f.discount + f.tax
	if lo, hi := s.accountSubs(f.acct); hi > lo && (r>>60)%4 != 0 {
		f.sub = lo + int(mix(r)%uint64(hi-lo))
		f.plan = s.planOfSub(f.sub)
	}
	return f
}

// --- transactions ---

var txStatuses = []string{"pending", "scheduled", "processing", "success", "void", "declined", "error", "chargeback"}

const (
	txPending    = 0
	txProcessing = 2
	txSuccess    = 3
	txVoid       = 4
	txDeclined   = 5
	txError      = 6
)

type txFacts struct {
	inv, acct, orig int
	typ             string
	status          int
	amount          int64
	refunded        bool
}

func (s *Site) txFacts(t int) txFacts {
	f := txFacts{inv: -1, orig: -1, typ: "purchase"}
	r := s.h(kTransaction, t, 0x7a)
	ni := s.n(kInvoice)
	if ni == 0 {
		f.acct = blockOf(t, s.n(kTransaction), s.n(kAccount))
		f.status, f.amount = txSuccess, int64(100*(5+r%200))
		if (r>>8)%100 < 20 {
			f.status = txDeclined
		}
		return f
	}
	f.inv = blockOf(t, s.n(kTransaction), ni)
	f.acct = s.invAccount(f.inv)
	_, hi := s.invTransactions(f.inv)
	last := t == hi-1
	inv := s.invFacts(f.inv)
	if inv.credit {
		f.status, f.amount = txSuccess, -inv.total
		plo, phi := s.invTransactions(f.inv - 1)
		if phi > plo {
			f.typ, f.orig = "refund", phi-1
		} else {
			f.typ, f.amount = "verify", 0 // nothing to refund against: a card check
		}
		return f
	}
	f.amount = inv.total
	if !last && r%4 != 0 {
		// an authorization the invoice's last transaction captures
		f.typ, f.status = "authorization", txSuccess
		return f
	}
	if last && t > 0 && s.txInvoice(t-1) == f.inv && s.h(kTransaction, t-1, 0x7a)%4 != 0 {
		f.typ = "capture"
	}
	switch {
	case !last:
		f.status = []int{txDeclined, txDeclined, txError, txVoid}[(r>>8)%4]
	case inv.state == invPaid:
		f.status = txSuccess
	case inv.state == invPastDue && inv.paid > 0:
		f.status, f.amount = txSuccess, inv.paid
	case inv.state == invPending:
		f.status = txPending
	case inv.state == invProcessing:
		f.status = txProcessing
	default:
		f.status = txDeclined
	}
	if last && f.status == txSuccess && s.isCredit(f.inv+1) {
		lo, hi := s.invTransactions(f.inv + 1)
		f.refunded = hi > lo
	}
	return f
}

// --- credit payments, unique codes, redemptions ---

// creditPaymentInvoice is the charge invoice a credit payment is applied
// to (a credit invoice's previous invoice is always a charge).
func (s *Site) creditPaymentInvoice(i int) int {
	j := s.parent(s.tables[kCreditPayment], i, kInvoice)
	if j >= 0 && s.isCredit(j) {
		j--
	}
	return j
}

var codeStates = []string{"redeemable", "maxed_out", "expired", "inactive"}

func (s *Site) codeState(i int) int {
	if c := s.childParent(kUniqueCode, i); c >= 0 && s.couponState(c) == couponExpired {
		return 2
	}
	switch r := s.h(kUniqueCode, i, 0x57) % 100; {
	case r < 30:
		return 1
	case r < 35:
		return 3
	}
	return 0
}

func (s *Site) redemptionInactive(i int) bool { return s.h(kRedemption, i, 0x1a)%100 < 20 }

// --- rendering helpers ---

// memo caches a record's facts while it renders.
type memo struct {
	sub            subFacts
	inv            invFacts
	line           lineFacts
	tx             txFacts
	hasSub, hasInv bool
	hasLine, hasTx bool
}

func (g *gen) sub() *subFacts {
	if !g.m.hasSub {
		g.m.sub, g.m.hasSub = g.s.subFacts(g.i), true
	}
	return &g.m.sub
}

func (g *gen) inv() *invFacts {
	if !g.m.hasInv {
		g.m.inv, g.m.hasInv = g.s.invFacts(g.i), true
	}
	return &g.m.inv
}

func (g *gen) line() *lineFacts {
	if !g.m.hasLine {
		g.m.line, g.m.hasLine = g.s.lineFacts(g.i), true
	}
	return &g.m.line
}

func (g *gen) tx() *txFacts {
	if !g.m.hasTx {
		g.m.tx, g.m.hasTx = g.s.txFacts(g.i), true
	}
	return &g.m.tx
}

// between is a time within the record's [created_at, updated_at], for
// state changes (closed_at, canceled_at, deleted_at, ...).
func (g *gen) between(salt uint64) int64 {
	span := g.updated - g.created
	if span <= 0 {
		return g.created
	}
	return g.created + int64(mix(g.t.stable(g.i)^salt)%uint64(span+1))
}

func appendMoney(dst []byte, cents int64) []byte {
	if cents < 0 {
		dst = append(dst, '-')
		cents = -cents
	}
	dst = strconv.AppendInt(dst, cents/100, 10)
	return append(dst, '.', byte('0'+cents%100/10), byte('0'+cents%10))
}

func appendQuoted(dst []byte, s string) []byte {
	return append(append(append(dst, '"'), s...), '"')
}

func appendNull(dst []byte) []byte { return append(dst, "null"...) }

func appendBool(dst []byte, b bool) []byte { return strconv.AppendBool(dst, b) }

// timeIf appends t when ok, else null.
func timeIf(dst []byte, ok bool, t int64) []byte {
	if !ok {
		return appendNull(dst)
	}
	return appendTime(dst, t)
}
