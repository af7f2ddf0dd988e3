package recurlytest

import "time"

// Prices and billing periods. Every plan and add-on is priced in each of
// the site's currencies (currencies): a base price in US cents converted at
// fixed rates. A subscription costs its plan's price in its account's
// currency, and its add-ons their add-on's; it bills in periods of its
// plan's interval (whole months) from its activation, and each charge line
// item of a subscription covers one of those periods.

// fxBasisPoints converts US cents into each currency of currencies.
var fxBasisPoints = []int64{10000, 9200, 7900, 13600, 15200}

// currencyIndex is code's index in currencies (0, USD, when unknown).
func currencyIndex(code string) int {
	for i, c := range currencies {
		if c == code {
			return i
		}
	}
	return 0
}

// convert turns US cents into currency cur, keeping x.99-style prices.
func convert(usd int64, cur int) int64 {
	v := usd * fxBasisPoints[cur] / 10000
	if usd%100 == 99 {
		v += 99 - v%100 // keep the charm price
	}
	return v
}

// planPrice is plan p's unit amount and setup fee (cents) in currency cur.
func (s *Site) planPrice(p, cur int) (unit, setup int64) {
	r := s.h(kPlan, p, 0x9e1ce)
	base := int64(100*(5+r%196)) - int64((r>>8)%2)
	if (r>>16)%100 < 40 {
		setup = convert(int64(100*(10+(r>>24)%90)), cur)
	}
	return convert(base, cur), setup
}

// addOnPrice is add-on a's unit amount (cents) in currency cur.
func (s *Site) addOnPrice(a, cur int) int64 {
	r := s.h(kAddOn, a, 0xadd9)
	return convert(int64(100*(1+r%30))-int64((r>>8)%2), cur)
}

// planMonths is plan p's billing interval in months.
func (s *Site) planMonths(p int) int {
	if p < 0 {
		return 1
	}
	return []int{1, 1, 1, 1, 3, 12, 12}[s.h(kPlan, p, 0x1a7e)%7]
}

// addMonths is t plus m calendar months (UTC), on the same day of the
// month or, when that month is shorter, its last day (Jan 31 + 1 month is
// Feb 28), as billing periods run.
func addMonths(t int64, m int) int64 {
	u := unix(t)
	y, mo, d := u.Date()
	last := time.Date(y, mo+time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return time.Date(y, mo+time.Month(m), min(d, last), u.Hour(), u.Minute(), u.Second(), 0, time.UTC).Unix()
}

// period is the billing period [start, end) of a subscription that
// activated at act and bills every months months, that holds t (the first
// period when t comes before act).
func period(act int64, months int, t int64) (start, end int64) {
	if t <= act {
		return act, addMonths(act, months)
	}
	a, b := unix(act), unix(t)
	k := ((b.Year()-a.Year())*12 + int(b.Month()-a.Month())) / months
	start = addMonths(act, k*months)
	for start > t && k > 0 {
		k--
		start = addMonths(act, k*months)
	}
	for end := addMonths(act, (k+1)*months); end <= t; end = addMonths(act, (k+1)*months) {
		k++
		start = end
	}
	return start, addMonths(act, (k+1)*months)
}

// subPeriod is subscription i's billing period holding t.
func (s *Site) subPeriod(i int, t int64) (start, end int64) {
	return period(s.tables[kSubscription].created[i], s.planMonths(s.planOfSub(i)), t)
}

// monthOf is t's calendar month, "2006-01" (UTC).
func monthOf(t int64) string { return unix(t).Format("2006-01") }

// remainingCycles is how many billing periods subscription i's current
// term has left (its term ends that many periods after the current one
// starts).
func (s *Site) remainingCycles(i int) int64 { return int64(1 + s.h(kSubscription, i, 0x7bb)%12) }

// Coupon discount types.
const (
	discountPercent = iota
	discountFixed
	discountTrial
)

var discountTypes = []string{"percent", "fixed", "free_trial"}

// discountType is coupon c's discount type: percent for three in five,
// fixed for three in ten, a free trial for the rest.
func (s *Site) discountType(c int) int {
	switch r := s.h(kCoupon, c, 0xd15c) % 10; {
	case r < 6:
		return discountPercent
	case r < 9:
		return discountFixed
	}
	return discountTrial
}

// discountPercent is a percent coupon's discount.
func (s *Site) discountPercent(c int) int64 { return int64(5 + 5*(s.h(kCoupon, c, 0xd15d)%10)) }

// discountAmount is a fixed coupon's discount (cents) in currency cur.
func (s *Site) discountAmount(c, cur int) int64 {
	return convert(int64(100*(1+s.h(kCoupon, c, 0xd15e)%50)), cur)
}

// couponTrial is a free-trial coupon's trial: unit and length.
func (s *Site) couponTrial(c int) (string, int64) {
	r := s.h(kCoupon, c, 0xd15f)
	switch r % 3 {
	case 0:
		return "day", int64(7 + (r>>8)%24)
	case 1:
		return "week", int64(1 + (r>>8)%8)
	}
	return "month", int64(1 + (r>>8)%3)
}
