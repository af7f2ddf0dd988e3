// Command recurly-sim serves a simulated Recurly site (API v2018-08-09) on a
// loopback port, for trying tap-recurly, scripts and curl without a real
// Recurly account. Every knob of recurlytest.Config is a flag; run
// recurly-sim --help for the list.
//
// Example:
//
//	recurly-sim --addr 127.0.0.1:8080 --records 10000 &
//	curl -u sim-key: -H 'Accept: application/vnd.recurly.v2018-08-09' \
//	    'http://127.0.0.1:8080/sites/subdomain-demo/accounts?limit=2'
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tap-recurly/tap-recurly/recurlytest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr))
}

// timeFlag is a flag.Value for a timestamp given as RFC 3339 or a date.
type timeFlag struct{ t *time.Time }

func (f timeFlag) String() string {
	if f.t == nil || f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f timeFlag) Set(v string) error {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			*f.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("want RFC 3339 or YYYY-MM-DD, got %q", v)
}

// options are the parsed command line.
type options struct {
	addr        string
	urlFile     string
	records     int
	counts      recurlytest.Counts
	mutateEvery time.Duration
	mutateCount int
	gzip        bool
	cfg         recurlytest.Config
}

const usage = `Usage: recurly-sim [flags]

Serves a simulated Recurly site (API v2018-08-09) on a loopback address:
GET/HEAD /sites/{site}/{accounts,line_items,coupons,invoices,plans,add_ons,
subscriptions,transactions,credit_payments,acquisitions,custom_field_definitions},
/sites/{site}/coupons/{id}/unique_coupon_codes, /sites/{site}/accounts/{id}/
{coupon_redemptions,notes,billing_info,balance}, /sites/{site}/invoices/{id}/
coupon_redemptions and more,
with Basic auth (the API key as user name, empty password), keyset paging,
X-RateLimit-* headers, optional faults and live updates. Stops on SIGINT/SIGTERM.

Flags:
`

// parse reads the command line into options: flags, then their checks.
func parse(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("recurly-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	o.siteFlags(fs)
	o.serverFlags(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o.cfg.NoGzip = !o.gzip
	if o.records < 0 {
		return nil, errors.New("--records must not be negative")
	}
	if o.cfg.SkipRecords < 0 {
		return nil, errors.New("--skip-records must not be negative")
	}
	if err := recurlytest.CheckLoopback(o.addr); err != nil {
		return nil, err
	}
	if err := o.setCounts(fs); err != nil {
		return nil, err
	}
	return o, nil
}

// countFlag ties a per-resource count flag to the field it sets in the
// parsed options (flag) and in the site's counts (to).
type countFlag struct {
	name     string
	flag, to *int
}

func (o *options) countFlags() []countFlag {
	f, to := &o.counts, &o.cfg.Counts
	return []countFlag{
		{"accounts", &f.Accounts, &to.Accounts}, {"line-items", &f.LineItems, &to.LineItems},
		{"coupons", &f.Coupons, &to.Coupons}, {"invoices", &f.Invoices, &to.Invoices},
		{"plans", &f.Plans, &to.Plans}, {"add-ons", &f.AddOns, &to.AddOns},
		{"subscriptions", &f.Subscriptions, &to.Subscriptions}, {"transactions", &f.Transactions, &to.Transactions},
		{"credit-payments", &f.CreditPayments, &to.CreditPayments},
		{"account-acquisitions", &f.AccountAcquisitions, &to.AccountAcquisitions},
		{"custom-field-definitions", &f.CustomFieldDefinitions, &to.CustomFieldDefinitions},
		{"unique-coupon-codes", &f.UniqueCouponCodes, &to.UniqueCouponCodes},
		{"coupon-redemptions", &f.CouponRedemptions, &to.CouponRedemptions},
		{"account-notes", &f.AccountNotes, &to.AccountNotes},
	}
}

// siteFlags defines the flags of what the site holds: seed, ids, sizes,
// time range and ties.
func (o *options) siteFlags(fs *flag.FlagSet) {
	c := &o.cfg
	fs.Int64Var(&c.Seed, "seed", 1, "seed of the generated records and of the fault sequence")
	fs.StringVar(&c.SiteID, "site", "subdomain-demo", "site id as addressed in paths (/sites/{site}/...)")
	fs.StringVar(&c.APIKey, "api-key", "sim-key", "API key clients must send as the Basic auth user name")
	fs.IntVar(&o.records, "records", 0, "total records, split in the default proportions (0: the default site of 4,940)")
	for _, p := range o.countFlags() {
		fs.IntVar(p.flag, p.name, 0, "number of "+strings.ReplaceAll(p.name, "-", " ")+" (overrides the share --records gives them)")
	}
	fs.Var(timeFlag{&c.Start}, "start", "earliest created/updated `time` of generated records (default 2019-06-01)")
	fs.Var(timeFlag{&c.End}, "end", "latest created/updated `time` of generated records (default 2026-10-01)")
	fs.Float64Var(&c.TieDensity, "tie-density", 3, "about how many records of a resource share each created_at/updated_at second (1: ties are rare)")
	fs.BoolVar(&c.TransactionUpdatedAt, "transaction-updated-at", false, "also expose the hidden transaction updated_at in JSON (v2018-08-09 has none)")
	fs.Func("drift", "comma-separated `list` of drift from the spec: unknown-fields (every 10th account), string-total (invoice 0's total \"123.45\"), bad-value (the middle invoice's net_terms \"thirty\"), string-valid (every billing_info's valid as a string), or all", func(v string) (err error) {
		c.Drift, err = recurlytest.ParseDrift(v)
		return err
	})
	fs.IntVar(&c.SkipRecords, "skip-records", 0, "leave this many records of each resource out of its site-level list's pages while its HEAD count still includes them (0: none)")
	fs.DurationVar(&o.mutateEvery, "mutate-every", 0, "touch records this often while serving (0: never)")
	fs.IntVar(&o.mutateCount, "mutate-count", 5, "records touched per --mutate-every tick")
}

// serverFlags defines the flags of how the site answers: address, rate
// limit, latency, faults, gzip and deprecation.
func (o *options) serverFlags(fs *flag.FlagSet) {
	c := &o.cfg
	fs.StringVar(&o.addr, "addr", "127.0.0.1:0", "listen `address`; loopback only (port 0 picks a free port)")
	fs.StringVar(&o.urlFile, "url-file", "", "write the base URL to this `file` once serving (for scripts)")
	fs.IntVar(&c.RateLimit, "rate-limit", 2000, "requests allowed per rate-limit window (X-RateLimit-Limit)")
	fs.DurationVar(&c.RateWindow, "rate-window", 5*time.Minute, "length of the sliding rate-limit window")
	fs.IntVar(&c.RateBuckets, "rate-buckets", 5, "buckets the window slides in; X-RateLimit-Reset is the end of the current one (1: fixed window)")
	fs.Float64Var(&c.BackgroundLoad, "background-load", 0, "requests per second other integrations spend from the same quota")
	fs.DurationVar(&c.Latency, "latency", 0, "delay added before every response")
	fs.Float64Var(&c.Faults.Status500, "fault-500", 0, "probability per request of a 500 answer")
	fs.Float64Var(&c.Faults.Status502, "fault-502", 0, "probability per request of a 502 answer")
	fs.Float64Var(&c.Faults.Status503, "fault-503", 0, "probability per request of a 503 answer")
	fs.Float64Var(&c.Faults.Status429, "fault-429", 0, "probability per request of a 429 answer with Retry-After")
	fs.DurationVar(&c.Faults.RetryAfter, "retry-after", time.Second, "Retry-After of fault 429s (whole seconds, at least 1)")
	fs.Float64Var(&c.Faults.ConnReset, "fault-reset", 0, "probability per request of closing the connection without an answer")
	fs.Float64Var(&c.Faults.Truncate, "fault-truncate", 0, "probability per request of a 200 whose body is cut off mid-JSON")
	fs.BoolVar(&c.Faults.Down, "fault-down", false, "answer every request with 503 (an outage)")
	fs.Float64Var(&c.Faults.CF520, "fault-cf520", 0, "probability per request of a Cloudflare 520 HTML page (no Recurly headers)")
	fs.Float64Var(&c.Faults.CF522, "fault-cf522", 0, "probability per request of a Cloudflare 522 HTML page (no Recurly headers)")
	fs.Float64Var(&c.Faults.CF524, "fault-cf524", 0, "probability per request of a Cloudflare 524 HTML page (no Recurly headers)")
	fs.BoolVar(&o.gzip, "gzip", true, "gzip answers to requests that accept it (streamed, no Content-Length); --gzip=false turns it off")
	fs.BoolVar(&c.Deprecated, "deprecated", false, "mark the API version deprecated: Recurly-Deprecated: TRUE and Recurly-Sunset-Date on every answer")
	fs.Var(timeFlag{&c.SunsetDate}, "sunset-date", "Recurly-Sunset-Date sent with --deprecated (`time`; default 2026-12-31)")
}

// setCounts sizes the site: --records (or the default site), then each
// per-resource count flag given.
func (o *options) setCounts(fs *flag.FlagSet) error {
	c := &o.cfg
	c.Counts = recurlytest.DefaultCounts()
	if o.records > 0 {
		c.Counts = recurlytest.ScaledCounts(o.records)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, p := range o.countFlags() {
		if set[p.name] {
			if *p.flag < 0 {
				return fmt.Errorf("--%s must not be negative", p.name)
			}
			*p.to = *p.flag
		}
	}
	if c.Counts == (recurlytest.Counts{}) {
		return errors.New("the site would hold no records at all")
	}
	return nil
}

// run serves until ctx is done and returns the exit code.
func run(ctx context.Context, args []string, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "recurly-sim:", err)
		return 2
	}
	srv, err := recurlytest.Listen(o.addr, o.cfg)
	if err != nil {
		fmt.Fprintln(stderr, "recurly-sim:", err)
		return 1
	}
	defer srv.Close()
	if o.urlFile != "" {
		if err := writeAtomic(o.urlFile, srv.URL+"\n"); err != nil {
			fmt.Fprintln(stderr, "recurly-sim:", err)
			return 1
		}
	}
	if o.mutateEvery > 0 {
		srv.Site.StartMutator(ctx, o.mutateEvery, o.mutateCount)
	}
	fmt.Fprintf(stderr, "recurly-sim: serving site %s at %s (api key: %s, %d records)\n",
		srv.Site.SiteID(), srv.URL, srv.Site.APIKey(), srv.Site.Counts().Total())
	<-ctx.Done()
	return 0
}

// writeAtomic writes a file through a temporary one and a rename, so a
// script polling for it never reads half a URL.
func writeAtomic(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".recurly-sim-url-*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
