package layouts

import (
	"encoding/json"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// packageColumns reads testdata/dbt_recurly_columns.txt: the columns of
// the package's staging macros, per table, in the macros' order, with
// their datatypes.
func packageColumns(t *testing.T) (map[string][]string, map[string]string) {
	t.Helper()
	data, err := os.ReadFile("testdata/dbt_recurly_columns.txt")
	if err != nil {
		t.Fatal(err)
	}
	cols, types := map[string][]string{}, map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 3 {
			t.Fatalf("testdata line %q: want table column datatype", line)
		}
		cols[f[0]] = append(cols[f[0]], f[1])
		types[f[0]+"."+f[1]] = f[2]
	}
	return cols, types
}

// extraColumns are the columns a table carries beyond the package's
// macro, each for a stated reason (README, dbt_recurly): the staging
// models select only the macro's columns, so extras are harmless.
var extraColumns = map[string][]string{
	// The bookmark: the parent's replication value, which no macro column holds.
	"coupon_discount":             {"coupon_updated_at"},
	"subscription_add_on_history": {"subscription_updated_at"},
	"subscription_change_history": {"subscription_updated_at"},
	"transaction_subscription":    {"transaction_collected_at"},
	// dbt_recurly_source's macro lists it; dbt_recurly v1.5 dropped it.
	"billing_info_history": {"fraud_risk_rules_triggered"},
}

// TestDBTRecurlyTablesAreThePackages: the layout has exactly the
// package's 18 source tables.
func TestDBTRecurlyTablesAreThePackages(t *testing.T) {
	cols, _ := packageColumns(t)
	var want []string
	for name := range cols {
		want = append(want, name)
	}
	sort.Strings(want)
	lay, err := Get(DBTRecurly)
	if err != nil {
		t.Fatal(err)
	}
	if got := lay.Names(); !slices.Equal(got, want) || len(got) != 18 {
		t.Fatalf("tables %v\nwant the package's 18: %v", got, want)
	}
}

// TestDBTRecurlyColumns checks each table's columns against the package's
// macro: every macro column present under its name, nothing else but the
// stated extras, keys and bookmark among them, and each column's JSON type
// one the package's datatype accepts.
func TestDBTRecurlyColumns(t *testing.T) {
	cols, types := packageColumns(t)
	lay, _ := Get(DBTRecurly)
	for _, st := range lay.All() {
		t.Run(st.Name, func(t *testing.T) {
			props := schemaProps(t, lay, st.Name)
			want := append(slices.Clone(cols[st.Name]), extraColumns[st.Name]...)
			var got []string
			for _, c := range st.Rows.Columns {
				got = append(got, c.Name)
			}
			if !sameSet(got, want) {
				t.Errorf("columns %v\nwant %v", got, want)
			}
			if len(props) != len(got) {
				t.Errorf("schema has %d properties, the rows %d columns", len(props), len(got))
			}
			for _, k := range append(st.KeyProperties(), st.ReplicationKey) {
				if !slices.Contains(got, k) {
					t.Errorf("key or bookmark %q is not a column", k)
				}
			}
			for _, c := range got {
				dt, ok := types[st.Name+"."+c]
				if !ok {
					continue // an extra column
				}
				if problem := typeAccepts(dt, props[c], st.Name+"."+c); problem != "" {
					t.Errorf("%s: %s", c, problem)
				}
			}
		})
	}
}

// passedThrough are columns whose API type differs from the macro's
// datatype: the staging models select them without a cast, so the
// warehouse keeps the API's type (a string cast of them is lossless).
var passedThrough = map[string]string{
	"invoice_history.net_terms":                       "integer",
	"billing_info_history.fraud_score":                "integer",
	"billing_info_history.fraud_risk_rules_triggered": "object",
	"coupon_discount.percentage":                      "integer",
	"coupon_redemption_history.discounted":            "number",
	"subscription_change_history.activated":           "boolean",
	"transaction.gateway_response_values":             "object",
	"transaction.payment_gateway_name":                "string", // the macro says timestamp; the API gives the gateway's name
}

// typeAccepts says what is wrong with a column schema for the package's
// datatype ("" when nothing is).
func typeAccepts(datatype string, schema map[string]any, column string) string {
	typ, format := jsonType(schema), schema["format"]
	if typ == "" {
		return "no JSON type"
	}
	if want, ok := passedThrough[column]; ok {
		if typ != want {
			return "type " + typ + ", want the API's " + want
		}
		return ""
	}
	ok := false
	switch datatype {
	case "string":
		ok = typ == "string" && format == nil
	case "timestamp":
		ok = typ == "string" && format == "date-time"
	case "float":
		ok = typ == "number" || typ == "integer"
	case "int":
		ok = typ == "integer" || typ == "number" // the staging models cast to numeric
	case "boolean":
		ok = typ == "boolean"
	}
	if !ok {
		return "JSON type " + typ + " is not one the package's " + datatype + " accepts"
	}
	return ""
}

// jsonType is a nullable schema's one non-null type.
func jsonType(schema map[string]any) string {
	types, _ := schema["type"].([]any)
	if len(types) != 2 || types[0] != "null" {
		return ""
	}
	s, _ := types[1].(string)
	return s
}

func schemaProps(t *testing.T, lay *Layout, name string) map[string]map[string]any {
	t.Helper()
	raw, err := lay.Schema(name)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Properties map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return s.Properties
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b) && len(slices.Compact(a)) == len(a)
}

// TestDBTRecurlyRows derives rows from sample records as the API sends
// them and checks the columns that flattening and unpacking fill.
func TestDBTRecurlyRows(t *testing.T) {
	synced := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		table  string
		record string
		want   []map[string]any // per row, some of its columns
	}{
		{"account_history",
			`{"id":"a1","updated_at":"2026-01-02T03:04:05Z","tax_exempt":true,"address":{"city":"Oslo","country":"NO","postal_code":"0150","region":null}}`,
			[]map[string]any{{"id": "a1", "updated_at": "2026-01-02T03:04:05Z", "account_city": "Oslo", "account_country": "NO",
				"account_postal_code": "0150", "account_region": nil, "tax_exempt": true, "deleted_at": nil, "_fivetran_synced": "2026-11-22T10:00:00Z"}}},
		{"billing_info_history",
			`{"id":"b1","account_id":"a1","address":{"phone":"555","street1":"1 Main"},"payment_method":{"object":"credit_card","card_type":"Visa","last_four":"4242","exp_month":12},"fraud":{"score":7},"updated_by":{"ip":"10.0.0.1"}}`,
			[]map[string]any{{"id": "b1", "account_id": "a1", "billing_phone": "555", "billing_street_1": "1 Main", "payment_method_object": "credit_card",
				"payment_method_card_type": "Visa", "payment_method_last_four": "4242", "payment_method_exp_month": 12.0, "fraud_score": 7.0, "updated_by_ip": "10.0.0.1"}}},
		{"transaction",
			`{"id":"t1","collected_at":"2026-01-01T00:00:00Z","account":{"id":"a1"},"invoice":{"id":"i1"},"amount":12.5,"billing_address":{"first_name":"Ada","country":"GB"},"payment_gateway":{"id":"g1","type":"stripe","name":"Stripe"},"gateway_response_values":{"k":"v"}}`,
			[]map[string]any{{"id": "t1", "account_id": "a1", "invoice_id": "i1", "amount": 12.5, "billing_first_name": "Ada", "billing_country": "GB",
				"payment_gateway_id": "g1", "payment_gateway_type": "stripe", "payment_gateway_name": "Stripe", "gateway_response_values": map[string]any{"k": "v"}}}},
		{"transaction_subscription", `{"id":"t1","collected_at":"2026-01-01T00:00:00Z","subscription_ids":["s1","s2"]}`,
			[]map[string]any{{"transaction_id": "t1", "subscription_id": "s1", "transaction_collected_at": "2026-01-01T00:00:00Z"},
				{"transaction_id": "t1", "subscription_id": "s2"}}},
		{"transaction_subscription", `{"id":"t2","subscription_ids":null}`, nil},
		{"invoice_history", `{"id":"i1","updated_at":"2026-01-01T00:00:00Z","account":{"id":"a1"},"net_terms":30,"tax_info":{"type":"vat","region":"EU","rate":0.2}}`,
			[]map[string]any{{"id": "i1", "account_id": "a1", "net_terms": 30.0, "tax_type": "vat", "tax_region": "EU", "tax_rate": 0.2}}},
		{"invoice_subscription_history", `{"id":"i1","updated_at":"2026-01-01T00:00:00Z","subscription_ids":["s1"]}`,
			[]map[string]any{{"invoice_id": "i1", "invoice_updated_at": "2026-01-01T00:00:00Z", "subscription_id": "s1"}}},
		{"line_item_history", `{"id":"l1","account":{"id":"a1"},"subscription_id":"s1","tax_info":{"rate":0.1},"start_date":"2026-01-01T00:00:00Z"}`,
			[]map[string]any{{"id": "l1", "account_id": "a1", "subscription_id": "s1", "tax_rate": 0.1, "start_date": "2026-01-01T00:00:00Z"}}},
		{"plan_currency_history", `{"id":"p1","updated_at":"2026-01-01T00:00:00Z","currencies":[{"currency":"USD","setup_fee":5,"unit_amount":10},{"currency":"EUR","unit_amount":9}]}`,
			[]map[string]any{{"plan_id": "p1", "plan_updated_at": "2026-01-01T00:00:00Z", "currency": "USD", "setup_fees": 5.0, "unit_amount": 10.0},
				{"plan_id": "p1", "currency": "EUR", "setup_fees": nil, "unit_amount": 9.0}}},
		{"subscription_history", `{"id":"s1","account":{"id":"a1"},"plan":{"id":"p1","code":"gold"},"unit_amount":10,"current_period_started_at":"2026-01-01T00:00:00Z"}`,
			[]map[string]any{{"id": "s1", "account_id": "a1", "plan_id": "p1", "unit_amount": 10.0, "current_period_started_at": "2026-01-01T00:00:00Z"}}},
		{"subscription_add_on_history", `{"id":"s1","updated_at":"2026-02-01T00:00:00Z","add_ons":[{"id":"sa1","add_on":{"id":"ao1"},"quantity":2,"updated_at":"2026-01-01T00:00:00Z"}]}`,
			[]map[string]any{{"id": "sa1", "plan_add_on_id": "ao1", "subscription_id": "s1", "quantity": 2.0, "updated_at": "2026-01-01T00:00:00Z",
				"subscription_updated_at": "2026-02-01T00:00:00Z"}}},
		{"subscription_change_history", `{"id":"s1","updated_at":"2026-02-01T00:00:00Z","pending_change":{"id":"c1","plan":{"id":"p2"},"activated":false}}`,
			[]map[string]any{{"id": "c1", "plan_id": "p2", "subscription_id": "s1", "activated": false}}},
		{"subscription_change_history", `{"id":"s1","pending_change":null}`, nil},
		{"coupon_discount", `{"id":"c1","updated_at":"2026-01-01T00:00:00Z","discount":{"type":"fixed","currencies":[{"currency":"USD","amount":5}]}}`,
			[]map[string]any{{"coupon_id": "c1", "fivetran_id": "c1:USD", "currency": "USD", "amount": 5.0, "type": "fixed", "percentage": nil}}},
		{"coupon_discount", `{"id":"c2","discount":{"type":"percent","percent":15}}`,
			[]map[string]any{{"coupon_id": "c2", "fivetran_id": "c2:percent", "currency": nil, "percentage": 15.0, "type": "percent"}}},
		{"coupon_discount", `{"id":"c3","discount":{"type":"free_trial","trial":{"unit":"month","length":2}}}`,
			[]map[string]any{{"fivetran_id": "c3:free_trial", "trial_unit": "month", "trial_length": 2.0}}},
		{"credit_payment_history", `{"id":"cp1","account":{"id":"a1"},"applied_to_invoice":{"id":"i1"},"original_invoice":{"id":"i0"},"refund_transaction":{"id":"t9"}}`,
			[]map[string]any{{"id": "cp1", "account_id": "a1", "applied_to_invoice_id": "i1", "original_invoice_id": "i0", "refund_transaction_id": "t9"}}},
		{"coupon_redemption_history", `{"id":"r1","account":{"id":"a1"},"coupon":{"id":"c1"},"discounted":3.5}`,
			[]map[string]any{{"id": "r1", "account_id": "a1", "coupon_id": "c1", "discounted": 3.5}}},
		{"account_note_history", `{"id":"n1","account_id":"a1","user":{"id":"u1","email":"u@example.com"},"message":"hi"}`,
			[]map[string]any{{"id": "n1", "account_id": "a1", "user_id": "u1", "user_email": "u@example.com", "message": "hi", "account_updated_at": nil}}},
		{"account_balance_history", `{"account":{"id":"a1"},"past_due":true,"balances":[{"currency":"USD","amount":12}]}`,
			[]map[string]any{{"currency": "USD", "amount": 12.0, "past_due": true}}},
	}
	lay, _ := Get(DBTRecurly)
	for _, tt := range tests {
		t.Run(tt.table, func(t *testing.T) {
			st, ok := lay.ByName(tt.table)
			if !ok {
				t.Fatalf("no table %s", tt.table)
			}
			rows, err := st.Rows.Apply(json.RawMessage(tt.record), synced)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(tt.want) {
				t.Fatalf("%d rows, want %d", len(rows), len(tt.want))
			}
			for i, raw := range rows {
				var row map[string]any
				if err := json.Unmarshal(raw, &row); err != nil {
					t.Fatal(err)
				}
				if len(row) != len(st.Rows.Columns) {
					t.Errorf("row %d has %d columns, want %d", i, len(row), len(st.Rows.Columns))
				}
				for k, v := range tt.want[i] {
					got, ok := row[k]
					if !ok {
						t.Errorf("row %d: no column %s", i, k)
					} else if mv, isMap := v.(map[string]any); isMap {
						if b1, b2 := mustJSON(t, got), mustJSON(t, mv); b1 != b2 {
							t.Errorf("row %d: %s = %s, want %s", i, k, b1, b2)
						}
					} else if got != v {
						t.Errorf("row %d: %s = %#v, want %#v", i, k, got, v)
					}
				}
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestGet: every layout name resolves, the default is streams, and an
// unknown name is refused naming the known ones.
func TestGet(t *testing.T) {
	for _, n := range append(slices.Clone(Names), "") {
		if _, err := Get(n); err != nil {
			t.Errorf("Get(%q): %v", n, err)
		}
	}
	if l, _ := Get(""); l.Name != Streams || l != Default() {
		t.Errorf("the default layout is %s, want streams", l.Name)
	}
	if _, err := Get("fivetran"); err == nil || !strings.Contains(err.Error(), "dbt_recurly") {
		t.Errorf("Get(fivetran) = %v, want an error naming the layouts", err)
	}
}
