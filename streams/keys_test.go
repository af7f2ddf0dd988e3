package streams_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/tap-recurly/tap-recurly/recurlytest"
)

// TestPrimaryKeyProblemsNamed: a record whose primary key is not a
// non-empty string stops the stream with a line saying what is wrong with
// it, not that it is missing when it is there.
func TestPrimaryKeyProblemsNamed(t *testing.T) {
	for _, tt := range []struct{ name, record, want string }{
		{"absent", `{"object":"plan","updated_at":"2020-01-01T00:00:00Z"}`, `missing primary key "id"`},
		{"null", `{"id":null,"updated_at":"2020-01-01T00:00:00Z"}`, `primary key "id" is null`},
		{"empty string", `{"id":"","updated_at":"2020-01-01T00:00:00Z"}`, `primary key "id" is an empty string`},
		{"number", `{"id":12345,"updated_at":"2020-01-01T00:00:00Z"}`, `primary key "id" is not a string: 12345`},
		{"object", `{"id":{"uuid":"x"},"updated_at":"2020-01-01T00:00:00Z"}`, `primary key "id" is not a string: {"uuid":"x"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newSite(t, recurlytest.Config{Seed: 31})
			fn := func(r []json.RawMessage) { r[2] = json.RawMessage(tt.record) }
			_, _, err := runSync(t, context.Background(), srv, everything(t, "plans"), runOpts{api: rewrite{newClient(t, srv), fn}})
			if want := "plans: record 2 of its page: " + tt.want; err == nil || err.Error() != want {
				t.Fatalf("err = %v, want %s", err, want)
			}
		})
	}
}
