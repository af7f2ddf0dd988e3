package recurlytest

import (
	"slices"
	"strconv"
)

// Relations of the resources that hang off other records: credit payments
// (applied to an invoice, on that invoice's account), account acquisitions
// (at most one per account), unique coupon codes (of bulk coupons only),
// coupon redemptions (an account redeeming a coupon) and account notes.

// csr lists, for each parent index p, its children items[start[p]:start[p+1]]
// in ascending index order.
type csr struct {
	start []int32
	items []int32
}

func (c *csr) of(p int) []int32 {
	if c == nil || p < 0 || p+1 >= len(c.start) {
		return nil
	}
	return c.items[c.start[p]:c.start[p+1]]
}

// buildCSR groups n children by parent (nParents parents; a parent of -1
// leaves the child out).
func buildCSR(n, nParents int, parent func(i int) int) *csr {
	c := &csr{start: make([]int32, nParents+1)}
	for i := range n {
		if p := parent(i); p >= 0 {
			c.start[p+1]++
		}
	}
	for p := range nParents {
		c.start[p+1] += c.start[p]
	}
	c.items = make([]int32, c.start[nParents])
	fill := slices.Clone(c.start[:nParents])
	for i := range n {
		if p := parent(i); p >= 0 {
			c.items[fill[p]] = int32(i)
			fill[p]++
		}
	}
	return c
}

// isBulk reports whether coupon i is a bulk coupon (one with unique codes):
// every third coupon, starting with the first.
func isBulk(i int) bool { return i%3 == 0 }

func bulkCoupons(nCoupons int) int { return (nCoupons + 2) / 3 }

// childParent is the parent index of record i of a child kind: the coupon
// of a unique code, the account of a redemption or note. -1 for other kinds.
func (s *Site) childParent(k kind, i int) int {
	t := s.tables[k]
	switch k {
	case kUniqueCode:
		nb := bulkCoupons(s.tables[kCoupon].n)
		if nb == 0 {
			return -1
		}
		return 3 * int(mix(t.stable(i)^0xc0de)%uint64(nb))
	case kRedemption, kNote:
		return s.parent(t, i, kAccount)
	}
	return -1
}

// childParentKind is the kind of a child kind's parent.
func childParentKind(k kind) (kind, bool) {
	switch k {
	case kUniqueCode:
		return kCoupon, true
	case kRedemption, kNote:
		return kAccount, true
	}
	return 0, false
}

// buildChildren indexes the child kinds by parent. It runs once, after
// generate: parents never change.
func (s *Site) buildChildren() {
	for k := range numKinds {
		pk, ok := childParentKind(k)
		if !ok {
			continue
		}
		s.children[k] = buildCSR(s.tables[k].n, s.tables[pk].n, func(i int) int { return s.childParent(k, i) })
	}
	s.cpByInvoice = buildCSR(s.n(kCreditPayment), s.n(kInvoice), s.creditPaymentInvoice)
	s.addOnsByPlan = buildCSR(s.n(kAddOn), s.n(kPlan), func(i int) int { return s.parent(s.tables[kAddOn], i, kPlan) })
}

// acquisitionAccount is the account of acquisition i: distinct for distinct
// acquisitions, spread over the accounts.
func (s *Site) acquisitionAccount(i int) int {
	na, nq := s.tables[kAccount].n, s.tables[kAcquisition].n
	if na == 0 || nq == 0 {
		return -1
	}
	return int(int64(i) * int64(na) / int64(nq))
}

// accountAcquisition is the acquisition of account a, or -1.
func (s *Site) accountAcquisition(a int) int {
	na, nq := s.tables[kAccount].n, s.tables[kAcquisition].n
	if nq == 0 {
		return -1
	}
	// The smallest i with i*na/nq >= a, then check it maps to a.
	i := int((int64(a)*int64(nq) + int64(na) - 1) / int64(na))
	if i < nq && s.acquisitionAccount(i) == a {
		return i
	}
	return -1
}

// redemptionCoupon is the coupon a redemption redeems.
func (s *Site) redemptionCoupon(i int) int {
	n := s.tables[kCoupon].n
	if n == 0 {
		return -1
	}
	return int(mix(s.tables[kRedemption].stable(i)^0xc0a) % uint64(n))
}

// customFieldName is the name of custom field definition i: the names the
// records' custom_fields use first, then numbered ones.
func customFieldName(i int) string {
	name := customFields[i%len(customFields)]
	if i >= len(customFields) {
		name += "_" + strconv.Itoa(i/len(customFields)+1)
	}
	return name
}
