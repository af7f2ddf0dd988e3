package cli

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tap-recurly/tap-recurly/recurlytest"
)

// TestCompletenessSummary: against a site whose accounts listing (three
// pages) leaves out 3 of the 450 accounts its count includes, the run
// warns once with both numbers and the range, still exits 0 (the records
// it read are loaded; see the README), and ends with a summary line per
// stream: emitted, counted, warnings. The same site without the skip
// warns nothing.
func TestCompletenessSummary(t *testing.T) {
	for _, tt := range []struct {
		skip int
		want []string // regular expressions, one line each
	}{
		{0, []string{`summary: accounts: emitted 450, counted 450 \(/accounts\), warnings: schema 0, completeness 0`,
			`summary: billing_info: emitted \d+, counted 450 \(/accounts\), warnings: schema 0, completeness 0`,
			`summary: plans: emitted 0, counted 0 \(/plans\), warnings: schema 0, completeness 0`,
			`summary: unique_coupon_codes: emitted 0, not counted \(/coupons/\{id\}/unique_coupon_codes\), warnings: schema 0, completeness 0`}},
		{3, []string{`summary: accounts: emitted 447, counted 450 \(/accounts\), warnings: schema 0, completeness 1`,
			`summary: billing_info: emitted \d+, counted 450 \(/accounts\), warnings: schema 0, completeness 1`,
			`summary: plans: emitted 0, counted 0 \(/plans\), warnings: schema 0, completeness 0`,
			`summary: unique_coupon_codes: emitted 0, not counted \(/coupons/\{id\}/unique_coupon_codes\), warnings: schema 0, completeness 0`}},
	} {
		t.Run(fmt.Sprintf("skip %d", tt.skip), func(t *testing.T) {
			srv := newTestSite(t, recurlytest.Config{Seed: 97, Counts: recurlytest.Counts{Accounts: 450}, SkipRecords: tt.skip})
			cfgPath := writeFile(t, t.TempDir(), "config.json", siteConfig(srv, ""))
			r := runInProcess(t, "completeness", env{}, "--config", cfgPath)
			if r.code != ExitOK {
				t.Fatalf("exit %d; %q", r.code, r.errorLines())
			}
			stderr := string(r.stderr)
			var warns []string
			for _, l := range strings.Split(stderr, "\n") {
				if strings.Contains(l, " missing") {
					warns = append(warns, l)
				}
			}
			if tt.skip == 0 && len(warns) > 0 {
				t.Errorf("warned on a complete listing: %q", warns)
			}
			if tt.skip > 0 && (len(warns) != 1 || !strings.HasPrefix(warns[0], "WARNING accounts+billing_info: the site counts 450 records from "+testStart) ||
				!strings.Contains(warns[0], "the listing read 447: 3 missing")) {
				t.Errorf("want one WARN line naming 450 vs 447 from %s, got %q", testStart, warns)
			}
			for _, want := range tt.want {
				if !regexp.MustCompile(`(?m)^INFO ` + want + ` `).MatchString(stderr) {
					t.Errorf("no line %q in:\n%s", want, stderr)
				}
			}
		})
	}
}
