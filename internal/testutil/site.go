package testutil

import (
	"testing"

	"github.com/tap-recurly/tap-recurly/recurlytest"
)

// StartSite serves a simulated Recurly site on loopback for the rest of the
// test and stops it when the test ends.
func StartSite(t testing.TB, cfg recurlytest.Config) *recurlytest.Server {
	t.Helper()
	srv, err := recurlytest.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}
