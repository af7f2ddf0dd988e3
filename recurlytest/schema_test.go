package recurlytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"github.com/tap-recurly/tap-recurly/internal/openapi"
)

// compileComponent compiles a spec component's JSON Schema.
func compileComponent(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	spec, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := spec.Component(name)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := json.Marshal(allowPlansAll(sc.JSONSchema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat = true
	url := "mem://" + name + ".json"
	if err := c.AddResource(url, bytes.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// allowPlansAll lets a coupon's plans be the string "all", wherever a
// coupon schema sits in the tree: v2018-08-09 sends it when
// applies_to_all_plans is true, though its spec types plans as an array
// (NOTES.md; the tap's coupons schema accepts it too).
func allowPlansAll(sc map[string]any) map[string]any {
	props, _ := sc["properties"].(map[string]any)
	for name, p := range props {
		if m, ok := p.(map[string]any); ok {
			props[name] = allowPlansAll(m)
		}
	}
	if items, ok := sc["items"].(map[string]any); ok {
		sc["items"] = allowPlansAll(items)
	}
	if _, coupon := props["applies_to_all_plans"]; coupon && props["plans"] != nil {
		props["plans"] = map[string]any{"anyOf": []any{props["plans"], map[string]any{"const": "all"}}}
	}
	return sc
}

// TestEveryRecordValidatesAgainstTheSpec pages through every list of a
// 2,000-record site and validates each record against its component schema,
// and that every field of the component is present.
func TestEveryRecordValidatesAgainstTheSpec(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 11, Counts: ScaledCounts(2000)})
	for k := range numKinds {
		res, comp := kindNames[k], kindComponents[k]
		t.Run(res, func(t *testing.T) {
			schema := compileComponent(t, comp)
			// The schema must be able to reject a record.
			if err := schema.Validate(map[string]any{"id": 5, "created_at": "yesterday"}); err == nil {
				t.Fatal("schema accepts a malformed record")
			}
			fields, err := openapi.Load()
			if err != nil {
				t.Fatal(err)
			}
			sc, _ := fields.Component(comp)
			got := pageKind(t, srv, k)
			if len(got) != srv.Site.Counts().byKind()[k] {
				t.Fatalf("paged %d records, want %d", len(got), srv.Site.Counts().byKind()[k])
			}
			nulls := map[string]int{}
			for _, h := range got {
				raw, ok := srv.Site.Record(res, h.ID)
				if !ok {
					t.Fatalf("Record(%s, %s) missing", res, h.ID)
				}
				var v map[string]any
				if err := json.Unmarshal(raw, &v); err != nil {
					t.Fatalf("%s: %v", h.ID, err)
				}
				if err := schema.Validate(v); err != nil {
					t.Fatalf("%s %s does not validate: %v\n%s", comp, h.ID, err, raw)
				}
				for _, f := range sc.FieldNames() {
					val, present := v[f]
					if !present {
						t.Fatalf("%s %s lacks field %s", comp, h.ID, f)
					}
					if val == nil {
						nulls[f]++
					}
				}
				if len(v) != len(sc.FieldNames()) {
					t.Fatalf("%s %s has %d fields, the spec %d", comp, h.ID, len(v), len(sc.FieldNames()))
				}
				if _, ok := v["updated_at"]; (k == kTransaction || k == kNote) && ok {
					t.Fatalf("transaction %s exposes updated_at", h.ID)
				}
				if len(h.ID) != 13 || v["object"] != kindObjects[k] {
					t.Fatalf("id %q object %v", h.ID, v["object"])
				}
			}
			for _, f := range []string{"id", "object", "created_at", "updated_at"} {
				if _, ok := nulls[f]; !ok && k == kNote && f == "updated_at" {
					continue
				}
				if nulls[f] > 0 {
					t.Fatalf("%s is null in %d records", f, nulls[f])
				}
			}
			nullable := 0
			for _, n := range nulls {
				if n > 0 {
					nullable++
				}
			}
			if nullable == 0 {
				t.Fatal("no field is ever null")
			}
		})
	}
}

func TestBillingInfoEndpointValidates(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 12, Counts: smallCounts})
	schema := compileComponent(t, "BillingInfo")
	keys := srv.Site.BillingInfoKeys()
	accounts := srv.Site.Keys(Accounts)
	if frac := float64(len(keys)) / float64(len(accounts)); frac < 0.7 || frac > 0.95 {
		t.Fatalf("%.2f of accounts have billing info, want about 0.85", frac)
	}
	for _, k := range keys[:10] {
		res := do(t, srv, "GET", "/sites/subdomain-demo/accounts/"+k.ID+"/billing_info", nil)
		if res.status != 200 {
			t.Fatalf("%d %s", res.status, res.body)
		}
		var v map[string]any
		if err := json.Unmarshal(res.body, &v); err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(v); err != nil {
			t.Fatalf("billing info of %s: %v", k.ID, err)
		}
		if v["account_id"] != k.ID || v["object"] != "billing_info" || v["updated_at"] != k.Replication.Format("2006-01-02T15:04:05Z") {
			t.Fatalf("billing info %v, key %+v", v, k)
		}
		if k.Replication.After(k.Sort) {
			t.Fatalf("billing info updated after its account: %+v", k)
		}
		// The account embeds the same object.
		acct, _ := srv.Site.Record(Accounts, k.ID)
		var a struct {
			BillingInfo json.RawMessage `json:"billing_info"`
		}
		json.Unmarshal(acct, &a)
		if !bytes.Equal(a.BillingInfo, res.body) {
			t.Fatalf("embedded billing info differs:\n%s\n%s", a.BillingInfo, res.body)
		}
	}
}

func TestTransactionUpdatedAtOption(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 12, Counts: smallCounts, TransactionUpdatedAt: true})
	for _, k := range srv.Site.Keys(Transactions)[:20] {
		raw, _ := srv.Site.Record(Transactions, k.ID)
		var v struct {
			UpdatedAt   string  `json:"updated_at"`
			CollectedAt *string `json:"collected_at"`
		}
		json.Unmarshal(raw, &v)
		if v.UpdatedAt != k.Sort.Format("2006-01-02T15:04:05Z") {
			t.Fatalf("%s updated_at %q, want %s", k.ID, v.UpdatedAt, k.Sort)
		}
		if (v.CollectedAt == nil) != (k.Replication == nil) {
			t.Fatalf("%s collected_at %v vs key %v", k.ID, v.CollectedAt, k.Replication)
		}
	}
}

// TestRelationships checks that references point at real records and that
// embedded minis agree with them.
func TestRelationships(t *testing.T) {
	srv := newTestServer(t, Config{Seed: 13, Counts: smallCounts})
	get := func(res, id string) map[string]any {
		raw, ok := srv.Site.Record(res, id)
		if !ok {
			t.Fatalf("%s %s does not exist", res, id)
		}
		var v map[string]any
		json.Unmarshal(raw, &v)
		return v
	}
	for _, res := range []string{LineItems, Invoices, Subscriptions, Transactions} {
		for _, k := range srv.Site.Keys(res) {
			v := get(res, k.ID)
			mini := v["account"].(map[string]any)
			acct := get(Accounts, mini["id"].(string))
			for _, f := range []string{"code", "email", "first_name", "last_name", "company", "parent_account_id", "bill_to"} {
				if fmt.Sprint(acct[f]) != fmt.Sprint(mini[f]) {
					t.Fatalf("%s %s: account.%s = %v, account has %v", res, k.ID, f, mini[f], acct[f])
				}
			}
		}
	}
	for _, k := range srv.Site.Keys(AddOns) {
		get(Plans, get(AddOns, k.ID)["plan_id"].(string))
	}
	for _, k := range srv.Site.Keys(LineItems) {
		v := get(LineItems, k.ID)
		if id, ok := v["plan_id"].(string); ok && get(Plans, id)["code"] != v["plan_code"] {
			t.Fatalf("line item %s: plan_code %v does not match plan %s", k.ID, v["plan_code"], id)
		}
		if id, ok := v["invoice_id"].(string); ok && get(Invoices, id)["number"] != v["invoice_number"] {
			t.Fatalf("line item %s: invoice_number %v does not match invoice %s", k.ID, v["invoice_number"], id)
		}
	}
	nullCollected := 0
	for _, k := range srv.Site.Keys(Transactions) {
		if k.Replication == nil {
			nullCollected++
		} else if k.Replication.Before(k.Created) || k.Sort.Before(*k.Replication) {
			t.Fatalf("transaction %+v: want created <= collected <= hidden updated", k)
		}
		inv := get(Transactions, k.ID)["invoice"].(map[string]any)
		if get(Invoices, inv["id"].(string))["number"] != inv["number"] {
			t.Fatalf("transaction %s: invoice mini disagrees", k.ID)
		}
	}
	if frac := float64(nullCollected) / float64(smallCounts.Transactions); frac < 0.03 || frac > 0.3 {
		t.Fatalf("%.2f of transactions have null collected_at, want a few (unsuccessful ones)", frac)
	}
}
