package recurlytest

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The relations the dbt_recurly layout's tables rest on (issue 19 §5),
// checked on every record checkRelations pages.

func (r rec) list(f string) []rec {
	var out []rec
	a, _ := r[f].([]any)
	for _, x := range a {
		m, _ := x.(map[string]any)
		out = append(out, m)
	}
	return out
}

func (r rec) strs(f string) []string {
	var out []string
	a, _ := r[f].([]any)
	for _, x := range a {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// priceIn is the amount of a currencies list's entry for cur (-1 when absent).
func priceIn(list []rec, cur, field string) int64 {
	for _, p := range list {
		if p.str("currency") == cur {
			return p.cents(field)
		}
	}
	return -1
}

// monthsApart reports whether end is m calendar months after start, at
// the same time of day, on the same day of the month unless one of them
// falls on a short month's last day (periods keep the activation's day).
func monthsApart(start, end time.Time, m int64) bool {
	months := (end.Year()-start.Year())*12 + int(end.Month()-start.Month())
	lastDay := func(t time.Time) bool { return t.AddDate(0, 0, 1).Day() == 1 }
	day := end.Day() == start.Day() || lastDay(start) && end.Day() > start.Day() || lastDay(end) && start.Day() > end.Day()
	return int64(months) == m && day && end.Sub(end.Truncate(24*time.Hour)) == start.Sub(start.Truncate(24*time.Hour))
}

func checkPricing(v *violations, all map[kind]map[string]rec) {
	site := map[string]bool{}
	for _, s := range all[kSubscription] {
		site[s.str("currency")] = true
	}
	for _, inv := range all[kInvoice] {
		site[inv.str("currency")] = true
	}
	for _, k := range []kind{kPlan, kAddOn} {
		for id, p := range all[k] {
			seen := map[string]bool{}
			for _, c := range p.list("currencies") {
				seen[c.str("currency")] = true
			}
			ok := len(seen) == len(p.list("currencies"))
			for c := range site {
				ok = ok && seen[c]
			}
			v.check("plan/add-on: priced once in each currency the site bills in", ok, "%s %s: %v vs %v", kindNames[k], id, seen, site)
		}
	}
	for id, p := range all[kPlan] {
		v.check("plan: billed in whole months", p.str("interval_unit") == "months" && p.int("interval_length") >= 1, "%s: %v %v", id, p["interval_unit"], p["interval_length"])
	}
	for id, c := range all[kCoupon] {
		d := c.obj("discount")
		var ok bool
		switch d.str("type") {
		case "percent":
			ok = d.int("percent") > 0 && d.null("currencies") && d.null("trial") && c.null("free_trial_unit")
		case "fixed":
			ok = d.null("percent") && d.null("trial") && len(d.list("currencies")) == len(currencies)
			for _, cur := range currencies {
				ok = ok && priceIn(d.list("currencies"), cur, "amount") > 0
			}
		case "free_trial":
			tr := d.obj("trial")
			ok = d.null("percent") && d.null("currencies") && tr.int("length") > 0 &&
				tr.str("unit") == c.str("free_trial_unit") && tr.int("length") == c.int("free_trial_amount")
		}
		v.check("coupon: its discount sets exactly its type's member", ok, "%s: %v", id, d)
	}
}

func checkSubscriptionPrices(v *violations, all map[kind]map[string]rec) {
	for id, s := range all[kSubscription] {
		plan, cur := all[kPlan][s.obj("plan").str("id")], s.str("currency")
		v.check("subscription: its plan exists and was created first", plan != nil && !plan.time("created_at").After(s.time("created_at")), "%s", id)
		if plan == nil {
			continue
		}
		v.check("subscription: unit_amount is its plan's price in its currency", s.cents("unit_amount") == priceIn(plan.list("currencies"), cur, "unit_amount"),
			"%s: %d in %s", id, s.cents("unit_amount"), cur)
		for _, a := range s.list("add_ons") {
			addOn := all[kAddOn][a.obj("add_on").str("id")]
			v.check("subscription add-on: unit_amount is its add-on's price; it belongs to the subscription and is not expired",
				addOn != nil && a.cents("unit_amount") == priceIn(addOn.list("currencies"), cur, "unit_amount") &&
					a.str("subscription_id") == id && (a.null("expired_at") || s.str("state") == "expired"), "%s: %v", id, a)
		}
		start, end, months := s.time("current_period_started_at"), s.time("current_period_ends_at"), plan.int("interval_length")
		v.check("subscription: its current period is one plan interval and holds updated_at",
			monthsApart(start, end, months) && !start.After(s.time("updated_at")) && end.After(s.time("updated_at")), "%s: %v..%v", id, start, end)
		v.check("subscription: its term ends remaining_billing_cycles intervals after it starts",
			s.time("current_term_started_at").Equal(start) && monthsApart(start, s.time("current_term_ends_at"), months*s.int("remaining_billing_cycles")) &&
				s.int("total_billing_cycles") >= s.int("remaining_billing_cycles"), "%s", id)
		if s.str("state") == "canceled" {
			v.check("subscription: a canceled one expires when its paid period ends", s.time("expires_at").Equal(end), "%s", id)
		}
		checkPendingChange(v, all, id, s)
	}
}

func checkPendingChange(v *violations, all map[kind]map[string]rec, id string, s rec) {
	pc := s.obj("pending_change")
	if pc == nil {
		return
	}
	plan := all[kPlan][pc.obj("plan").str("id")]
	ok := s.str("state") == "active" && plan != nil && plan.str("id") != s.obj("plan").str("id") && pc.str("subscription_id") == id &&
		pc["activated"] == false && pc.time("activate_at").Equal(s.time("current_period_ends_at"))
	v.check("pending change: an active subscription's change to another existing plan, at renewal", ok, "%s: %v", id, pc)
	if !ok {
		return
	}
	v.check("pending change: unit_amount is the new plan's price", pc.cents("unit_amount") == priceIn(plan.list("currencies"), s.str("currency"), "unit_amount"), "%s", id)
	for _, a := range pc.list("add_ons") {
		addOn := all[kAddOn][a.obj("add_on").str("id")]
		v.check("pending change: its add-ons are the new plan's, at their prices", addOn != nil && addOn.str("plan_id") == plan.str("id") &&
			a.cents("unit_amount") == priceIn(addOn.list("currencies"), s.str("currency"), "unit_amount") && a.str("subscription_id") == id, "%s: %v", id, a)
	}
}

// checkLineItemPeriods: a subscription's charges bill its prices over one
// of its billing periods; invoices and transactions name the subscriptions
// their line items bill.
func checkLineItemPeriods(v *violations, all map[kind]map[string]rec) {
	subsOf := map[string]map[string]bool{}
	for id, li := range all[kLineItem] {
		sub := all[kSubscription][li.str("subscription_id")]
		origin := li.str("origin")
		if inv := li.str("invoice_id"); inv != "" && sub != nil {
			if subsOf[inv] == nil {
				subsOf[inv] = map[string]bool{}
			}
			subsOf[inv][sub.str("id")] = true
		}
		switch origin {
		case "plan", "add_on":
			ok := sub != nil && !li.null("start_date") && !li.null("end_date")
			v.check("line item: a plan or add-on charge bills a subscription over a period", ok, "%s: %v %v", id, li["subscription_id"], li["end_date"])
			if !ok {
				continue
			}
			months := all[kPlan][sub.obj("plan").str("id")].int("interval_length")
			start, end, at := li.time("start_date"), li.time("end_date"), li.time("created_at")
			v.check("line item: its period is one interval of its subscription's plan and holds created_at",
				monthsApart(start, end, months) && !start.After(at) && end.After(at) && !sub.time("created_at").After(at), "%s", id)
			if origin == "plan" {
				v.check("line item: a plan charge bills its subscription's unit_amount × quantity", li.cents("unit_amount") == sub.cents("unit_amount") &&
					li.int("quantity") == sub.int("quantity"), "%s", id)
			} else {
				found := false
				for _, a := range sub.list("add_ons") {
					found = found || a.obj("add_on").str("id") == li.str("add_on_id") && a.cents("unit_amount") == li.cents("unit_amount") && a.int("quantity") == li.int("quantity")
				}
				v.check("line item: an add-on charge bills one of its subscription's add-ons", found, "%s", id)
			}
		case "setup_fee":
			plan := all[kPlan][li.str("plan_id")]
			v.check("line item: a setup fee is its plan's, open-ended", plan != nil && li.null("end_date") &&
				li.cents("unit_amount") == priceIn(plan.list("currencies"), li.str("currency"), "setup_fee"), "%s", id)
		case "one_time":
			v.check("line item: a one-time charge has no subscription and no end", li.null("subscription_id") && li.null("end_date"), "%s", id)
		}
		if prev := all[kLineItem][li.str("previous_line_item_id")]; prev != nil {
			v.check("line item: a refund reverses the charge it credits, over its period", li.cents("amount") == -prev.cents("amount") &&
				li.str("start_date") == prev.str("start_date") && li.str("end_date") == prev.str("end_date"), "%s", id)
		}
	}
	for id, inv := range all[kInvoice] {
		ids := inv.strs("subscription_ids")
		ok := len(ids) == len(subsOf[id])
		for _, s := range ids {
			sub := all[kSubscription][s]
			ok = ok && subsOf[id][s] && sub != nil && sub.obj("account").str("id") == inv.obj("account").str("id")
		}
		v.check("invoice: subscription_ids are exactly the subscriptions its line items bill, of its account", ok, "%s: %v vs %v", id, ids, subsOf[id])
	}
	for id, tx := range all[kTransaction] {
		inv := all[kInvoice][tx.obj("invoice").str("id")]
		v.check("transaction: subscription_ids are its invoice's", inv != nil && slices.Equal(tx.strs("subscription_ids"), inv.strs("subscription_ids")), "%s", id)
	}
}

// checkDiscounts: a line item's discount is what a coupon redeemed on its
// invoice takes off it, for a charge the coupon covers; the redemptions'
// discounted amounts add up to the line items' discounts.
func checkDiscounts(t *testing.T, v *violations, srv *Server, all map[kind]map[string]rec) {
	coupons := map[string][]rec{} // an invoice's redemptions' coupons
	for id := range all[kInvoice] {
		for _, raw := range pageList(t, srv, "/sites/subdomain-demo/invoices/"+id+"/coupon_redemptions") {
			c := decodeRec(t, raw).obj("coupon")
			coupons[id] = append(coupons[id], all[kCoupon][c.str("id")])
		}
	}
	var lines, redeemed int64
	for id, li := range all[kLineItem] {
		if li.str("type") != "charge" {
			continue
		}
		lines += li.cents("discount")
		inv := li.str("invoice_id")
		if inv == "" || li.cents("discount") == 0 {
			continue
		}
		ok := false
		for _, c := range coupons[inv] {
			ok = ok || c != nil && couponTakes(c, li) == li.cents("discount")
		}
		v.check("line item: its discount is what a coupon redeemed on its invoice takes off a charge it covers", ok, "%s: %d", id, li.cents("discount"))
	}
	for _, r := range all[kRedemption] {
		redeemed += r.cents("discounted")
	}
	v.check("redemptions: discounted adds up to the line items' discounts", redeemed == lines && lines > 0, "%d vs %d", redeemed, lines)
	for id, c := range all[kCoupon] {
		names := map[string]bool{}
		for _, p := range c.list("plans") {
			names[all[kPlan][p.str("id")].str("name")] = true
		}
		ok := c["plans"] == "all" && len(c.strs("plans_names")) == 0 || len(c.list("plans")) > 0 && len(c.list("plans")) == len(c.strs("plans_names"))
		for _, n := range c.strs("plans_names") {
			ok = ok && names[n]
		}
		v.check("coupon: plans and plans_names name the plans it applies to", ok, "%s: %v %v", id, c["plans"], c["plans_names"])
	}
}

// couponTakes is what coupon c takes off charge li (-1 when it does not
// cover it).
func couponTakes(c, li rec) int64 {
	covered := c["applies_to_non_plan_charges"] == true
	if plan := li.str("plan_id"); plan != "" {
		covered = c["plans"] == "all"
		for _, p := range c.list("plans") {
			covered = covered || p.str("id") == plan
		}
	}
	if !covered {
		return -1
	}
	d := c.obj("discount")
	switch d.str("type") {
	case "percent":
		return li.cents("subtotal") * d.int("percent") / 100
	case "fixed":
		return min(li.cents("subtotal"), priceIn(d.list("currencies"), li.str("currency"), "amount"))
	}
	return -1
}

// checkPayments: what an invoice was paid is its settling payment plus the
// credit payments applied to it.
func checkPayments(v *violations, all map[kind]map[string]rec) {
	credits, paidBy, txs := map[string]int64{}, map[string]int64{}, map[string]int{}
	for id, cp := range all[kCreditPayment] {
		credits[cp.obj("applied_to_invoice").str("id")] += cp.cents("amount")
		v.check("credit payment: a non-negative amount", cp.cents("amount") >= 0, "%s", id)
	}
	for _, tx := range all[kTransaction] {
		inv := tx.obj("invoice").str("id")
		txs[inv]++
		if t := tx.str("type"); tx.str("status") == "success" && (t == "purchase" || t == "capture") {
			paidBy[inv] += tx.cents("amount")
		}
	}
	for id, inv := range all[kInvoice] {
		if inv.str("type") == "credit" {
			v.check("credit payment: never applied to a credit invoice", credits[id] == 0, "%s", id)
			continue
		}
		v.check("invoice: credit payments applied to it pay at most what it was paid", credits[id] <= inv.cents("paid"), "%s: %d > %d", id, credits[id], inv.cents("paid"))
		if txs[id] > 0 {
			v.check("invoice: paid = its successful payment + the credit payments applied to it", paidBy[id]+credits[id] == inv.cents("paid"),
				"%s: %d + %d ≠ %d", id, paidBy[id], credits[id], inv.cents("paid"))
		}
	}
}

// checkBalances fetches every account's balance and every invoice's coupon
// redemptions over HTTP.
func checkBalances(t *testing.T, v *violations, srv *Server, all map[kind]map[string]rec) {
	schema := compileComponent(t, "AccountBalance")
	open, pastDue, curOf := map[string]int64{}, map[string]bool{}, map[string]string{}
	for _, inv := range all[kInvoice] {
		a := inv.obj("account").str("id")
		curOf[a] = inv.str("currency")
		switch inv.str("state") {
		case "past_due":
			pastDue[a] = true
			open[a] += inv.cents("balance")
		case "pending", "processing":
			open[a] += inv.cents("balance")
		}
	}
	filtered := map[string]bool{}
	for _, h := range pageAllHeads(t, srv, "/sites/subdomain-demo/accounts?past_due=true&limit=200") {
		filtered[h] = true
	}
	for id := range all[kAccount] {
		res := do(t, srv, "GET", "/sites/subdomain-demo/accounts/"+id+"/balance", nil)
		var plain any
		json.Unmarshal(res.body, &plain)
		if err := schema.Validate(plain); res.status != 200 || err != nil {
			t.Fatalf("balance of %s: %d %v %s", id, res.status, err, res.body)
		}
		b := decodeRec(t, res.body)
		bals := b.list("balances")
		ok := b.obj("account").str("id") == id && len(bals) <= 1
		for _, x := range bals {
			ok = ok && x.cents("amount") == open[id] && x.str("currency") == curOf[id]
		}
		if len(bals) == 0 {
			ok = ok && open[id] == 0
		}
		v.check("balance: the sum of the account's open invoices' balances, in its currency", ok, "%s: %s vs %d", id, res.body, open[id])
		v.check("balance: past_due exactly when an invoice of the account is past due", b["past_due"] == pastDue[id], "%s", id)
		v.check("balance: past_due agrees with the accounts list's past_due filter", b["past_due"] == filtered[id], "%s", id)
	}
	applied := 0
	for id, inv := range all[kInvoice] {
		for _, raw := range pageList(t, srv, "/sites/subdomain-demo/invoices/"+id+"/coupon_redemptions") {
			r := decodeRec(t, raw)
			red := all[kRedemption][r.str("id")]
			removed := r.time("removed_at")
			v.check("invoice redemption: an existing redemption of its account, in force when the invoice was created, on a discounted invoice",
				red != nil && all[kCoupon][r.obj("coupon").str("id")] != nil && r.obj("account").str("id") == inv.obj("account").str("id") &&
					!r.time("created_at").After(inv.time("created_at")) && (r.null("removed_at") || removed.After(inv.time("created_at"))) &&
					inv.cents("discount") > 0, "%s: %s", id, r.str("id"))
			applied++
		}
	}
	v.check("invoice redemptions: some invoices have them", applied > 0, "none")
}

// pageList pages a list (a child list answers in one page) and returns its
// records.
func pageList(t *testing.T, srv *Server, path string) []json.RawMessage {
	t.Helper()
	var out []json.RawMessage
	for path != "" {
		res := do(t, srv, "GET", path, nil)
		if res.status != 200 {
			t.Fatalf("GET %s: %d %s", path, res.status, res.body)
		}
		var env envelope
		if err := json.Unmarshal(res.body, &env); err != nil {
			t.Fatal(err)
		}
		out = append(out, env.Data...)
		path = ""
		if env.HasMore {
			path = *env.Next
		}
	}
	return out
}

func pageAllHeads(t *testing.T, srv *Server, path string) []string {
	var ids []string
	for _, raw := range pageList(t, srv, path) {
		ids = append(ids, decodeRec(t, raw).str("id"))
	}
	return ids
}

// checkRecurringRevenue: the site's own MonthlyRecurringRevenue is what the
// served line items add up to the way dbt_recurly's MRR model sums them.
func checkRecurringRevenue(v *violations, srv *Server, all map[kind]map[string]rec) {
	want := map[string]int64{}
	for _, li := range all[kLineItem] {
		if li.str("type") == "charge" && !li.null("start_date") && !li.null("end_date") {
			want[li.time("created_at").Format("2006-01")+" "+li.str("currency")] += li.cents("amount")
		}
	}
	got := map[string]int64{}
	for _, m := range srv.Site.MonthlyRecurringRevenue() {
		c := rec{"a": json.Number(m.Amount)}.cents("a")
		got[m.Month+" "+m.Currency] = c
	}
	v.check("MRR: the site's monthly recurring revenue is its line items' sum by month", maps.Equal(want, got) && len(got) > 0,
		"%d months×currencies served, %d reported", len(want), len(got))
}

// TestBalanceAndInvoiceRedemptionsNotFound: the two per-parent reads answer
// 404 for an unknown parent, as the spec says.
func TestBalanceAndInvoiceRedemptionsNotFound(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 3, Counts: ScaledCounts(500)})
	for path, param := range map[string]string{
		"/sites/subdomain-demo/accounts/m000000000000/balance":            "account_id",
		"/sites/subdomain-demo/invoices/p000000000000/coupon_redemptions": "invoice_id",
	} {
		res := do(t, srv, "GET", path, nil)
		var e errEnvelope
		json.Unmarshal(res.body, &e)
		if res.status != 404 || e.Error.Type != "not_found" || len(e.Error.Params) != 1 || e.Error.Params[0].Param != param {
			t.Errorf("GET %s: %d %s", path, res.status, res.body)
		}
	}
}

// TestOverridePathsExist: every path override names is a compiled property
// path, so a typo cannot silently leave a field to the generic generator,
// and no path is in two of its tables.
func TestOverridePathsExist(t *testing.T) {
	p, err := compilePlans(false)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, path := range p.paths {
		have[path] = true
	}
	f, err := parser.ParseFile(token.NewFileSet(), "overrides.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n, seen := 0, map[string]bool{}
	ast.Inspect(f, func(x ast.Node) bool {
		cc, ok := x.(*ast.CaseClause)
		if !ok {
			return true
		}
		for _, e := range cc.List {
			lit, ok := e.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				continue
			}
			path, _ := strconv.Unquote(lit.Value)
			if !strings.Contains(path, ".") {
				continue
			}
			n++
			if !have[path] {
				t.Errorf("override names %q, which the spec does not compile", path)
			}
			if seen[path] {
				t.Errorf("override names %q twice (only the first table's case counts)", path)
			}
			seen[path] = true
		}
		return true
	})
	if n < 100 {
		t.Fatalf("found only %d override paths", n)
	}
}
