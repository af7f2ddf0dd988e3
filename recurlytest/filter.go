package recurlytest

import (
	"bytes"
	"time"
)

// filter returns the predicate of a resource filter (already validated).
// Filters look at the records' rendered top-level fields, so they agree
// with what the site serves.
func (s *Site) filter(k kind, name, value string) func(int) bool {
	field := func(k kind, f string, accept ...string) func(int) bool {
		n := s.plans.topField(k, f)
		want := make([][]byte, len(accept))
		for j, a := range accept {
			want[j] = []byte(a)
		}
		var buf []byte
		return func(i int) bool {
			buf = s.appendTopField(buf[:0], k, i, n)
			for _, w := range want {
				if bytes.Equal(buf, w) {
					return true
				}
			}
			return false
		}
	}
	q := func(v string) string { return `"` + v + `"` }
	switch {
	case name == "success":
		return field(k, "success", "true")
	case name == "original":
		// An original line item is not a refund of another one.
		return field(k, "previous_line_item_id", "null")
	case k == kTransaction && name == "type" && value == "payment":
		return field(k, "type", q("purchase"), q("capture"))
	case k == kInvoice && name == "type" && value == "non-legacy":
		return field(k, "type", q("charge"), q("credit"))
	case k == kSubscription && name == "state" && (value == "in_trial" || value == "live"):
		live := field(k, "state", q("active"), q("canceled"), q("future"))
		inTrial := s.inTrial()
		if value == "in_trial" {
			return inTrial
		}
		return func(i int) bool { return live(i) || inTrial(i) }
	case k == kAccount && name == "subscriber":
		has := s.accountsWith(kSubscription, field(kSubscription, "state", q("active"), q("canceled"), q("future")))
		want := value == "true"
		return func(i int) bool { return has[i] == want }
	case k == kAccount && name == "past_due":
		has := s.accountsWith(kInvoice, field(kInvoice, "state", q("past_due")))
		return func(i int) bool { return has[i] }
	}
	return field(k, name, q(value))
}

// inTrial matches subscriptions whose trial started before now and ends
// after now.
func (s *Site) inTrial() func(int) bool {
	started, ends := s.plans.topField(kSubscription, "trial_started_at"), s.plans.topField(kSubscription, "trial_ends_at")
	now := s.now()
	var buf []byte
	at := func(i int, n *node) (time.Time, bool) {
		buf = s.appendTopField(buf[:0], kSubscription, i, n)
		if len(buf) < 2 || buf[0] != '"' {
			return time.Time{}, false
		}
		t, err := time.Parse(rfc3339Z, string(buf[1:len(buf)-1]))
		return t, err == nil
	}
	return func(i int) bool {
		a, ok1 := at(i, started)
		b, ok2 := at(i, ends)
		return ok1 && ok2 && a.Before(now) && b.After(now)
	}
}

// accountsWith marks the accounts owning at least one record of kind ck
// that matches.
func (s *Site) accountsWith(ck kind, match func(int) bool) []bool {
	has := make([]bool, s.tables[kAccount].n)
	t := s.tables[ck]
	for i := range t.n {
		if a := s.recordAccount(ck, i); a >= 0 && match(i) {
			has[a] = true
		}
	}
	return has
}
