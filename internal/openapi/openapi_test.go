package openapi

import (
	"strings"
	"testing"
)

func TestComponentsFlattenInSpecOrder(t *testing.T) {
	spec, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		fields int
		first  string
		last   string
	}{
		{"Account", 24, "id", "custom_fields"},
		{"LineItem", 41, "id", "updated_at"},
		{"BillingInfo", 14, "id", "updated_by"},
		{"Coupon", 27, "id", "expired_at"},
		{"Invoice", 33, "id", "closed_at"},
		{"Plan", 21, "id", "deleted_at"},
		{"AddOn", 14, "id", "deleted_at"},
		{"Subscription", 40, "id", "bank_account_authorized_at"},
		{"Transaction", 36, "id", "collected_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := spec.Component(tt.name)
			if err != nil {
				t.Fatal(err)
			}
			names := sc.FieldNames()
			if len(names) != tt.fields || names[0] != tt.first || names[len(names)-1] != tt.last {
				t.Fatalf("%s fields = %d [%s], want %d from %s to %s", tt.name, len(names), strings.Join(names, ","), tt.fields, tt.first, tt.last)
			}
		})
	}
}

func TestNestedReferencesResolve(t *testing.T) {
	spec, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	acc, err := spec.Component("Account")
	if err != nil {
		t.Fatal(err)
	}
	bi := acc.Property("billing_info")
	if bi == nil || bi.Ref != "BillingInfo" || bi.Property("payment_method") == nil {
		t.Fatalf("Account.billing_info not resolved: %+v", bi)
	}
	cf := acc.Property("custom_fields")
	if cf == nil || cf.Type != "array" || cf.Items == nil || cf.Items.Property("name") == nil {
		t.Fatalf("Account.custom_fields not an array of CustomField: %+v", cf)
	}
	if _, err := spec.Component("NoSuchThing"); err == nil {
		t.Fatal("unknown component: want error")
	}
}
