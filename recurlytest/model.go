package recurlytest

import (
	"slices"
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
func (s *Site) accountCurrency(a int) string { return currencies[s.accountCur(a)] }

// accountCur is account a's currency as an index of currencies: USD for
// three accounts in four.
func (s *Site) accountCur(a int) int {
	if a < 0 {
		return 0
	}
	r := s.h(kAccount, a, 0xc1c1)
	if r%4 != 0 {
		return 0
	}
	return int((r >> 8) % uint64(len(currencies)))
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
	if li-lo >= phi-plo {
		return -1 // more credit lines than charges: a plain credit
	}
	return plo + (li - lo)
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

// couponPlans lists the plans a coupon not for all plans applies to: one
// or two (none for a coupon for all plans).
func (s *Site) couponPlans(c int) []int {
	np := s.n(kPlan)
	if np == 0 || s.couponAllPlans(c) {
		return nil
	}
	r := s.h(kCoupon, c, 0x91a5)
	first := int(r % uint64(np))
	if np > 1 && (r>>8)%2 == 0 {
		return []int{first, (first + 1) % np}
	}
	return []int{first}
}

// couponNonPlan: the coupon also discounts one-time charges.
func (s *Site) couponNonPlan(c int) bool { return s.h(kCoupon, c, 0x40b1)%2 == 0 }

// couponCovers reports whether coupon c discounts charge f: a plan's
// charge (plan, add-on or setup fee) when it is for all plans or that
// plan; a one-time charge when it covers non-plan charges.
func (s *Site) couponCovers(c int, f *lineFacts) bool {
	if f.plan < 0 {
		return s.couponNonPlan(c)
	}
	return s.couponAllPlans(c) || slices.Contains(s.couponPlans(c), f.plan)
}

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
	acct, plan, state, cur int
	trial                  bool
	unit                   int64 // cents: the plan's price in the account's currency
	qty                    int64
	addOns                 int
	addOnsTotal            int64
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

// subAddOn is element e of subscription i's add-ons: unit amount (cents,
// the add-on's price in the subscription's currency) and quantity.
func (s *Site) subAddOn(i, e int) (unit, qty int64) {
	r := s.h(kSubscription, i, 0xadd0+uint64(e))
	return s.addOnPrice(s.subAddOnOf(i, e), s.accountCur(s.subAccount(i))), int64(1 + (r>>8)%5)
}

func (s *Site) subState(i int) int {
	switch x := s.h(kSubscription, i, 0x5b5) % 100; {
	case x < 72:
		return subActive
	case x < 81:
		return subCanceled
	case x < 89:
		return subExpired
	case x < 93:
		return subFuture
	case x < 97:
		return subPaused
	}
	return subFailed
}

func (s *Site) subFacts(i int) subFacts {
	f := subFacts{acct: s.subAccount(i), plan: s.planOfSub(i), state: s.subState(i)}
	r := s.h(kSubscription, i, 0x5b5)
	f.cur = s.accountCur(f.acct)
	f.trial = (r>>8)%100 < 30
	f.unit = int64(100*(5+(r>>16)%196)) - int64((r>>24)%2)
	if f.plan >= 0 {
		f.unit, _ = s.planPrice(f.plan, f.cur)
	}
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

// pendingPlan is the plan subscription i changes to at its renewal, or -1
// when it has no pending change (only active subscriptions have one, about
// one in five, always to another plan).
func (s *Site) pendingPlan(i int) int {
	np := s.n(kPlan)
	r := s.h(kSubscription, i, 0xc4a9)
	if np < 2 || s.subState(i) != subActive || r%100 >= 20 {
		return -1
	}
	return (s.planOfSub(i) + 1 + int((r>>8)%uint64(np-1))) % np
}

// pendingAddOns is how many add-ons a pending change of subscription i
// carries: distinct add-ons of its new plan.
func (s *Site) pendingAddOns(i int) int {
	pp := s.pendingPlan(i)
	if r := s.h(kSubscription, i, 0xc4aa); pp >= 0 && r%2 == 0 {
		return min(int(1+(r>>8)%2), len(s.addOnsByPlan.of(pp)))
	}
	return 0
}

// pendingAddOn is element e of subscription i's pending add-ons: the plan
// add-on, its unit amount (the add-on's price in the subscription's
// currency) and its quantity.
func (s *Site) pendingAddOn(i, e int) (addOn int, unit, qty int64) {
	list := s.addOnsByPlan.of(s.pendingPlan(i))
	if len(list) == 0 {
		return -1, 0, 0
	}
	r := s.h(kSubscription, i, 0xc4ab+uint64(e))
	addOn = int(list[(int(s.h(kSubscription, i, 0xc4ac)%uint64(len(list)))+e)%len(list)])
	return addOn, s.addOnPrice(addOn, s.accountCur(s.subAccount(i))), int64(1 + r%5)
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

// Line item origins.
const (
	originPlan = iota
	originAddOn
	originSetupFee
	originOneTime
	originCredit
)

var lineOrigins = []string{"plan", "add_on", "setup_fee", "one_time", "credit"}

type lineFacts struct {
	inv, acct, sub, plan, addOn int
	prev                        int // the charge line item a refund credits, or -1
	red                         int // the coupon redemption that discounts it, or -1
	origin                      int
	credit                      bool
	qty, unit, subtotal         int64
	discount, tax, amount       int64
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

// lineFacts: a refund mirrors the charge it credits (every amount negated);
// other credits are plain; charges are chargeLine's.
func (s *Site) lineFacts(li int) lineFacts {
	if p := s.previousLine(li); p >= 0 {
		f := s.chargeLine(p)
		f.inv, f.prev, f.credit, f.origin = s.lineInvoice(li), p, true, originCredit
		f.unit, f.subtotal, f.discount, f.tax, f.amount = -f.unit, -f.subtotal, -f.discount, -f.tax, -f.amount
		return f
	}
	inv := s.lineInvoice(li)
	credit := inv >= 0 && s.isCredit(inv) || inv < 0 && s.h(kLineItem, li, 0x11e)%100 < 10
	if !credit {
		return s.chargeLine(li)
	}
	r := s.h(kLineItem, li, 0x11e)
	f := lineFacts{inv: inv, acct: s.lineAccount(li), sub: -1, plan: -1, addOn: -1, prev: -1, red: -1, origin: originCredit, credit: true}
	f.qty, f.unit = 1, -int64(100*(5+(r>>24)%300))
	f.subtotal = f.unit
	f.tax = f.subtotal * taxRates[(r>>56)%uint64(len(taxRates))] / 10000
	f.amount = f.subtotal + f.tax
	return f
}

// chargeLine is the charge of line item li: three in four bill one of its
// account's subscriptions (its plan, one of its add-ons or its plan's setup
// fee, at the subscription's prices), the rest are one-time charges.
func (s *Site) chargeLine(li int) lineFacts {
	f := lineFacts{inv: s.lineInvoice(li), acct: s.lineAccount(li), sub: -1, plan: -1, addOn: -1, prev: -1, red: -1, origin: originOneTime}
	r := s.h(kLineItem, li, 0x11e)
	f.qty = 1
	if (r>>8)%100 >= 60 {
		f.qty = int64(2 + (r>>16)%4)
	}
	f.unit = int64(100 * (5 + (r>>24)%300))
	if (r>>34)%3 == 0 {
		f.unit -= 1 // 19.99-style prices
	}
	if f.sub = s.lineSub(li, f.acct, r); f.sub >= 0 {
		s.subscriptionCharge(&f, r)
	}
	f.subtotal = f.qty * f.unit
	if red := s.redemptionAt(f.acct, s.lineDiscountedAt(li, f.inv)); red >= 0 {
		if c := s.redemptionCoupon(red); s.couponCovers(c, &f) {
			f.red, f.discount = red, s.couponDiscount(c, s.accountCur(f.acct), f.subtotal)
		}
	}
	f.tax = (f.subtotal - f.discount) * taxRates[(r>>56)%uint64(len(taxRates))] / 10000
	f.amount = f.subtotal - f.discount + f.tax
	return f
}

// lineDiscountedAt is when line item li's coupons are applied: when its
// invoice was created, or for a pending line item when it was created.
func (s *Site) lineDiscountedAt(li, inv int) int64 {
	if inv >= 0 {
		return s.tables[kInvoice].created[inv]
	}
	return s.tables[kLineItem].created[li]
}

// lineSub is the subscription charge line item li bills (-1 for a one-time
// charge): three in four bill one of its account's subscriptions that
// exists when the line item is created and has started (is not future).
func (s *Site) lineSub(li, acct int, r uint64) int {
	lo, hi := s.accountSubs(acct)
	if hi <= lo || (r>>60)%4 == 0 {
		return -1
	}
	at, created := s.tables[kLineItem].created[li], s.tables[kSubscription].created
	for d := range hi - lo {
		if sub := lo + int((mix(r)+uint64(d))%uint64(hi-lo)); created[sub] <= at && s.subState(sub) != subFuture {
			return sub
		}
	}
	return -1
}

// subscriptionCharge makes f a charge of subscription f.sub: its plan
// (quantity × unit amount), one of its add-ons, or its plan's setup fee.
func (s *Site) subscriptionCharge(f *lineFacts, r uint64) {
	sf := s.subFacts(f.sub)
	f.plan, f.origin, f.qty, f.unit = sf.plan, originPlan, sf.qty, sf.unit
	switch x := mix(r^0x0419) % 100; {
	case x < 25 && sf.addOns > 0:
		e := int(mix(r^0xadd) % uint64(sf.addOns))
		f.origin, f.addOn = originAddOn, s.subAddOnOf(f.sub, e)
		f.unit, f.qty = s.subAddOn(f.sub, e)
	case x >= 85 && sf.plan >= 0:
		if _, setup := s.planPrice(sf.plan, sf.cur); setup > 0 {
			f.origin, f.qty, f.unit = originSetupFee, 1, setup
		}
	}
}

// linePeriod is line item li's service period (end is noTime when open):
// a plan or add-on charge covers its subscription's billing period that
// holds the line item's created_at; a setup fee starts at the
// subscription's activation; one-time charges and plain credits start when
// created; a refund has the period of the charge it credits.
func (s *Site) linePeriod(li int, f *lineFacts) (start, end int64) {
	if f.prev >= 0 {
		p := s.chargeLine(f.prev)
		return s.linePeriod(f.prev, &p)
	}
	switch f.origin {
	case originPlan, originAddOn:
		return s.subPeriod(f.sub, s.tables[kLineItem].created[li])
	case originSetupFee:
		return s.tables[kSubscription].created[f.sub], noTime
	}
	return s.tables[kLineItem].created[li], noTime
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
	amount          int64 // for the payment that settles an invoice, before credit payments (see txAmount)
	refunded        bool
	settles         bool // the successful payment of an invoice's paid amount
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
	f.settles = last && f.status == txSuccess
	if last && f.status == txSuccess && s.isCredit(f.inv+1) {
		lo, hi := s.invTransactions(f.inv + 1)
		f.refunded = hi > lo
	}
	return f
}

// --- credit payments, unique codes, redemptions ---

// txAmount is transaction t's amount: a settling payment pays what credit
// payments left of its invoice's paid amount.
func (s *Site) txAmount(f *txFacts) int64 {
	if f.settles {
		return f.amount - s.creditPaid(f.inv)
	}
	return f.amount
}

// creditPaymentInvoice is the invoice a credit payment is applied to: the
// first charge invoice with something paid at or after the one it is drawn
// for (-1 when there is none).
func (s *Site) creditPaymentInvoice(i int) int {
	j0 := s.parent(s.tables[kCreditPayment], i, kInvoice)
	n := s.n(kInvoice)
	for d := 0; j0 >= 0 && d < n; d++ {
		if j := (j0 + d) % n; !s.isCredit(j) && s.invFacts(j).paid > 0 {
			return j
		}
	}
	return -1
}

// creditPaymentAmount is credit payment i's amount: the credit payments
// applied to an invoice together pay at most its paid amount.
func (s *Site) creditPaymentAmount(i int) int64 {
	return s.creditPaymentAmountOn(i, s.creditPaymentInvoice(i))
}

// creditPaymentAmountOn is creditPaymentAmount for credit payment i
// applied to invoice j.
func (s *Site) creditPaymentAmountOn(i, j int) int64 {
	if j < 0 {
		return 0
	}
	k := int64(max(1, len(s.cpByInvoice.of(j))))
	return s.invFacts(j).paid * int64(20+s.h(kCreditPayment, i, 0xa3)%81) / 100 / k
}

// creditPaid is the sum of the credit payments applied to invoice j.
func (s *Site) creditPaid(j int) int64 {
	var sum int64
	for _, i := range s.cpByInvoice.of(j) {
		sum += s.creditPaymentAmountOn(int(i), j)
	}
	return sum
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
	subs           []int    // an invoice's (or a transaction's invoice's) subscriptions
	period         [2]int64 // a line item's period
	subPeriod      [2]int64 // a subscription's current period
	cpInv          int      // a credit payment's invoice
	hasSub, hasInv bool
	hasLine, hasTx bool
	hasSubs        bool
	hasPeriod      bool
	hasSubPeriod   bool
	hasCPInv       bool
}

// invSubs is invSubs of the invoice rendered, or of the rendered
// transaction's invoice.
func (g *gen) invSubs() []int {
	if !g.m.hasSubs {
		j := g.i
		if g.k == kTransaction {
			j = g.tx().inv
		}
		g.m.subs, g.m.hasSubs = g.s.invSubs(j), true
	}
	return g.m.subs
}

// linePeriod is the rendered line item's period.
func (g *gen) linePeriod() (start, end int64) {
	if !g.m.hasPeriod {
		g.m.period[0], g.m.period[1] = g.s.linePeriod(g.i, g.line())
		g.m.hasPeriod = true
	}
	return g.m.period[0], g.m.period[1]
}

// cpInvoice is the rendered credit payment's invoice.
func (g *gen) cpInvoice() int {
	if !g.m.hasCPInv {
		g.m.cpInv, g.m.hasCPInv = g.s.creditPaymentInvoice(g.i), true
	}
	return g.m.cpInv
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
