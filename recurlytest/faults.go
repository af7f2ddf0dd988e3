package recurlytest

import (
	"errors"
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
)

func (f Faults) validate() error {
	sum := 0.0
	for _, p := range []float64{f.Status500, f.Status502, f.Status503, f.Status429, f.ConnReset, f.Truncate} {
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
