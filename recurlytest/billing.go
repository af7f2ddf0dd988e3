package recurlytest

import (
	"cmp"
	"slices"
	"strconv"
)

// Relations an account's billing derives from its invoices: the
// subscriptions an invoice bills, the coupon redemptions that applied to
// it, the account's balance and past-due status, and the recurring revenue
// the site's line items add up to.

// invSubs lists the distinct subscriptions invoice j's line items bill, in
// ascending order.
func (s *Site) invSubs(j int) []int {
	if j < 0 {
		return nil
	}
	var subs []int
	lo, hi := s.invLines(j)
	for li := lo; li < hi; li++ {
		if f := s.lineFacts(li); f.sub >= 0 && !slices.Contains(subs, f.sub) {
			subs = append(subs, f.sub)
		}
	}
	slices.Sort(subs)
	return subs
}

// between is a time within record i's [created_at, updated_at] (its
// present version), for state changes.
func (s *Site) between(k kind, i int, salt uint64) int64 {
	t := s.tables[k]
	c, u := t.created[i], t.updated[i]
	if u <= c {
		return c
	}
	return c + int64(mix(t.stable(i)^salt)%uint64(u-c+1))
}

// redemptionRemoved is when redemption i was removed (ok false while it is
// active).
func (s *Site) redemptionRemoved(i int) (int64, bool) {
	t := s.tables[kRedemption].removed[i]
	return t, t != noTime
}

// redemptionAt is the redemption of account acct in force at time at
// whose coupon discounts a charge (the latest redeemed; -1 for none). A
// free-trial coupon discounts no charge.
func (s *Site) redemptionAt(acct int, at int64) int {
	best := -1
	t := s.tables[kRedemption]
	for _, i := range s.children[kRedemption].of(acct) {
		if t.created[i] > at || t.removed[i] != noTime && t.removed[i] <= at {
			continue
		}
		if c := s.redemptionCoupon(int(i)); c < 0 || s.discountType(c) == discountTrial {
			continue
		}
		if best < 0 || t.created[i] >= t.created[best] {
			best = int(i)
		}
	}
	return best
}

// couponDiscount is what coupon c takes off a charge of subtotal (cents)
// in currency cur.
func (s *Site) couponDiscount(c, cur int, subtotal int64) int64 {
	switch s.discountType(c) {
	case discountPercent:
		return subtotal * s.discountPercent(c) / 100
	case discountFixed:
		return min(subtotal, s.discountAmount(c, cur))
	}
	return 0
}

// invRedemptions lists the coupon redemptions that discount invoice j's
// line items, in ascending order.
func (s *Site) invRedemptions(j int) []int32 {
	out := []int32{}
	lo, hi := s.invLines(j)
	for li := lo; li < hi; li++ {
		if f := s.lineFacts(li); !f.credit && f.red >= 0 && !slices.Contains(out, int32(f.red)) {
			out = append(out, int32(f.red))
		}
	}
	slices.Sort(out)
	return out
}

// redemptionDiscounted is what redemption i has taken off its account's
// charges (cents).
func (s *Site) redemptionDiscounted(i int) int64 {
	acct := s.childParent(kRedemption, i)
	if acct < 0 {
		return 0
	}
	var sum int64
	add := func(lo, hi int) {
		for li := lo; li < hi; li++ {
			if f := s.lineFacts(li); !f.credit && f.red == i {
				sum += f.discount
			}
		}
	}
	jlo, jhi := blockRange(acct, s.n(kInvoice), s.n(kAccount))
	for j := jlo; j < jhi; j++ {
		add(s.invLines(j))
	}
	n := s.invoicedLines()
	plo, phi := blockRange(acct, s.n(kLineItem)-n, s.n(kAccount))
	add(n+plo, n+phi)
	return sum
}

// openInvoice reports whether an invoice in state st still awaits payment
// (or, for a credit invoice, is credit not yet used).
func openInvoice(st int) bool { return st == invPending || st == invProcessing || st == invPastDue }

// accountBalance is account a's balance (cents, in its currency): the sum
// of its open invoices' balances; pastDue when one of its invoices is past
// due; billed when it has invoices at all.
func (s *Site) accountBalance(a int) (balance int64, pastDue, billed bool) {
	lo, hi := blockRange(a, s.n(kInvoice), s.n(kAccount))
	for j := lo; j < hi; j++ {
		f := s.invFacts(j)
		if openInvoice(f.state) {
			balance += f.balance
		}
		pastDue = pastDue || f.state == invPastDue
	}
	return balance, pastDue, hi > lo
}

// appendBalance appends account a's AccountBalance: the account, its
// past-due flag and its balance in its currency (no balances before it is
// first invoiced).
func (s *Site) appendBalance(dst []byte, a int) []byte {
	bal, pastDue, billed := s.accountBalance(a)
	dst = append(dst, `{"object":"account_balance","account":`...)
	g := s.newGen(kAccount, a)
	dst = g.value(dst, s.plans.accountMini, g.t.stable(a), g.t.volatile(a))
	g.release()
	dst = append(dst, `,"past_due":`...)
	dst = strconv.AppendBool(dst, pastDue)
	dst = append(dst, `,"balances":[`...)
	if billed {
		dst = append(dst, `{"currency":`...)
		dst = appendQuoted(dst, s.accountCurrency(a))
		dst = appendMoney(append(dst, `,"amount":`...), bal)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// MonthRevenue is one month's recurring revenue in one currency.
type MonthRevenue struct {
	Month    string // "2006-01", UTC
	Currency string
	Amount   string // decimal, two places, as the API writes money
	Items    int    // line items summed
}

// MonthlyRecurringRevenue is the site's own account of its recurring
// revenue, from its model rather than its JSON: for each month and
// currency, the sum of the amounts of the charge line items that bill a
// subscription period (start_date and end_date both set), by the month of
// their created_at. That is what dbt_recurly's monthly recurring revenue
// model sums, so a warehouse loaded from this site must agree with it.
// Months come in order, currencies in order within a month.
func (s *Site) MonthlyRecurringRevenue() []MonthRevenue {
	s.mu.RLock()
	defer s.mu.RUnlock()
	type key struct{ month, cur string }
	sums, items := map[key]int64{}, map[key]int{}
	for li := range s.n(kLineItem) {
		f := s.lineFacts(li)
		if f.credit || f.origin != originPlan && f.origin != originAddOn {
			continue
		}
		k := key{monthOf(s.tables[kLineItem].created[li]), s.accountCurrency(f.acct)}
		sums[k] += f.amount
		items[k]++
	}
	out := make([]MonthRevenue, 0, len(sums))
	for k, v := range sums {
		out = append(out, MonthRevenue{Month: k.month, Currency: k.cur, Amount: string(appendMoney(nil, v)), Items: items[k]})
	}
	slices.SortFunc(out, func(a, b MonthRevenue) int {
		if a.Month != b.Month {
			return cmp.Compare(a.Month, b.Month)
		}
		return cmp.Compare(a.Currency, b.Currency)
	})
	return out
}
