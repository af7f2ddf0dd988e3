package recurlytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rec is one record as served, numbers kept as their JSON text.
type rec map[string]any

func (r rec) str(f string) string { s, _ := r[f].(string); return s }
func (r rec) null(f string) bool  { return r[f] == nil }
func (r rec) obj(f string) rec    { m, _ := r[f].(map[string]any); return m }

// cents reads a money field exactly (JSON text like "-12.30").
func (r rec) cents(f string) int64 {
	n, ok := r[f].(json.Number)
	if !ok {
		return -1 << 62
	}
	s := n.String()
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	frac = (frac + "00")[:2]
	w, _ := strconv.ParseInt(whole, 10, 64)
	c, _ := strconv.ParseInt(frac, 10, 64)
	v := w*100 + c
	if neg {
		v = -v
	}
	return v
}

func (r rec) int(f string) int64 {
	n, _ := r[f].(json.Number)
	v, _ := n.Int64()
	return v
}

func (r rec) time(f string) time.Time {
	t, _ := time.Parse(time.RFC3339, r.str(f))
	return t
}

func decodeRec(t *testing.T, raw []byte) rec {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v rec
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return v
}

// pageRecords pages every record of kind k over HTTP (every parent's list
// for a child list).
func pageRecords(t *testing.T, srv *Server, k kind) []json.RawMessage {
	t.Helper()
	var paths []string
	if pk, child := childParentKind(k); child {
		for _, p := range srv.Site.Keys(kindNames[pk]) {
			path := "/sites/subdomain-demo/" + kindNames[pk] + "/" + p.ID + "/" + kindNames[k]
			if listSpecs[k].paging {
				path += "?limit=200"
			}
			paths = append(paths, path)
		}
	} else {
		paths = []string{"/sites/subdomain-demo/" + kindNames[k] + "?limit=200&sort=updated_at&order=asc"}
	}
	var out []json.RawMessage
	for _, path := range paths {
		out = append(out, pageList(t, srv, path)...)
	}
	return out
}

// violations counts broken relation rules by name.
type violations struct {
	t       *testing.T
	checked map[string]int
	broken  map[string][]string
}

func (v *violations) check(rule string, ok bool, format string, args ...any) {
	v.checked[rule]++
	if !ok {
		v.broken[rule] = append(v.broken[rule], fmt.Sprintf(format, args...))
	}
}

// TestRelationsHoldForEveryRecord pages every list of a seeded 4,000-record
// site, validates every record against its spec component and checks every
// business relation of issue 11 on every record: 0 violations.
func TestRelationsHoldForEveryRecord(t *testing.T) {
	for _, c := range []struct {
		seed    int64
		records int
	}{{4000, 4000}, {7, 1000}} {
		t.Run(fmt.Sprintf("seed %d, %d records", c.seed, c.records), func(t *testing.T) { checkRelations(t, c.seed, c.records) })
	}
}

func checkRelations(t *testing.T, seed int64, records int) {
	srv := newTestServer(t, Config{Seed: seed, Counts: ScaledCounts(records), TieDensity: 3, RateLimit: 1 << 30})
	all := map[kind]map[string]rec{}
	paged := 0
	for k := range numKinds {
		schema := compileComponent(t, kindComponents[k])
		all[k] = map[string]rec{}
		for _, raw := range pageRecords(t, srv, k) {
			var plain any
			json.Unmarshal(raw, &plain)
			if err := schema.Validate(plain); err != nil {
				t.Fatalf("%s does not validate: %v\n%s", kindComponents[k], err, raw)
			}
			r := decodeRec(t, raw)
			all[k][r.str("id")] = r
		}
		if len(all[k]) != srv.Site.Counts().byKind()[k] {
			t.Fatalf("%s: paged %d distinct records, the site has %d", kindNames[k], len(all[k]), srv.Site.Counts().byKind()[k])
		}
		paged += len(all[k])
	}
	v := &violations{t: t, checked: map[string]int{}, broken: map[string][]string{}}
	checkInvoicesAndLineItems(v, all)
	checkSubscriptions(v, all)
	checkTransactions(v, all)
	checkStates(v, all)
	checkReferences(v, all)
	checkPricing(v, all)
	checkSubscriptionPrices(v, all)
	checkLineItemPeriods(v, all)
	checkPayments(v, all)
	checkBalances(t, v, srv, all)
	checkDiscounts(t, v, srv, all)
	checkRecurringRevenue(v, srv, all)

	rules := make([]string, 0, len(v.checked))
	for r := range v.checked {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	total, checks := 0, 0
	for _, r := range rules {
		checks += v.checked[r]
		total += len(v.broken[r])
		if b := v.broken[r]; len(b) > 0 {
			t.Errorf("%s: %d of %d records break it, e.g. %s", r, len(b), v.checked[r], b[0])
		}
	}
	t.Logf("%d records, %d rules, %d checks, %d violations", paged, len(rules), checks, total)
}

func checkInvoicesAndLineItems(v *violations, all map[kind]map[string]rec) {
	linesOf := map[string][]rec{}
	for id, li := range all[kLineItem] {
		sub, qty, unit := li.cents("subtotal"), li.int("quantity"), li.cents("unit_amount")
		v.check("line item: subtotal = quantity × unit_amount", sub == qty*unit, "%s: %d × %d ≠ %d", id, qty, unit, sub)
		v.check("line item: amount = subtotal − discount + tax", li.cents("amount") == sub-li.cents("discount")+li.cents("tax"),
			"%s: %d ≠ %d − %d + %d", id, li.cents("amount"), sub, li.cents("discount"), li.cents("tax"))
		if li.str("type") == "credit" {
			v.check("line item: credits have negative unit_amount", unit < 0, "%s: credit with unit_amount %d", id, unit)
		}
		v.check("line item: invoiced exactly when invoice_id is set", (li.str("state") == "invoiced") == !li.null("invoice_id"),
			"%s: state %s, invoice_id %v", id, li.str("state"), li["invoice_id"])
		if inv := li.str("invoice_id"); inv != "" {
			linesOf[inv] = append(linesOf[inv], li)
			v.check("line item: invoice_number is its invoice's", all[kInvoice][inv].str("number") == li.str("invoice_number"),
				"%s: invoice %s number %s vs %s", id, inv, all[kInvoice][inv].str("number"), li.str("invoice_number"))
		}
	}
	for id, li := range all[kLineItem] {
		if prev := li.str("previous_line_item_id"); prev != "" {
			p := all[kLineItem][prev]
			v.check("line item: a refund names a charge of the invoice it credits", p != nil && p.str("type") == "charge" &&
				p.str("invoice_id") == li.str("original_line_item_invoice_id") && li["refund"] == true, "%s: previous %s", id, prev)
		}
	}
	for id, inv := range all[kInvoice] {
		sub, tax, total := inv.cents("subtotal"), inv.cents("tax"), inv.cents("total")
		v.check("invoice: total = subtotal + tax", total == sub+tax, "%s: %d ≠ %d + %d", id, total, sub, tax)
		var sum int64
		for _, li := range linesOf[id] {
			sum += li.cents("subtotal") - li.cents("discount")
		}
		v.check("invoice: subtotal = Σ line items' subtotal − discount", sub == sum, "%s: subtotal %d, line items %d", id, sub, sum)
		embedded := map[string]bool{}
		data, _ := inv.obj("line_items")["data"].([]any)
		for _, d := range data {
			embedded[rec(d.(map[string]any)).str("id")] = true
		}
		same := len(embedded) == len(linesOf[id])
		for _, li := range linesOf[id] {
			same = same && embedded[li.str("id")]
		}
		v.check("invoice: embeds exactly its line items", same, "%s: embeds %d, has %d", id, len(embedded), len(linesOf[id]))
		state := inv.str("state")
		switch inv.str("type") {
		case "charge", "legacy":
			v.check("charge invoice: paid + balance = total", inv.cents("paid")+inv.cents("balance") == total,
				"%s: %d + %d ≠ %d", id, inv.cents("paid"), inv.cents("balance"), total)
			if state == "paid" {
				v.check("charge invoice: paid ⇒ balance 0", inv.cents("balance") == 0, "%s: balance %d", id, inv.cents("balance"))
			}
		case "credit":
			v.check("credit invoice: total ≤ 0", total <= 0, "%s: total %d", id, total)
		}
		v.check("invoice: closed_at exactly when paid or failed", (state == "paid" || state == "failed") == !inv.null("closed_at"),
			"%s: state %s closed_at %v", id, state, inv["closed_at"])
	}
}

func checkSubscriptions(v *violations, all map[kind]map[string]rec) {
	active := 0
	for id, s := range all[kSubscription] {
		var addOns int64
		list, _ := s["add_ons"].([]any)
		planAddOns := map[string]bool{}
		for _, a := range list {
			ar := rec(a.(map[string]any))
			addOns += ar.int("quantity") * ar.cents("unit_amount")
			addOn := all[kAddOn][ar.obj("add_on").str("id")]
			v.check("subscription: its add-ons are distinct add-ons of its plan", addOn != nil && addOn.str("plan_id") == s.obj("plan").str("id") &&
				!planAddOns[addOn.str("id")], "%s: add-on %v", id, ar.obj("add_on")["id"])
			planAddOns[ar.obj("add_on").str("id")] = true
		}
		v.check("subscription: add_ons_total = Σ add-on unit_amount × quantity", s.cents("add_ons_total") == addOns,
			"%s: %d ≠ %d", id, s.cents("add_ons_total"), addOns)
		v.check("subscription: subtotal = unit_amount × quantity + add_ons_total",
			s.cents("subtotal") == s.cents("unit_amount")*s.int("quantity")+s.cents("add_ons_total"), "%s", id)
		switch s.str("state") {
		case "canceled":
			v.check("subscription: canceled ⇒ canceled_at", !s.null("canceled_at"), "%s", id)
		case "expired":
			v.check("subscription: expired ⇒ expires_at", !s.null("expires_at"), "%s", id)
		case "paused":
			v.check("subscription: paused ⇒ paused_at", !s.null("paused_at"), "%s", id)
		case "active":
			active++
		}
		if !s.null("trial_started_at") || !s.null("trial_ends_at") {
			v.check("subscription: trial start ≤ trial end", !s.null("trial_started_at") && !s.null("trial_ends_at") &&
				!s.time("trial_ends_at").Before(s.time("trial_started_at")), "%s", id)
		}
	}
	n := len(all[kSubscription])
	v.check("subscriptions: most are active", active*2 > n, "%d of %d active", active, n)
}

func checkTransactions(v *violations, all map[kind]map[string]rec) {
	uncollected := 0
	for id, tx := range all[kTransaction] {
		status := tx.str("status")
		v.check("transaction: success exactly when status is success", tx["success"] == (status == "success"),
			"%s: success %v, status %s", id, tx["success"], status)
		v.check("transaction: voided_at exactly when void", (status == "void") == !tx.null("voided_at"), "%s: %s %v", id, status, tx["voided_at"])
		if status == "success" {
			v.check("transaction: successful ⇒ collected_at", !tx.null("collected_at"), "%s", id)
		}
		if tx.null("collected_at") {
			uncollected++
		}
		if tx.str("type") == "refund" {
			orig := all[kTransaction][tx.str("original_transaction_id")]
			v.check("transaction: a refund names its original transaction", orig != nil && orig.str("status") == "success" &&
				orig.obj("account").str("id") == tx.obj("account").str("id"), "%s: original %v", id, tx["original_transaction_id"])
		}
	}
	v.check("transactions: a few have collected_at null", uncollected > 0, "none uncollected")
}

func checkStates(v *violations, all map[kind]map[string]rec) {
	for _, k := range []kind{kAccount, kPlan, kAddOn} {
		for id, r := range all[k] {
			v.check("account/plan/add-on: deleted_at exactly when inactive", (r.str("state") == "inactive") == !r.null("deleted_at"),
				"%s %s: state %s deleted_at %v", kindNames[k], id, r.str("state"), r["deleted_at"])
		}
	}
	for id, c := range all[kCoupon] {
		v.check(`coupon: "plans": "all" exactly when applies_to_all_plans`, (c["applies_to_all_plans"] == true) == (c["plans"] == "all"),
			"%s: %v %v", id, c["applies_to_all_plans"], c["plans"])
		v.check("coupon: expired_at exactly when expired", (c.str("state") == "expired") == !c.null("expired_at"), "%s", id)
	}
}

// checkReferences: ids name real records, and a record's account is the
// account of the record it hangs off.
func checkReferences(v *violations, all map[kind]map[string]rec) {
	acctOf := func(r rec) string { return r.obj("account").str("id") }
	for _, k := range []kind{kLineItem, kInvoice, kSubscription, kTransaction, kCreditPayment, kAcquisition, kRedemption} {
		for id, r := range all[k] {
			v.check("reference: account exists", all[kAccount][acctOf(r)] != nil, "%s %s: account %s", kindNames[k], id, acctOf(r))
		}
	}
	for id, li := range all[kLineItem] {
		if inv := li.str("invoice_id"); inv != "" {
			v.check("reference: a line item's account is its invoice's", acctOf(all[kInvoice][inv]) == acctOf(li), "%s", id)
		}
		if sub := li.str("subscription_id"); sub != "" {
			v.check("reference: a line item's subscription is its account's", acctOf(all[kSubscription][sub]) == acctOf(li), "%s", id)
		}
	}
	for id, tx := range all[kTransaction] {
		if inv := tx.obj("invoice").str("id"); inv != "" {
			v.check("reference: a transaction's account is its invoice's", acctOf(all[kInvoice][inv]) == acctOf(tx), "%s", id)
		}
	}
	for id, cp := range all[kCreditPayment] {
		inv := all[kInvoice][cp.obj("applied_to_invoice").str("id")]
		v.check("reference: a credit payment pays a charge invoice of its account", inv != nil && acctOf(inv) == acctOf(cp) && inv.str("type") != "credit", "%s", id)
	}
	for id, r := range all[kRedemption] {
		v.check("reference: a redemption's coupon exists", all[kCoupon][r.obj("coupon").str("id")] != nil, "%s", id)
	}
	for id, a := range all[kAccount] {
		if p := a.str("parent_account_id"); p != "" {
			v.check("account: a parent account exists", all[kAccount][p] != nil && p != id, "%s: parent %s", id, p)
		} else {
			v.check("account: billed to a parent only when it has one", a.str("bill_to") == "self", "%s: bill_to %s", id, a.str("bill_to"))
		}
	}
	for id, n := range all[kNote] {
		v.check("reference: a note's account exists", all[kAccount][n.str("account_id")] != nil, "%s", id)
	}
}

// TestDeterministicFromTheSeed: two sites of one seed serve the same bytes
// for every record; another seed serves other records.
func TestDeterministicFromTheSeed(t *testing.T) {
	cfg := Config{Seed: 99, Counts: ScaledCounts(1500)}
	a, err := NewSite(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewSite(cfg)
	cfg.Seed = 100
	c, _ := NewSite(cfg)
	differ := 0
	for k := range numKinds {
		ka, kb, kc := a.Keys(kindNames[k]), b.Keys(kindNames[k]), c.Keys(kindNames[k])
		if len(ka) != len(kb) || len(ka) != len(kc) {
			t.Fatalf("%s: %d, %d and %d records", kindNames[k], len(ka), len(kb), len(kc))
		}
		for j := range ka {
			ra, _ := a.Record(kindNames[k], ka[j].ID)
			rb, _ := b.Record(kindNames[k], kb[j].ID)
			same := ka[j].ID == kb[j].ID && ka[j].Sort.Equal(kb[j].Sort) && ka[j].Created.Equal(kb[j].Created) && ka[j].Parent == kb[j].Parent &&
				(ka[j].Replication == nil) == (kb[j].Replication == nil) && (ka[j].Replication == nil || ka[j].Replication.Equal(*kb[j].Replication))
			if !same || !bytes.Equal(ra, rb) {
				t.Fatalf("%s %s differs between two sites of one seed", kindNames[k], ka[j].ID)
			}
			if rc, _ := c.Record(kindNames[k], kc[j].ID); !bytes.Equal(ra, rc) {
				differ++
			}
		}
	}
	if differ < a.Counts().Total()*9/10 {
		t.Fatalf("only %d of %d records differ under another seed", differ, a.Counts().Total())
	}
}
