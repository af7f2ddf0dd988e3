package recurlytest

import (
	"strconv"
	"strings"
)

// fieldFn appends a model-decided value. objS and objV are the enclosing
// object's states, for fields that fall back to their spec-generated value.
type fieldFn = func(g *gen, dst []byte, objS, objV uint64) []byte

// override hands a compiled node (path: Component.field, or deeper) to the
// domain model where the model decides the value. Nodes not named here keep
// the value their spec schema and name give them.
func override(path string, n *node) {
	fn := func(f fieldFn) { n.kind, n.fn, n.nullPct = nkFunc, f, 0 }
	pick := func(f func(g *gen) int) { n.sel, n.pick, n.refNull = selModel, f, 0; n.nullPct = 0 }
	fallback := *n // the spec-generated node, for values the model keeps
	generic := func(g *gen, dst []byte, objS, objV uint64) []byte { return g.value(dst, &fallback, objS, objV) }
	money := func(f func(g *gen) int64) {
		fn(func(g *gen, dst []byte, _, _ uint64) []byte { return appendMoney(dst, f(g)) })
	}
	enum := func(f func(g *gen) string) {
		fn(func(g *gen, dst []byte, _, _ uint64) []byte { return appendQuoted(dst, f(g)) })
	}
	when := func(f func(g *gen) (bool, int64)) {
		fn(func(g *gen, dst []byte, _, _ uint64) []byte { ok, t := f(g); return timeIf(dst, ok, t) })
	}
	currency := func(g *gen) string { return g.s.accountCurrency(g.acct) }
	// nullUnless renders the node as the spec and the model make it when
	// ok, else null (set count first: the node is copied).
	nullUnless := func(ok func(g *gen) bool) {
		fb := *n
		fb.nullPct = 0
		fn(func(g *gen, dst []byte, objS, objV uint64) []byte {
			if !ok(g) {
				return appendNull(dst)
			}
			return g.value(dst, &fb, objS, objV)
		})
	}
	integer := func(f func(g *gen) int64) {
		fn(func(g *gen, dst []byte, _, _ uint64) []byte { return strconv.AppendInt(dst, f(g), 10) })
	}

	if comp, field, ok := strings.Cut(path, "."); ok && (field == "state" || field == "deleted_at") && inactiveOf[comp] != nil {
		// Accounts, plans and add-ons: inactive exactly when deleted.
		inactive := inactiveOf[comp]
		if field == "state" {
			enum(func(g *gen) string {
				if inactive(g) {
					return "inactive"
				}
				return "active"
			})
		} else {
			when(func(g *gen) (bool, int64) { return inactive(g), g.between(0xde1) })
		}
		return
	}
	switch path {
	// Coupons: "plans": "all" (the v2018-08-09 quirk), expired_at exactly
	// when expired, unique codes only on bulk coupons.
	case "Account.parent_account_id":
		pick(func(g *gen) int { return g.s.accountParent(g.i) })
	case "Account.bill_to":
		enum(func(g *gen) string {
			if g.s.billsParent(g.i) {
				return "parent"
			}
			return "self"
		})
	case "LineItem.previous_line_item_id":
		pick(func(g *gen) int { return g.s.previousLine(g.i) })
	case "LineItem.original_line_item_invoice_id":
		pick(func(g *gen) int {
			if g.s.previousLine(g.i) >= 0 {
				return g.line().inv - 1
			}
			return -1
		})
	case "Transaction.voided_by_invoice":
		fn(func(_ *gen, dst []byte, _, _ uint64) []byte { return appendNull(dst) })
	case "Coupon.state":
		enum(func(g *gen) string { return couponStates[g.s.couponState(g.i)] })
	case "Coupon.expired_at":
		when(func(g *gen) (bool, int64) { return g.s.couponState(g.i) == couponExpired, g.between(0xe8) })
	case "Coupon.applies_to_all_plans":
		fn(func(g *gen, dst []byte, _, _ uint64) []byte { return appendBool(dst, g.s.couponAllPlans(g.i)) })
	case "Coupon.plans":
		fn(func(g *gen, dst []byte, objS, objV uint64) []byte {
			if g.s.couponAllPlans(g.i) {
				return append(dst, `"all"`...)
			}
			return generic(g, dst, objS, objV)
		})
	case "Coupon.coupon_type":
		enum(func(g *gen) string {
			if isBulk(g.i) {
				return "bulk"
			}
			return "single_code"
		})
	case "Coupon.unique_coupon_codes_count":
		fn(func(g *gen, dst []byte, _, _ uint64) []byte {
			return strconv.AppendInt(dst, int64(len(g.s.children[kUniqueCode].of(g.i))), 10)
		})
	case "Coupon.unique_code_template":
		fn(func(g *gen, dst []byte, objS, objV uint64) []byte {
			if !isBulk(g.i) {
				return appendNull(dst)
			}
			fb := fallback
			fb.nullPct = 0
			return g.value(dst, &fb, objS, objV)
		})

	// Subscriptions: totals from unit amounts and add-ons; state agrees
	// with its timestamps.
	case "Subscription.plan":
		pick(func(g *gen) int { return g.sub().plan })
	case "Subscription.state":
		enum(func(g *gen) string { return subStates[g.sub().state] })
	case "Subscription.canceled_at":
		when(func(g *gen) (bool, int64) {
			st := g.sub().state
			return st == subCanceled || st == subExpired && g.h(0xcace)%2 == 0, g.between(0xca)
		})
	case "Subscription.expires_at":
		when(subExpires)
	case "Subscription.current_period_started_at":
		when(func(g *gen) (bool, int64) { start, _ := g.period(); return true, start })
	case "Subscription.current_period_ends_at":
		when(func(g *gen) (bool, int64) { _, end := g.period(); return true, end })
	case "Subscription.current_term_started_at":
		when(func(g *gen) (bool, int64) { start, _ := g.period(); return true, start })
	case "Subscription.current_term_ends_at":
		when(func(g *gen) (bool, int64) {
			start, _ := g.period()
			return true, addMonths(start, g.s.planMonths(g.sub().plan)*int(g.s.remainingCycles(g.i)))
		})
	case "Subscription.remaining_billing_cycles":
		integer(func(g *gen) int64 { return g.s.remainingCycles(g.i) })
	case "Subscription.total_billing_cycles":
		integer(func(g *gen) int64 { return g.s.remainingCycles(g.i) + int64(g.h(0x7bc)%12) })
	case "Subscription.add_ons[].add_ons.expired_at":
		when(func(g *gen) (bool, int64) { ok, t := subExpires(g); return ok && g.sub().state == subExpired, t })
	case "Subscription.pending_change":
		nullUnless(func(g *gen) bool { return g.s.pendingPlan(g.i) >= 0 })
	case "Subscription.pending_change.plan":
		pick(func(g *gen) int { return g.s.pendingPlan(g.i) })
	case "Subscription.pending_change.unit_amount":
		money(func(g *gen) int64 { u, _ := g.s.planPrice(g.s.pendingPlan(g.i), g.sub().cur); return u })
	case "Subscription.pending_change.quantity":
		integer(func(g *gen) int64 { return g.sub().qty })
	case "Subscription.pending_change.activate_at":
		when(func(g *gen) (bool, int64) { _, end := g.period(); return true, end }) // at renewal
	case "Subscription.pending_change.activated":
		fn(func(_ *gen, dst []byte, _, _ uint64) []byte { return appendBool(dst, false) })
	case "Subscription.pending_change.deleted_at", "Subscription.pending_change.add_ons[].add_ons.expired_at":
		fn(func(_ *gen, dst []byte, _, _ uint64) []byte { return appendNull(dst) })
	case "Subscription.pending_change.add_ons":
		n.count = func(g *gen) int { return g.s.pendingAddOns(g.i) }
		n.nullPct = 0
	case "Subscription.pending_change.add_ons[].add_ons.add_on":
		pick(func(g *gen) int { a, _, _ := g.s.pendingAddOn(g.i, g.arr.elem); return a })
	case "Subscription.pending_change.add_ons[].add_ons.unit_amount":
		money(func(g *gen) int64 { _, u, _ := g.s.pendingAddOn(g.i, g.arr.elem); return u })
	case "Subscription.pending_change.add_ons[].add_ons.quantity":
		integer(func(g *gen) int64 { _, _, q := g.s.pendingAddOn(g.i, g.arr.elem); return q })

	// Plans and add-ons: priced in every currency of the site; plans bill
	// in whole months.
	case "Plan.interval_unit":
		enum(func(*gen) string { return "months" })
	case "Plan.interval_length":
		integer(func(g *gen) int64 { return int64(g.s.planMonths(g.i)) })
	case "Plan.currencies", "AddOn.currencies":
		n.count = func(*gen) int { return len(currencies) }
		n.nullPct = 0
	case "Plan.currencies[].currencies.currency", "AddOn.currencies[].currencies.currency":
		enum(func(g *gen) string { return currencies[g.arr.elem] })
	case "Plan.currencies[].currencies.unit_amount":
		money(func(g *gen) int64 { u, _ := g.s.planPrice(g.i, g.arr.elem); return u })
	case "Plan.currencies[].currencies.setup_fee":
		money(func(g *gen) int64 { _, f := g.s.planPrice(g.i, g.arr.elem); return f })
	case "AddOn.currencies[].currencies.unit_amount":
		money(func(g *gen) int64 { return g.s.addOnPrice(g.i, g.arr.elem) })

	// Coupons: a discount of one type, with only that type's member set.
	case "Coupon.discount.type":
		enum(func(g *gen) string { return discountTypes[g.s.discountType(g.i)] })
	case "Coupon.discount.percent":
		fn(func(g *gen, dst []byte, _, _ uint64) []byte {
			if g.s.discountType(g.i) != discountPercent {
				return appendNull(dst)
			}
			return strconv.AppendInt(dst, g.s.discountPercent(g.i), 10)
		})
	case "Coupon.discount.currencies":
		n.count = func(*gen) int { return len(currencies) }
		nullUnless(func(g *gen) bool { return g.s.discountType(g.i) == discountFixed })
	case "Coupon.discount.currencies[].currencies.currency":
		enum(func(g *gen) string { return currencies[g.arr.elem] })
	case "Coupon.discount.currencies[].currencies.amount":
		money(func(g *gen) int64 { return g.s.discountAmount(g.i, g.arr.elem) })
	case "Coupon.discount.trial":
		nullUnless(func(g *gen) bool { return g.s.discountType(g.i) == discountTrial })
	case "Coupon.discount.trial.unit":
		enum(func(g *gen) string { u, _ := g.s.couponTrial(g.i); return u })
	case "Coupon.discount.trial.length":
		integer(func(g *gen) int64 { _, l := g.s.couponTrial(g.i); return l })
	case "Coupon.free_trial_unit":
		fn(func(g *gen, dst []byte, _, _ uint64) []byte {
			if g.s.discountType(g.i) != discountTrial {
				return appendNull(dst)
			}
			u, _ := g.s.couponTrial(g.i)
			return appendQuoted(dst, u)
		})
	case "Coupon.free_trial_amount":
		fn(func(g *gen, dst []byte, _, _ uint64) []byte {
			if g.s.discountType(g.i) != discountTrial {
				return appendNull(dst)
			}
			_, l := g.s.couponTrial(g.i)
			return strconv.AppendInt(dst, l, 10)
		})
	case "Subscription.paused_at":
		when(func(g *gen) (bool, int64) { return g.sub().state == subPaused, g.between(0x9a) })
	case "Subscription.remaining_pause_cycles":
		fn(func(g *gen, dst []byte, _, _ uint64) []byte {
			if g.sub().state != subPaused {
				return appendNull(dst)
			}
			return strconv.AppendUint(dst, 1+g.h(0x9b)%3, 10)
		})
	case "Subscription.trial_started_at":
		when(func(g *gen) (bool, int64) { return g.sub().trial, g.created })
	case "Subscription.trial_ends_at":
		when(func(g *gen) (bool, int64) { return g.sub().trial, g.created + 86400*[]int64{7, 14, 30}[g.h(0x7e)%3] })
	case "Subscription.activated_at":
		when(func(g *gen) (bool, int64) { return g.sub().state != subFuture, g.created })
	case "Subscription.currency", "Invoice.currency", "LineItem.currency", "Transaction.currency",
		"CreditPayment.currency", "CouponRedemption.currency":
		enum(currency)
	case "Subscription.unit_amount":
		money(func(g *gen) int64 { return g.sub().unit })
	case "Subscription.quantity":
		fn(func(g *gen, dst []byte, _, _ uint64) []byte { return strconv.AppendInt(dst, g.sub().qty, 10) })
	case "Subscription.add_ons":
		n.count = func(g *gen) int { return g.sub().addOns }
		n.nullPct = 0
	case "Subscription.add_ons[].add_ons.unit_amount":
		money(func(g *gen) int64 { u, _ := g.s.subAddOn(g.i, g.arr.elem); return u })
	case "Subscription.add_ons[].add_ons.quantity":
		fn(func(g *gen, dst []byte, _, _ uint64) []byte {
			_, q := g.s.subAddOn(g.i, g.arr.elem)
			return strconv.AppendInt(dst, q, 10)
		})
	case "Subscription.add_ons[].add_ons.add_on":
		pick(func(g *gen) int { return g.s.subAddOnOf(g.i, g.arr.elem) })
	case "Subscription.add_ons_total":
		money(func(g *gen) int64 { return g.sub().addOnsTotal })
	case "Subscription.subtotal":
		money(func(g *gen) int64 { f := g.sub(); return f.unit*f.qty + f.addOnsTotal })
	case "Subscription.coupon_redemptions":
		n.count = func(*gen) int { return 0 } // redemptions are the account's (its own list)
		n.nullPct = 0

	// Invoices: sums of their line items; paid + balance = total; closed
	// exactly when paid or failed; their line items, transactions and
	// credit payments embedded.
	case "Invoice.type":
		enum(func(g *gen) string {
			switch {
			case g.inv().credit:
				return "credit"
			case g.inv().legacy:
				return "legacy"
			}
			return "charge"
		})
	case "Invoice.origin":
		enum(func(g *gen) string {
			r := g.h(0x0419)
			if g.inv().credit {
				return []string{"line_item_refund", "line_item_refund", "open_amount_refund", "credit"}[r%4]
			}
			if len(g.s.invSubs(g.i)) > 0 {
				return "renewal"
			}
			return "purchase"
		})
	case "Invoice.state":
		enum(func(g *gen) string { return invoiceStates[g.inv().state] })
	case "Invoice.closed_at":
		when(func(g *gen) (bool, int64) {
			st := g.inv().state
			return st == invPaid || st == invFailed, g.between(0xc105)
		})
	case "Invoice.previous_invoice_id":
		pick(func(g *gen) int {
			if g.inv().credit {
				return g.i - 1
			}
			return -1
		})
	case "Invoice.subscription_ids":
		n.count = func(g *gen) int { return len(g.s.invSubs(g.i)) }
		n.nullPct = 0
	case "Invoice.subscription_ids[].subscription_ids":
		pick(func(g *gen) int { return g.s.invSubs(g.i)[g.arr.elem] })
	case "Transaction.subscription_ids[].subscription_ids":
		pick(func(g *gen) int { return g.s.invSubs(g.tx().inv)[g.arr.elem] })
	case "Invoice.discount":
		money(func(g *gen) int64 { return g.inv().discount })
	case "Invoice.subtotal":
		money(func(g *gen) int64 { return g.inv().subtotal })
	case "Invoice.tax":
		money(func(g *gen) int64 { return g.inv().tax })
	case "Invoice.total":
		money(func(g *gen) int64 { return g.inv().total })
	case "Invoice.paid":
		money(func(g *gen) int64 { return g.inv().paid })
	case "Invoice.refundable_amount":
		money(func(g *gen) int64 { return g.inv().paid })
	case "Invoice.balance":
		money(func(g *gen) int64 { return g.inv().balance })
	case "Invoice.line_items":
		fn(func(g *gen, dst []byte, _, _ uint64) []byte {
			f := g.inv()
			dst = append(dst, `{"object":"list","has_more":false,"next":null,"data":[`...)
			for li := f.linesLo; li < f.linesHi; li++ {
				if li > f.linesLo {
					dst = append(dst, ',')
				}
				dst = g.s.appendRecord(dst, kLineItem, li)
			}
			return append(dst, "]}"...)
		})
	case "Invoice.transactions":
		fn(func(g *gen, dst []byte, _, _ uint64) []byte {
			lo, hi := g.s.invTransactions(g.i)
			return g.s.appendRecords(dst, kTransaction, lo, hi, nil)
		})
	case "Invoice.credit_payments":
		fn(func(g *gen, dst []byte, _, _ uint64) []byte {
			return g.s.appendRecords(dst, kCreditPayment, 0, 0, g.s.cpByInvoice.of(g.i))
		})

	// Line items: subtotal = quantity × unit_amount, amount = subtotal −
	// discount + tax, credits negative, invoiced exactly when on an invoice.
	case "LineItem.type":
		enum(func(g *gen) string {
			if g.line().credit {
				return "credit"
			}
			return "charge"
		})
	case "LineItem.legacy_category":
		enum(func(g *gen) string {
			if g.line().credit {
				return "credit"
			}
			return "charge"
		})
	case "LineItem.state":
		enum(func(g *gen) string {
			if g.line().inv >= 0 {
				return "invoiced"
			}
			return "pending"
		})
	case "LineItem.origin":
		enum(func(g *gen) string { return lineOrigins[g.line().origin] })
	case "LineItem.add_on_id", "LineItem.add_on_code":
		pick(func(g *gen) int { return g.line().addOn })
	case "LineItem.start_date":
		when(func(g *gen) (bool, int64) { start, _ := g.s.linePeriod(g.i, g.line()); return true, start })
	case "LineItem.end_date":
		when(func(g *gen) (bool, int64) { _, end := g.s.linePeriod(g.i, g.line()); return end != noTime, end })
	case "LineItem.credit_reason_code":
		fn(func(g *gen, dst []byte, objS, objV uint64) []byte {
			if !g.line().credit {
				return appendNull(dst)
			}
			return appendQuoted(dst, []string{"general", "service", "promotional", "refund", "write_off"}[g.h(0xc7)%5])
		})
	case "LineItem.subscription_id":
		pick(func(g *gen) int { return g.line().sub })
	case "LineItem.plan_id", "LineItem.plan_code":
		pick(func(g *gen) int { return g.line().plan })
	case "LineItem.invoice_id", "LineItem.invoice_number":
		pick(func(g *gen) int { return g.line().inv })
	case "LineItem.quantity":
		fn(func(g *gen, dst []byte, _, _ uint64) []byte { return strconv.AppendInt(dst, g.line().qty, 10) })
	case "LineItem.unit_amount":
		money(func(g *gen) int64 { return g.line().unit })
	case "LineItem.subtotal":
		money(func(g *gen) int64 { return g.line().subtotal })
	case "LineItem.discount":
		money(func(g *gen) int64 { return g.line().discount })
	case "LineItem.tax":
		money(func(g *gen) int64 { return g.line().tax })
	case "LineItem.amount":
		money(func(g *gen) int64 { return g.line().amount })
	case "LineItem.refund":
		fn(func(g *gen, dst []byte, _, _ uint64) []byte { return appendBool(dst, g.line().prev >= 0) })

	// Transactions: success exactly when status is success, voided_at
	// exactly when void, refunds name the payment they refund.
	case "Transaction.invoice":
		pick(func(g *gen) int { return g.tx().inv })
	case "Transaction.original_transaction_id":
		pick(func(g *gen) int { return g.tx().orig })
	case "Transaction.type":
		enum(func(g *gen) string { return g.tx().typ })
	case "Transaction.status":
		enum(func(g *gen) string { return txStatuses[g.tx().status] })
	case "Transaction.success":
		fn(func(g *gen, dst []byte, _, _ uint64) []byte { return appendBool(dst, g.tx().status == txSuccess) })
	case "Transaction.refunded":
		fn(func(g *gen, dst []byte, _, _ uint64) []byte { return appendBool(dst, g.tx().refunded) })
	case "Transaction.amount":
		money(func(g *gen) int64 { return g.s.txAmount(g.tx()) })
	case "Transaction.voided_at":
		when(func(g *gen) (bool, int64) { return g.tx().status == txVoid, g.between(0x701d) })
	case "Transaction.status_code":
		fn(func(g *gen, dst []byte, objS, objV uint64) []byte {
			switch g.tx().status {
			case txSuccess:
				return appendQuoted(dst, "approved")
			case txDeclined:
				return appendQuoted(dst, []string{"declined", "insufficient_funds", "expired_card", "call_issuer"}[g.h(0x5c)%4])
			}
			return appendNull(dst)
		})
	case "Transaction.subscription_ids":
		n.count = func(g *gen) int { return len(g.s.invSubs(g.tx().inv)) }
		n.nullPct = 0

	// Credit payments pay charge invoices of their own account.
	case "CreditPayment.applied_to_invoice":
		pick(func(g *gen) int { return g.s.creditPaymentInvoice(g.i) })
	case "CreditPayment.original_invoice":
		pick(func(g *gen) int {
			if j := g.s.creditPaymentInvoice(g.i) + 1; g.s.isCredit(j) {
				return j
			}
			return -1
		})
	case "CreditPayment.action":
		enum(func(g *gen) string {
			return []string{"payment", "payment", "payment", "payment", "write_off", "reduction"}[g.h(0xac)%6]
		})
	case "CreditPayment.amount":
		money(func(g *gen) int64 { return g.s.creditPaymentAmount(g.i) })
	case "CreditPayment.original_credit_payment_id", "CreditPayment.refund_transaction":
		fn(func(_ *gen, dst []byte, _, _ uint64) []byte { return appendNull(dst) })

	case "UniqueCouponCode.state":
		enum(func(g *gen) string { return codeStates[g.s.codeState(g.i)] })
	case "UniqueCouponCode.redeemed_at":
		when(func(g *gen) (bool, int64) { return g.s.codeState(g.i) == 1, g.between(0x4ed) })
	case "UniqueCouponCode.expired_at":
		when(func(g *gen) (bool, int64) { return g.s.codeState(g.i) == 2, g.between(0xe8) })

	case "CouponRedemption.coupon":
		n.kind, n.target = nkFull, kCoupon
		pick(func(g *gen) int { return g.s.redemptionCoupon(g.i) })
	case "CouponRedemption.state":
		enum(func(g *gen) string {
			if g.s.redemptionInactive(g.i) {
				return "inactive"
			}
			return "active"
		})
	case "CouponRedemption.removed_at":
		when(func(g *gen) (bool, int64) { t, gone := g.s.redemptionRemoved(g.i); return gone, t })

	case "AccountAcquisition.cost.currency":
		enum(currency)

	case "CustomFieldDefinition.name":
		enum(func(g *gen) string { return customFieldName(g.i) })
	case "CustomFieldDefinition.display_name":
		fn(func(g *gen, dst []byte, _, _ uint64) []byte {
			dst = appendTitle(append(dst, '"'), spaced(customFieldName(g.i)))
			return append(dst, '"')
		})
	}
}

// inactiveOf says whether a record of an Account, Plan or AddOn is inactive
// (and so deleted).
var inactiveOf = map[string]func(g *gen) bool{
	"Account": func(g *gen) bool { return g.s.accountInactive(g.i) },
	"Plan":    func(g *gen) bool { return g.s.planInactive(g.i) },
	"AddOn":   func(g *gen) bool { return g.s.addOnInactive(g.i) },
}

// subExpires is a subscription's expires_at: when an expired one expired,
// or the end of a canceled one's paid period.
func subExpires(g *gen) (bool, int64) {
	switch g.sub().state {
	case subExpired:
		return true, max(g.between(0xe9), g.between(0xca))
	case subCanceled:
		_, end := g.period()
		return true, end
	}
	return false, 0
}

// period is a subscription's current billing period: the one that holds
// its updated_at (a renewal updates it).
func (g *gen) period() (start, end int64) { return g.s.subPeriod(g.i, g.updated) }

// h is the rendered record's stable hash for one decision.
func (g *gen) h(salt uint64) uint64 { return mix(g.t.stable(g.i) ^ salt) }

// appendRecords appends a JSON array of records [lo, hi) of kind k, or of
// idx when it is not nil.
func (s *Site) appendRecords(dst []byte, k kind, lo, hi int, idx []int32) []byte {
	dst = append(dst, '[')
	first := true
	add := func(i int) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = s.appendRecord(dst, k, i)
	}
	if idx != nil {
		for _, i := range idx {
			add(int(i))
		}
	} else {
		for i := lo; i < hi; i++ {
			add(i)
		}
	}
	return append(dst, ']')
}

func spaced(name string) string {
	b := []byte(name)
	for i, c := range b {
		if c == '_' {
			b[i] = ' '
		}
	}
	return string(b)
}
