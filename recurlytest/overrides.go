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
// the value their spec schema and name give them. The tables below say,
// per concern, which paths the model decides and how.
func override(path string, n *node) {
	o := &ovr{n: n, fallback: *n}
	if comp, field, ok := strings.Cut(path, "."); ok && (field == "state" || field == "deleted_at") && inactiveOf[comp] != nil {
		o.inactive(inactiveOf[comp], field)
		return
	}
	for _, table := range []func(string) bool{o.accounts, o.coupons, o.couponDiscounts, o.subscription, o.subscriptionPeriods,
		o.pendingChange, o.catalog, o.invoice, o.invoiceAmounts, o.invoiceEmbeds, o.lineItem, o.lineItemAmounts, o.transaction, o.children} {
		if table(path) {
			return
		}
	}
}

// ovr rewrites one compiled node into what the model decides.
type ovr struct {
	n        *node
	fallback node // the spec-generated node, for values the model keeps
}

// fn makes the node's value f's.
func (o *ovr) fn(f fieldFn) { o.n.kind, o.n.fn, o.n.nullPct = nkFunc, f, 0 }

// pick makes a reference node point at the record f picks (-1: null).
func (o *ovr) pick(f func(g *gen) int) {
	o.n.sel, o.n.pick, o.n.refNull, o.n.nullPct = selModel, f, 0, 0
}

// generic renders the spec-generated value.
func (o *ovr) generic(g *gen, dst []byte, objS, objV uint64) []byte {
	return g.value(dst, &o.fallback, objS, objV)
}

func (o *ovr) money(f func(g *gen) int64) {
	o.fn(func(g *gen, dst []byte, _, _ uint64) []byte { return appendMoney(dst, f(g)) })
}

func (o *ovr) enum(f func(g *gen) string) {
	o.fn(func(g *gen, dst []byte, _, _ uint64) []byte { return appendQuoted(dst, f(g)) })
}

func (o *ovr) integer(f func(g *gen) int64) {
	o.fn(func(g *gen, dst []byte, _, _ uint64) []byte { return strconv.AppendInt(dst, f(g), 10) })
}

// when renders a timestamp when f says ok, else null.
func (o *ovr) when(f func(g *gen) (bool, int64)) {
	o.fn(func(g *gen, dst []byte, _, _ uint64) []byte { ok, t := f(g); return timeIf(dst, ok, t) })
}

// count makes an array node's length f's.
func (o *ovr) count(f func(g *gen) int) { o.n.count, o.n.nullPct = f, 0 }

// nullUnless renders the node as the spec and the model make it when ok,
// else null (set count first: the node is copied).
func (o *ovr) nullUnless(ok func(g *gen) bool) {
	fb := *o.n
	fb.nullPct = 0
	o.fn(func(g *gen, dst []byte, objS, objV uint64) []byte {
		if !ok(g) {
			return appendNull(dst)
		}
		return g.value(dst, &fb, objS, objV)
	})
}

// inactive: accounts, plans and add-ons are inactive exactly when deleted.
func (o *ovr) inactive(inactive func(g *gen) bool, field string) {
	if field == "state" {
		o.enum(func(g *gen) string {
			if inactive(g) {
				return "inactive"
			}
			return "active"
		})
		return
	}
	o.when(func(g *gen) (bool, int64) { return inactive(g), g.between(0xde1) })
}

func accountCurrencyOf(g *gen) string { return g.s.accountCurrency(g.acct) }

// accounts overrides accounts: parents and bill_to.
func (o *ovr) accounts(path string) bool {
	switch path {
	case "Account.parent_account_id":
		o.pick(func(g *gen) int { return g.s.accountParent(g.i) })
	case "Account.bill_to":
		o.enum(func(g *gen) string {
			if g.s.billsParent(g.i) {
				return "parent"
			}
			return "self"
		})
	default:
		return false
	}
	return true
}

// coupons overrides coupons: "plans": "all" (the v2018-08-09 quirk),
// expired_at exactly when expired, unique codes only on bulk coupons.
func (o *ovr) coupons(path string) bool {
	switch path {
	case "Coupon.state":
		o.enum(func(g *gen) string { return couponStates[g.s.couponState(g.i)] })
	case "Coupon.expired_at":
		o.when(func(g *gen) (bool, int64) { return g.s.couponState(g.i) == couponExpired, g.between(0xe8) })
	case "Coupon.applies_to_all_plans":
		o.fn(func(g *gen, dst []byte, _, _ uint64) []byte { return appendBool(dst, g.s.couponAllPlans(g.i)) })
	case "Coupon.plans":
		o.n.count = func(g *gen) int { return len(g.s.couponPlans(g.i)) }
		o.fallback = *o.n
		o.fn(func(g *gen, dst []byte, objS, objV uint64) []byte {
			if g.s.couponAllPlans(g.i) {
				return append(dst, `"all"`...)
			}
			return o.generic(g, dst, objS, objV)
		})
	case "Coupon.plans_names":
		o.count(func(g *gen) int { return len(g.s.couponPlans(g.i)) })
	case "Coupon.plans[].plans", "Coupon.plans_names[].plans_names":
		o.pick(func(g *gen) int { return g.s.couponPlans(g.i)[g.arr.elem] })
	case "Coupon.applies_to_non_plan_charges":
		o.fn(func(g *gen, dst []byte, _, _ uint64) []byte { return appendBool(dst, g.s.couponNonPlan(g.i)) })
	case "Coupon.coupon_type":
		o.enum(func(g *gen) string {
			if isBulk(g.i) {
				return "bulk"
			}
			return "single_code"
		})
	case "Coupon.unique_coupon_codes_count":
		o.fn(func(g *gen, dst []byte, _, _ uint64) []byte {
			return strconv.AppendInt(dst, int64(len(g.s.children[kUniqueCode].of(g.i))), 10)
		})
	case "Coupon.unique_code_template":
		o.fn(func(g *gen, dst []byte, objS, objV uint64) []byte {
			if !isBulk(g.i) {
				return appendNull(dst)
			}
			fb := o.fallback
			fb.nullPct = 0
			return g.value(dst, &fb, objS, objV)
		})
	default:
		return false
	}
	return true
}

// couponDiscounts overrides coupon discounts: one type each, with only that
// type's member set.
func (o *ovr) couponDiscounts(path string) bool {
	switch path {
	case "Coupon.discount.type":
		o.enum(func(g *gen) string { return discountTypes[g.s.discountType(g.i)] })
	case "Coupon.discount.percent":
		o.fn(func(g *gen, dst []byte, _, _ uint64) []byte {
			if g.s.discountType(g.i) != discountPercent {
				return appendNull(dst)
			}
			return strconv.AppendInt(dst, g.s.discountPercent(g.i), 10)
		})
	case "Coupon.discount.currencies":
		o.n.count = func(*gen) int { return len(currencies) }
		o.nullUnless(func(g *gen) bool { return g.s.discountType(g.i) == discountFixed })
	case "Coupon.discount.currencies[].currencies.currency":
		o.enum(func(g *gen) string { return currencies[g.arr.elem] })
	case "Coupon.discount.currencies[].currencies.amount":
		o.money(func(g *gen) int64 { return g.s.discountAmount(g.i, g.arr.elem) })
	case "Coupon.discount.trial":
		o.nullUnless(func(g *gen) bool { return g.s.discountType(g.i) == discountTrial })
	case "Coupon.discount.trial.unit":
		o.enum(func(g *gen) string { u, _ := g.s.couponTrial(g.i); return u })
	case "Coupon.discount.trial.length":
		o.integer(func(g *gen) int64 { _, l := g.s.couponTrial(g.i); return l })
	case "Coupon.free_trial_unit":
		o.fn(func(g *gen, dst []byte, _, _ uint64) []byte {
			if g.s.discountType(g.i) != discountTrial {
				return appendNull(dst)
			}
			u, _ := g.s.couponTrial(g.i)
			return appendQuoted(dst, u)
		})
	case "Coupon.free_trial_amount":
		o.fn(func(g *gen, dst []byte, _, _ uint64) []byte {
			if g.s.discountType(g.i) != discountTrial {
				return appendNull(dst)
			}
			_, l := g.s.couponTrial(g.i)
			return strconv.AppendInt(dst, l, 10)
		})
	default:
		return false
	}
	return true
}

// lineItemAmounts overrides line item amounts: subtotal = quantity ×
// unit_amount, amount = subtotal − discount + tax, credits negative.
func (o *ovr) lineItemAmounts(path string) bool {
	switch path {
	case "LineItem.quantity":
		o.fn(func(g *gen, dst []byte, _, _ uint64) []byte { return strconv.AppendInt(dst, g.line().qty, 10) })
	case "LineItem.unit_amount":
		o.money(func(g *gen) int64 { return g.line().unit })
	case "LineItem.subtotal":
		o.money(func(g *gen) int64 { return g.line().subtotal })
	case "LineItem.discount":
		o.money(func(g *gen) int64 { return g.line().discount })
	case "LineItem.tax":
		o.money(func(g *gen) int64 { return g.line().tax })
	case "LineItem.amount":
		o.money(func(g *gen) int64 { return g.line().amount })
	default:
		return false
	}
	return true
}

// lineItem overrides line items: origins, the subscription and period they
// bill, invoices, refunds.
func (o *ovr) lineItem(path string) bool {
	switch path {
	case "LineItem.previous_line_item_id":
		o.pick(func(g *gen) int { return g.s.previousLine(g.i) })
	case "LineItem.original_line_item_invoice_id":
		o.pick(func(g *gen) int {
			if g.s.previousLine(g.i) >= 0 {
				return g.line().inv - 1
			}
			return -1
		})
	case "LineItem.type":
		o.enum(func(g *gen) string {
			if g.line().credit {
				return "credit"
			}
			return "charge"
		})
	case "LineItem.legacy_category":
		o.enum(func(g *gen) string {
			if g.line().credit {
				return "credit"
			}
			return "charge"
		})
	case "LineItem.state":
		o.enum(func(g *gen) string {
			if g.line().inv >= 0 {
				return "invoiced"
			}
			return "pending"
		})
	case "LineItem.origin":
		o.enum(func(g *gen) string { return lineOrigins[g.line().origin] })
	case "LineItem.add_on_id", "LineItem.add_on_code":
		o.pick(func(g *gen) int { return g.line().addOn })
	case "LineItem.start_date":
		o.when(func(g *gen) (bool, int64) { start, _ := g.linePeriod(); return true, start })
	case "LineItem.end_date":
		o.when(func(g *gen) (bool, int64) { _, end := g.linePeriod(); return end != noTime, end })
	case "LineItem.credit_reason_code":
		o.fn(func(g *gen, dst []byte, objS, objV uint64) []byte {
			if !g.line().credit {
				return appendNull(dst)
			}
			return appendQuoted(dst, []string{"general", "service", "promotional", "refund", "write_off"}[g.h(0xc7)%5])
		})
	case "LineItem.subscription_id":
		o.pick(func(g *gen) int { return g.line().sub })
	case "LineItem.plan_id", "LineItem.plan_code":
		o.pick(func(g *gen) int { return g.line().plan })
	case "LineItem.invoice_id", "LineItem.invoice_number":
		o.pick(func(g *gen) int { return g.line().inv })
	case "LineItem.refund":
		o.fn(func(g *gen, dst []byte, _, _ uint64) []byte { return appendBool(dst, g.line().prev >= 0) })
	default:
		return false
	}
	return true
}

// transaction overrides transactions: types, statuses and amounts from
// the invoice they pay; success exactly when status is success, voided_at
// exactly when void; refunds name the payment they refund.
func (o *ovr) transaction(path string) bool {
	switch path {
	case "Transaction.voided_by_invoice":
		o.fn(func(_ *gen, dst []byte, _, _ uint64) []byte { return appendNull(dst) })
	case "Transaction.subscription_ids[].subscription_ids":
		o.pick(func(g *gen) int { return g.invSubs()[g.arr.elem] })
	case "Transaction.invoice":
		o.pick(func(g *gen) int { return g.tx().inv })
	case "Transaction.original_transaction_id":
		o.pick(func(g *gen) int { return g.tx().orig })
	case "Transaction.type":
		o.enum(func(g *gen) string { return g.tx().typ })
	case "Transaction.status":
		o.enum(func(g *gen) string { return txStatuses[g.tx().status] })
	case "Transaction.success":
		o.fn(func(g *gen, dst []byte, _, _ uint64) []byte { return appendBool(dst, g.tx().status == txSuccess) })
	case "Transaction.refunded":
		o.fn(func(g *gen, dst []byte, _, _ uint64) []byte { return appendBool(dst, g.tx().refunded) })
	case "Transaction.amount":
		o.money(func(g *gen) int64 { return g.s.txAmount(g.tx()) })
	case "Transaction.voided_at":
		o.when(func(g *gen) (bool, int64) { return g.tx().status == txVoid, g.between(0x701d) })
	case "Transaction.status_code":
		o.fn(func(g *gen, dst []byte, objS, objV uint64) []byte {
			switch g.tx().status {
			case txSuccess:
				return appendQuoted(dst, "approved")
			case txDeclined:
				return appendQuoted(dst, []string{"declined", "insufficient_funds", "expired_card", "call_issuer"}[g.h(0x5c)%4])
			}
			return appendNull(dst)
		})
	case "Transaction.subscription_ids":
		o.count(func(g *gen) int { return len(g.invSubs()) })
	default:
		return false
	}
	return true
}

// subscriptionPeriods overrides a subscription's timestamps, agreeing with
// its state, and its billing period and term.
func (o *ovr) subscriptionPeriods(path string) bool {
	switch path {
	case "Subscription.canceled_at":
		o.when(func(g *gen) (bool, int64) {
			st := g.sub().state
			return st == subCanceled || st == subExpired && g.h(0xcace)%2 == 0, g.between(0xca)
		})
	case "Subscription.expires_at":
		o.when(subExpires)
	case "Subscription.current_period_started_at":
		o.when(func(g *gen) (bool, int64) { start, _ := g.period(); return true, start })
	case "Subscription.current_period_ends_at":
		o.when(func(g *gen) (bool, int64) { _, end := g.period(); return true, end })
	case "Subscription.current_term_started_at":
		o.when(func(g *gen) (bool, int64) { start, _ := g.period(); return true, start })
	case "Subscription.current_term_ends_at":
		o.when(func(g *gen) (bool, int64) {
			start, _ := g.period()
			return true, addMonths(start, g.s.planMonths(g.sub().plan)*int(g.s.remainingCycles(g.i)))
		})
	case "Subscription.remaining_billing_cycles":
		o.integer(func(g *gen) int64 { return g.s.remainingCycles(g.i) })
	case "Subscription.total_billing_cycles":
		o.integer(func(g *gen) int64 { return g.s.remainingCycles(g.i) + int64(g.h(0x7bc)%12) })
	case "Subscription.add_ons[].add_ons.expired_at":
		o.when(func(g *gen) (bool, int64) { ok, t := subExpires(g); return ok && g.sub().state == subExpired, t })
	case "Subscription.paused_at":
		o.when(func(g *gen) (bool, int64) { return g.sub().state == subPaused, g.between(0x9a) })
	case "Subscription.remaining_pause_cycles":
		o.fn(func(g *gen, dst []byte, _, _ uint64) []byte {
			if g.sub().state != subPaused {
				return appendNull(dst)
			}
			return strconv.AppendUint(dst, 1+g.h(0x9b)%3, 10)
		})
	case "Subscription.trial_started_at":
		o.when(func(g *gen) (bool, int64) { return g.sub().trial, g.created })
	case "Subscription.trial_ends_at":
		o.when(func(g *gen) (bool, int64) { return g.sub().trial, g.created + 86400*[]int64{7, 14, 30}[g.h(0x7e)%3] })
	case "Subscription.activated_at":
		o.when(func(g *gen) (bool, int64) { return g.sub().state != subFuture, g.created })
	default:
		return false
	}
	return true
}

// subscription overrides subscriptions: plan, state, prices from the plan and
// its add-ons.
func (o *ovr) subscription(path string) bool {
	switch path {
	case "Subscription.plan":
		o.pick(func(g *gen) int { return g.sub().plan })
	case "Subscription.state":
		o.enum(func(g *gen) string { return subStates[g.sub().state] })
	case "Subscription.currency", "Invoice.currency", "LineItem.currency", "Transaction.currency",
		"CreditPayment.currency", "CouponRedemption.currency":
		o.enum(accountCurrencyOf)
	case "Subscription.unit_amount":
		o.money(func(g *gen) int64 { return g.sub().unit })
	case "Subscription.quantity":
		o.fn(func(g *gen, dst []byte, _, _ uint64) []byte { return strconv.AppendInt(dst, g.sub().qty, 10) })
	case "Subscription.add_ons":
		o.count(func(g *gen) int { return g.sub().addOns })
	case "Subscription.add_ons[].add_ons.unit_amount":
		o.money(func(g *gen) int64 { u, _ := g.s.subAddOn(g.i, g.arr.elem); return u })
	case "Subscription.add_ons[].add_ons.quantity":
		o.fn(func(g *gen, dst []byte, _, _ uint64) []byte {
			_, q := g.s.subAddOn(g.i, g.arr.elem)
			return strconv.AppendInt(dst, q, 10)
		})
	case "Subscription.add_ons[].add_ons.add_on":
		o.pick(func(g *gen) int { return g.s.subAddOnOf(g.i, g.arr.elem) })
	case "Subscription.add_ons_total":
		o.money(func(g *gen) int64 { return g.sub().addOnsTotal })
	case "Subscription.subtotal":
		o.money(func(g *gen) int64 { f := g.sub(); return f.unit*f.qty + f.addOnsTotal })
	case "Subscription.coupon_redemptions":
		o.count(func(*gen) int { return 0 }) // redemptions are the account's (its own list)
	default:
		return false
	}
	return true
}

// pendingChange overrides a subscription's pending change: another plan at
// its price, at renewal.
func (o *ovr) pendingChange(path string) bool {
	switch path {
	case "Subscription.pending_change":
		o.nullUnless(func(g *gen) bool { return g.s.pendingPlan(g.i) >= 0 })
	case "Subscription.pending_change.plan":
		o.pick(func(g *gen) int { return g.s.pendingPlan(g.i) })
	case "Subscription.pending_change.unit_amount":
		o.money(func(g *gen) int64 { u, _ := g.s.planPrice(g.s.pendingPlan(g.i), g.sub().cur); return u })
	case "Subscription.pending_change.quantity":
		o.integer(func(g *gen) int64 { return g.sub().qty })
	case "Subscription.pending_change.activate_at":
		o.when(func(g *gen) (bool, int64) { _, end := g.period(); return true, end }) // at renewal
	case "Subscription.pending_change.activated":
		o.fn(func(_ *gen, dst []byte, _, _ uint64) []byte { return appendBool(dst, false) })
	case "Subscription.pending_change.deleted_at", "Subscription.pending_change.add_ons[].add_ons.expired_at":
		o.fn(func(_ *gen, dst []byte, _, _ uint64) []byte { return appendNull(dst) })
	case "Subscription.pending_change.add_ons":
		o.count(func(g *gen) int { return g.s.pendingAddOns(g.i) })
	case "Subscription.pending_change.add_ons[].add_ons.add_on":
		o.pick(func(g *gen) int { a, _, _ := g.s.pendingAddOn(g.i, g.arr.elem); return a })
	case "Subscription.pending_change.add_ons[].add_ons.unit_amount":
		o.money(func(g *gen) int64 { _, u, _ := g.s.pendingAddOn(g.i, g.arr.elem); return u })
	case "Subscription.pending_change.add_ons[].add_ons.quantity":
		o.integer(func(g *gen) int64 { _, _, q := g.s.pendingAddOn(g.i, g.arr.elem); return q })
	default:
		return false
	}
	return true
}

// catalog overrides plans and add-ons: priced in every currency of the site,
// billed in whole months.
func (o *ovr) catalog(path string) bool {
	switch path {
	case "Plan.interval_unit":
		o.enum(func(*gen) string { return "months" })
	case "Plan.interval_length":
		o.integer(func(g *gen) int64 { return int64(g.s.planMonths(g.i)) })
	case "Plan.currencies", "AddOn.currencies":
		o.count(func(*gen) int { return len(currencies) })
	case "Plan.currencies[].currencies.currency", "AddOn.currencies[].currencies.currency":
		o.enum(func(g *gen) string { return currencies[g.arr.elem] })
	case "Plan.currencies[].currencies.unit_amount":
		o.money(func(g *gen) int64 { u, _ := g.s.planPrice(g.i, g.arr.elem); return u })
	case "Plan.currencies[].currencies.setup_fee":
		o.money(func(g *gen) int64 { _, f := g.s.planPrice(g.i, g.arr.elem); return f })
	case "AddOn.currencies[].currencies.unit_amount":
		o.money(func(g *gen) int64 { return g.s.addOnPrice(g.i, g.arr.elem) })
	default:
		return false
	}
	return true
}

// invoiceAmounts overrides an invoice's amounts: sums of its line items; paid
// + balance = total.
func (o *ovr) invoiceAmounts(path string) bool {
	switch path {
	case "Invoice.discount":
		o.money(func(g *gen) int64 { return g.inv().discount })
	case "Invoice.subtotal":
		o.money(func(g *gen) int64 { return g.inv().subtotal })
	case "Invoice.tax":
		o.money(func(g *gen) int64 { return g.inv().tax })
	case "Invoice.total":
		o.money(func(g *gen) int64 { return g.inv().total })
	case "Invoice.paid":
		o.money(func(g *gen) int64 { return g.inv().paid })
	case "Invoice.refundable_amount":
		o.money(func(g *gen) int64 { return g.inv().paid })
	case "Invoice.balance":
		o.money(func(g *gen) int64 { return g.inv().balance })
	default:
		return false
	}
	return true
}

// invoice overrides invoices: type, origin, state, subscriptions.
func (o *ovr) invoice(path string) bool {
	switch path {
	case "Invoice.type":
		o.enum(func(g *gen) string {
			switch {
			case g.inv().credit:
				return "credit"
			case g.inv().legacy:
				return "legacy"
			}
			return "charge"
		})
	case "Invoice.origin":
		o.enum(func(g *gen) string {
			r := g.h(0x0419)
			if g.inv().credit {
				return []string{"line_item_refund", "line_item_refund", "open_amount_refund", "credit"}[r%4]
			}
			if len(g.invSubs()) > 0 {
				return "renewal"
			}
			return "purchase"
		})
	case "Invoice.state":
		o.enum(func(g *gen) string { return invoiceStates[g.inv().state] })
	case "Invoice.closed_at":
		o.when(func(g *gen) (bool, int64) {
			st := g.inv().state
			return st == invPaid || st == invFailed, g.between(0xc105)
		})
	case "Invoice.previous_invoice_id":
		o.pick(func(g *gen) int {
			if g.inv().credit {
				return g.i - 1
			}
			return -1
		})
	case "Invoice.subscription_ids":
		o.count(func(g *gen) int { return len(g.invSubs()) })
	case "Invoice.subscription_ids[].subscription_ids":
		o.pick(func(g *gen) int { return g.invSubs()[g.arr.elem] })
	default:
		return false
	}
	return true
}

// invoiceEmbeds overrides what an invoice embeds: exactly its line items,
// its transactions and the credit payments applied to it.
func (o *ovr) invoiceEmbeds(path string) bool {
	switch path {
	case "Invoice.line_items":
		o.fn(func(g *gen, dst []byte, _, _ uint64) []byte {
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
		o.fn(func(g *gen, dst []byte, _, _ uint64) []byte {
			lo, hi := g.s.invTransactions(g.i)
			return g.s.appendRecords(dst, kTransaction, lo, hi, nil)
		})
	case "Invoice.credit_payments":
		o.fn(func(g *gen, dst []byte, _, _ uint64) []byte {
			return g.s.appendRecords(dst, kCreditPayment, 0, 0, g.s.cpByInvoice.of(g.i))
		})
	default:
		return false
	}
	return true
}

// children overrides credit payments (applied to charge invoices of their
// account, never more than was paid), unique coupon codes, coupon
// redemptions, acquisitions and custom field definitions.
func (o *ovr) children(path string) bool {
	switch path {
	case "CreditPayment.applied_to_invoice":
		o.pick(func(g *gen) int { return g.cpInvoice() })
	case "CreditPayment.original_invoice":
		o.pick(func(g *gen) int {
			if j := g.cpInvoice() + 1; g.s.isCredit(j) {
				return j
			}
			return -1
		})
	case "CreditPayment.action":
		o.enum(func(g *gen) string {
			return []string{"payment", "payment", "payment", "payment", "write_off", "reduction"}[g.h(0xac)%6]
		})
	case "CreditPayment.amount":
		o.money(func(g *gen) int64 { return g.s.creditPaymentAmountOn(g.i, g.cpInvoice()) })
	case "CreditPayment.original_credit_payment_id", "CreditPayment.refund_transaction":
		o.fn(func(_ *gen, dst []byte, _, _ uint64) []byte { return appendNull(dst) })
	case "UniqueCouponCode.state":
		o.enum(func(g *gen) string { return codeStates[g.s.codeState(g.i)] })
	case "UniqueCouponCode.redeemed_at":
		o.when(func(g *gen) (bool, int64) { return g.s.codeState(g.i) == 1, g.between(0x4ed) })
	case "UniqueCouponCode.expired_at":
		o.when(func(g *gen) (bool, int64) { return g.s.codeState(g.i) == 2, g.between(0xe8) })
	case "CouponRedemption.coupon":
		o.n.kind, o.n.target = nkFull, kCoupon
		o.pick(func(g *gen) int { return g.s.redemptionCoupon(g.i) })
	case "CouponRedemption.state":
		o.enum(func(g *gen) string {
			if g.s.redemptionInactive(g.i) {
				return "inactive"
			}
			return "active"
		})
	case "CouponRedemption.discounted":
		o.money(func(g *gen) int64 { return g.s.redemptionDiscounted(g.i) })
	case "CouponRedemption.removed_at":
		o.when(func(g *gen) (bool, int64) { t, gone := g.s.redemptionRemoved(g.i); return gone, t })
	case "AccountAcquisition.cost.currency":
		o.enum(accountCurrencyOf)
	case "CustomFieldDefinition.name":
		o.enum(func(g *gen) string { return customFieldName(g.i) })
	case "CustomFieldDefinition.display_name":
		o.fn(func(g *gen, dst []byte, _, _ uint64) []byte {
			dst = appendTitle(append(dst, '"'), spaced(customFieldName(g.i)))
			return append(dst, '"')
		})
	default:
		return false
	}
	return true
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
func (g *gen) period() (start, end int64) {
	if !g.m.hasSubPeriod {
		g.m.subPeriod[0], g.m.subPeriod[1] = g.s.subPeriod(g.i, g.updated)
		g.m.hasSubPeriod = true
	}
	return g.m.subPeriod[0], g.m.subPeriod[1]
}

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
