package recurlytest

import (
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Fault names as logged in Request.Fault.
const (
	fault500      = "500"
	fault502      = "502"
	fault503      = "503"
	fault429      = "429"
	faultReset    = "reset"
	faultTruncate = "truncate"
	faultDown     = "down"
	faultCF520    = "cf520"
	faultCF522    = "cf522"
	faultCF524    = "cf524"
)

func (f Faults) validate() error {
	sum := 0.0
	for _, p := range []float64{f.Status500, f.Status502, f.Status503, f.Status429, f.ConnReset, f.Truncate, f.CF520, f.CF522, f.CF524} {
		if p < 0 || p > 1 {
			return errors.New("recurlytest: fault probabilities must be within 0..1")
		}
		sum += p
	}
	if sum > 1+1e-9 {
		return errors.New("recurlytest: fault probabilities sum to more than 1")
	}
	if f.RetryAfter < 0 {
		return errors.New("recurlytest: negative RetryAfter")
	}
	return nil
}

// draw picks at most one fault for a request from u in [0, 1).
func (f Faults) draw(u float64) string {
	for _, c := range []struct {
		p    float64
		name string
	}{
		{f.Status500, fault500}, {f.Status502, fault502}, {f.Status503, fault503},
		{f.Status429, fault429}, {f.ConnReset, faultReset}, {f.Truncate, faultTruncate},
		{f.CF520, faultCF520}, {f.CF522, faultCF522}, {f.CF524, faultCF524},
	} {
		if u < c.p {
			return c.name
		}
		u -= c.p
	}
	return ""
}

// retryAfterSeconds is the Retry-After value of fault 429s.
func (f Faults) retryAfterSeconds() int64 {
	d := f.RetryAfter
	if d <= 0 {
		d = time.Second
	}
	sec := int64((d + time.Second - 1) / time.Second)
	return max(1, sec)
}

// cfTitles are the titles of Cloudflare's origin error pages.
var cfTitles = map[string]struct {
	status int
	title  string
}{
	faultCF520: {520, "Web server is returning an unknown error"},
	faultCF522: {522, "Connection timed out"},
	faultCF524: {524, "A timeout occurred"},
}

// cloudflarePage is an edge error page as Cloudflare serves it: HTML, with
// Cloudflare's headers and none of Recurly's.
func cloudflarePage(fault, host, ray string) (int, http.Header, []byte) {
	p := cfTitles[fault]
	code := strconv.Itoa(p.status)
	body := "<!DOCTYPE html>\n<html lang=\"en-US\">\n<head>\n<title>" + host + " | " + code + ": " + p.title +
		"</title>\n<meta charset=\"UTF-8\" />\n</head>\n<body>\n<div id=\"cf-error-details\">\n<h1>" + p.title +
		"</h1>\n<span>Error code " + code + "</span>\n<p>Visit <a href=\"https://www.cloudflare.com/5xx-error-landing\">cloudflare.com</a> for more information.</p>\n" +
		"<p>Cloudflare Ray ID: <strong>" + ray + "</strong></p>\n</div>\n</body>\n</html>\n"
	h := http.Header{
		"Content-Type":  {"text/html; charset=UTF-8"},
		"Server":        {"cloudflare"},
		"Cf-Ray":        {ray + "-SJC"},
		"Cache-Control": {"private, max-age=0, no-store, no-cache, must-revalidate, post-check=0, pre-check=0"},
	}
	return p.status, h, []byte(body)
}

// skipping wraps a list's match so that it leaves out skip of a resource's n
// records, those at indexes n*(j+1)/(skip+1) for j < skip (Config.SkipRecords).
func skipping(n, skip int, match func(int) bool) func(int) bool {
	skip = min(skip, n)
	return func(i int) bool {
		// n*(j+1)/(skip+1) == i needs j+1 within a step of i*(skip+1)/n.
		for j := i*(skip+1)/n - 2; j <= i*(skip+1)/n+1; j++ {
			if j >= 0 && j < skip && n*(j+1)/(skip+1) == i {
				return false
			}
		}
		return match(i)
	}
}
