package recurlytest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"
)

var childCounts = Counts{Accounts: 60, LineItems: 40, Coupons: 10, Invoices: 50, Plans: 5, AddOns: 8, Subscriptions: 30, Transactions: 40,
	CreditPayments: 45, AccountAcquisitions: 40, CustomFieldDefinitions: 11, UniqueCouponCodes: 70, CouponRedemptions: 90, AccountNotes: 80}

func TestNewListsTakeTheSpecsParameters(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 21, Counts: childCounts, RateLimit: 1 << 30})
	acct := srv.Site.Keys(Accounts)[0].ID
	bulk, single := "", ""
	for _, c := range srv.Site.Keys(Coupons) {
		var v struct {
			CouponType string `json:"coupon_type"`
		}
		raw, _ := srv.Site.Record(Coupons, c.ID)
		json.Unmarshal(raw, &v)
		switch {
		case v.CouponType == "bulk" && bulk == "":
			bulk = c.ID
		case v.CouponType == "single_code" && single == "":
			single = c.ID
		}
	}
	if bulk == "" || single == "" {
		t.Fatal("the site has no bulk or no single-code coupon")
	}
	cp := srv.Site.Keys(CreditPayments)[0].ID
	b := "/sites/subdomain-demo/"
	for _, c := range []struct {
		path   string
		status int
	}{
		{b + "credit_payments?limit=5&order=asc&sort=updated_at&begin_time=2020-01-01&end_time=2030-01-01", 200},
		{b + "credit_payments?ids=" + cp, 400},
		{b + "credit_payments?state=active", 400},
		{b + "acquisitions?ids=x&limit=2", 400}, // ids alone, as on every list
		{b + "acquisitions?limit=5&order=desc&sort=created_at", 200},
		{b + "acquisitions?type=charge", 400},
		{b + "custom_field_definitions?ids=" + srv.Site.Keys(CustomFieldDefinitions)[0].ID, 200},
		{b + "custom_field_definitions?related_type=account", 400},
		{b + "coupons/" + bulk + "/unique_coupon_codes?limit=2&order=asc&sort=updated_at&begin_time=2019-01-01", 200},
		{b + "coupons/" + single + "/unique_coupon_codes", 200},
		{b + "coupons/o000000000000/unique_coupon_codes", 404},
		{b + "coupons/" + bulk + "/unique_coupon_codes?state=redeemable", 400},
		{b + "accounts/" + acct + "/coupon_redemptions?sort=updated_at&begin_time=2020-01-01&end_time=2030-01-01", 200},
		{b + "accounts/" + acct + "/coupon_redemptions?limit=10", 400},
		{b + "accounts/" + acct + "/coupon_redemptions?order=asc", 400},
		{b + "accounts/m000000000000/coupon_redemptions", 404},
		{b + "accounts/" + acct + "/notes?ids=l000000000000", 200},
		{b + "accounts/" + acct + "/notes?sort=created_at", 400},
		{b + "accounts/" + acct + "/notes?limit=1", 400},
		{b + "accounts/" + acct + "/notes?begin_time=2020-01-01", 400},
		{b + "accounts/m000000000000/notes", 404},
		{b + "coupon_redemptions", 404}, // no site-level list in v2018-08-09
		{b + "notes", 404},
		{b + "unique_coupon_codes", 404},
		{b + "accounts/" + acct + "/acquisition", 0}, // 200 or 404: checked below
		{b + "credit_payments/" + cp, 200},
	} {
		res := do(t, srv, "GET", c.path, nil)
		if c.status != 0 && res.status != c.status {
			t.Errorf("GET %s: %d, want %d: %s", c.path, res.status, c.status, res.body)
		}
	}
}

// TestChildListsMatchTheTruth pages every parent's child list and compares
// ids and order with ChildKeys, and the totals with Counts.
func TestChildListsMatchTheTruth(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 22, Counts: childCounts, RateLimit: 1 << 30})
	b := "/sites/subdomain-demo/"
	for _, c := range []struct {
		res, parent string
		limit       int // 0: the list has no paging
		total       int
	}{
		{UniqueCouponCodes, Coupons, 7, childCounts.UniqueCouponCodes},
		{CouponRedemptions, Accounts, 0, childCounts.CouponRedemptions},
		{Notes, Accounts, 0, childCounts.AccountNotes},
	} {
		t.Run(c.res, func(t *testing.T) {
			seen, parentsWithChildren := 0, 0
			for _, p := range srv.Site.Keys(c.parent) {
				keys := srv.Site.ChildKeys(c.res, p.ID)
				for _, k := range keys {
					if k.Parent != p.ID {
						t.Fatalf("%s %s has parent %q, listed under %s", c.res, k.ID, k.Parent, p.ID)
					}
				}
				path := b + c.parent + "/" + p.ID + "/" + c.res
				if c.limit > 0 {
					path += "?limit=" + strconv.Itoa(c.limit)
				}
				got, pages := pageAll(t, srv, path)
				ids := make([]string, len(got))
				for j, h := range got {
					ids[j] = h.ID
				}
				if want := expectedOrder(keys, false, true); !slices.Equal(ids, want) {
					t.Fatalf("%s of %s: got %v, want %v", c.res, p.ID, ids, want)
				}
				if c.limit == 0 && pages != 1 {
					t.Fatalf("%s of %s came in %d pages, want all at once", c.res, p.ID, pages)
				}
				head := do(t, srv, "HEAD", path, nil)
				if n := head.header.Get("Recurly-Total-Records"); n != strconv.Itoa(len(keys)) {
					t.Fatalf("HEAD %s: %s records, want %d", path, n, len(keys))
				}
				seen += len(keys)
				if len(keys) > 0 {
					parentsWithChildren++
				}
			}
			if seen != c.total || len(srv.Site.Keys(c.res)) != c.total {
				t.Fatalf("children over all parents: %d, Keys: %d, want %d", seen, len(srv.Site.Keys(c.res)), c.total)
			}
			if parentsWithChildren < 2 {
				t.Fatalf("only %d parents have %s", parentsWithChildren, c.res)
			}
		})
	}
}

func TestChildRecordsBelongToTheSite(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 23, Counts: childCounts, RateLimit: 1 << 30})
	get := func(res, id string) map[string]any {
		t.Helper()
		raw, ok := srv.Site.Record(res, id)
		if !ok {
			t.Fatalf("%s %s does not exist", res, id)
		}
		var v map[string]any
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	idOf := func(v any) string { m, _ := v.(map[string]any); s, _ := m["id"].(string); return s }
	for _, k := range srv.Site.Keys(CreditPayments) {
		v := get(CreditPayments, k.ID)
		inv := get(Invoices, idOf(v["applied_to_invoice"]))
		if idOf(inv["account"]) != idOf(v["account"]) {
			t.Fatalf("credit payment %s on account %s applied to invoice %s of account %s", k.ID, idOf(v["account"]), inv["id"], idOf(inv["account"]))
		}
		if id, ok := v["original_credit_payment_id"].(string); ok {
			get(CreditPayments, id)
		}
	}
	codes := map[string]int{}
	for _, k := range srv.Site.Keys(UniqueCouponCodes) {
		codes[k.Parent]++
		if c := get(Coupons, k.Parent); c["coupon_type"] != "bulk" {
			t.Fatalf("unique code %s belongs to coupon %s of type %v", k.ID, k.Parent, c["coupon_type"])
		}
	}
	for _, k := range srv.Site.Keys(Coupons) {
		if n := get(Coupons, k.ID)["unique_coupon_codes_count"]; n != float64(codes[k.ID]) {
			t.Fatalf("coupon %s: unique_coupon_codes_count %v, has %d", k.ID, n, codes[k.ID])
		}
	}
	for _, k := range srv.Site.Keys(CouponRedemptions) {
		v := get(CouponRedemptions, k.ID)
		if idOf(v["account"]) != k.Parent {
			t.Fatalf("redemption %s: account %s, listed under %s", k.ID, idOf(v["account"]), k.Parent)
		}
		coupon, _ := json.Marshal(v["coupon"])
		want, _ := srv.Site.Record(Coupons, idOf(v["coupon"]))
		if !jsonEqual(t, coupon, want) {
			t.Fatalf("redemption %s embeds a coupon that differs from the site's:\n%s\n%s", k.ID, coupon, want)
		}
	}
	for _, k := range srv.Site.Keys(Notes) {
		v := get(Notes, k.ID)
		if v["account_id"] != k.Parent || k.Replication == nil || !k.Replication.Equal(k.Created) {
			t.Fatalf("note %s: account_id %v, parent %s, key %+v", k.ID, v["account_id"], k.Parent, k)
		}
		get(Accounts, k.Parent)
	}
	accts := map[string]bool{}
	for _, k := range srv.Site.Keys(Acquisitions) {
		a := idOf(get(Acquisitions, k.ID)["account"])
		get(Accounts, a)
		if accts[a] {
			t.Fatalf("account %s has two acquisitions", a)
		}
		accts[a] = true
		res := do(t, srv, "GET", "/sites/subdomain-demo/accounts/"+a+"/acquisition", nil)
		if res.status != 200 || idOf(jsonMap(t, res.body)) != k.ID {
			t.Fatalf("account %s acquisition: %d %s, want %s", a, res.status, res.body, k.ID)
		}
	}
	for _, a := range srv.Site.Keys(Accounts) {
		if !accts[a.ID] {
			if res := do(t, srv, "GET", "/sites/subdomain-demo/accounts/"+a.ID+"/acquisition", nil); res.status != 404 {
				t.Fatalf("account %s without acquisition: %d", a.ID, res.status)
			}
			break
		}
	}
	names := map[any]bool{}
	for _, k := range srv.Site.Keys(CustomFieldDefinitions) {
		n := get(CustomFieldDefinitions, k.ID)["name"]
		if names[n] {
			t.Fatalf("custom field name %v defined twice", n)
		}
		names[n] = true
	}
}

func TestTouchMovesChildRecords(t *testing.T) {
	now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	srv := newTestServer(t, Config{Seed: 24, Counts: childCounts, RateLimit: 1 << 30, Now: func() time.Time { return now }})
	if ids := srv.Site.Touch(Notes, 3); ids != nil {
		t.Fatalf("touched notes %v; notes are never updated", ids)
	}
	for _, res := range []string{CouponRedemptions, UniqueCouponCodes, CreditPayments, Acquisitions, CustomFieldDefinitions} {
		touched := srv.Site.Touch(res, 3)
		if len(touched) != 3 {
			t.Fatalf("Touch(%s) = %v", res, touched)
		}
		var got []string
		q := "sort=updated_at&begin_time=" + url.QueryEscape(now.Format(time.RFC3339))
		if pk, child := childParentKind(mustKind(t, res)); child {
			parents := map[string]bool{}
			for _, k := range srv.Site.Keys(res) {
				if slices.Contains(touched, k.ID) {
					parents[k.Parent] = true
				}
			}
			for p := range parents {
				heads, _ := pageAll(t, srv, fmt.Sprintf("/sites/subdomain-demo/%s/%s/%s?%s", kindNames[pk], p, res, q))
				for _, h := range heads {
					got = append(got, h.ID)
				}
			}
		} else {
			heads, _ := pageAll(t, srv, "/sites/subdomain-demo/"+res+"?"+q)
			for _, h := range heads {
				got = append(got, h.ID)
			}
		}
		slices.Sort(got)
		slices.Sort(touched)
		if !slices.Equal(got, touched) {
			t.Fatalf("%s updated since the touch: %v, touched %v", res, got, touched)
		}
	}
}

func mustKind(t *testing.T, res string) kind {
	k, ok := kindByName(res)
	if !ok {
		t.Fatalf("unknown resource %s", res)
	}
	return k
}

func jsonMap(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}
