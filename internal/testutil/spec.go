package testutil

import (
	"testing"

	"github.com/tap-recurly/tap-recurly/internal/openapi"
)

// Spec loads the embedded OpenAPI spec, failing the test if it cannot.
func Spec(t testing.TB) *openapi.Spec {
	t.Helper()
	spec, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	return spec
}
