package client

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
)

// Deprecation is Recurly's notice that the API version the client speaks is deprecated: the first answer
// carrying "Recurly-Deprecated: TRUE" sets it.
type Deprecation struct {
	Version    string // the version the answer names (Recurly-Version, "recurly." trimmed), else APIVersion
	SunsetDate string // Recurly-Sunset-Date as sent (ISO 8601), "" if the answer carried none
}

// String is the one line a user reads: which version, and when it stops working.
func (d Deprecation) String() string {
	s := "Recurly marks API version " + d.Version + " as deprecated"
	if d.SunsetDate != "" {
		return s + "; its sunset date is " + d.SunsetDate + ", after which this tap stops working until it moves to a newer version"
	}
	return s + " (no sunset date given); this tap will stop working when the version is retired"
}

// noteDeprecation records and logs (once, at Warn) the first answer that says the version is deprecated.
func (c *Client) noteDeprecation(h http.Header) {
	if c.deprecation.Load() != nil || !strings.EqualFold(strings.TrimSpace(h.Get("Recurly-Deprecated")), "true") {
		return
	}
	d := Deprecation{Version: APIVersion, SunsetDate: c.redact.clean(h.Get("Recurly-Sunset-Date"), 40)}
	if v := c.redact.clean(strings.TrimPrefix(h.Get("Recurly-Version"), "recurly."), 40); v != "" {
		d.Version = v
	}
	if c.deprecation.CompareAndSwap(nil, &d) {
		c.logger.LogAttrs(context.Background(), slog.LevelWarn, d.String(),
			slog.String("api_version", d.Version), slog.String("sunset_date", d.SunsetDate))
	}
}

// Deprecation returns Recurly's deprecation notice for the API version, if any answer so far carried one.
func (c *Client) Deprecation() (Deprecation, bool) {
	if d := c.deprecation.Load(); d != nil {
		return *d, true
	}
	return Deprecation{}, false
}
