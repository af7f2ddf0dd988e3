package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// Sentinel errors for errors.Is: an *ErrorResponse matches the one for its status code.
var (
	ErrBadRequest    = errors.New("recurly: bad request (400)")
	ErrUnauthorized  = errors.New("recurly: unauthorized (401)")
	ErrForbidden     = errors.New("recurly: forbidden (403)")
	ErrNotFound      = errors.New("recurly: not found (404)")
	ErrNotAcceptable = errors.New("recurly: not acceptable (406)")
	ErrUnprocessable = errors.New("recurly: unprocessable entity (422)")
	// ErrRateLimited matches a *RateLimitError: a 429 that retries did not get past.
	ErrRateLimited = errors.New("recurly: rate limited (429)")
	// ErrQuotaWait is a wait for quota (pacing, or the pause until the rate-limit window resets) cut short by
	// the context being canceled or its deadline falling before the wait would end. Such errors also match
	// the context's error.
	ErrQuotaWait = errors.New("quota wait cut short")
)

// ErrorParam is one entry of the error envelope's params: the offending parameter and what is wrong with it.
type ErrorParam struct {
	Param   string `json:"param"`
	Message string `json:"message,omitempty"`
}

// ErrorResponse is a non-2xx answer from the API, with Recurly's envelope {"error":{type,message,params}}
// decoded when present. Its Error text says what to do about it; it never contains the API key.
type ErrorResponse struct {
	StatusCode int
	Method     string
	Path       string // request path with query
	Type       string // Recurly's error.type, e.g. "not_found", "invalid_api_version"
	Message    string // Recurly's error.message (or a short excerpt of a non-envelope body)
	Params     []ErrorParam
	SiteID     string
	Attempts   int // attempts made when retries gave up (5xx); 0 when the status is not retried
}

// Error implements error.
func (e *ErrorResponse) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	p := e.Path
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	switch s := e.StatusCode; {
	case s == http.StatusUnauthorized:
		b.WriteString("the API key was rejected (401 unauthorized); check the api_key setting")
	case s == http.StatusForbidden:
		fmt.Fprintf(&b, "the API key lacks permission for %s (403 forbidden)", p)
	case s == http.StatusNotFound && e.siteLevel():
		fmt.Fprintf(&b, "no site named %s (404 not found); check the subdomain setting (for mysite.recurly.com it is mysite)", e.SiteID)
	case s == http.StatusNotFound:
		fmt.Fprintf(&b, "resource %s not found (404)", p)
	case s == http.StatusNotAcceptable:
		b.WriteString("the API does not accept the requested API version " + APIVersion + " or Accept header (406 not acceptable)")
	case s == http.StatusBadRequest:
		b.WriteString("the API rejected the request parameters (400 bad request)")
	case s == http.StatusUnprocessableEntity:
		b.WriteString("the API rejected the request (422 unprocessable entity)")
	case s >= 500:
		fmt.Fprintf(&b, "server error (%d %s)", s, strings.ToLower(http.StatusText(s)))
	default:
		fmt.Fprintf(&b, "unexpected status %d %s", s, strings.ToLower(http.StatusText(s)))
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if e.Message != "" || e.Type != "" {
		b.WriteString(": ")
		if e.Type != "" {
			b.WriteString(e.Type)
			if e.Message != "" {
				b.WriteString(": ")
			}
		}
		b.WriteString(e.Message)
	}
	for _, pr := range e.Params {
		fmt.Fprintf(&b, " [%s", pr.Param)
		if pr.Message != "" {
			b.WriteString(": " + pr.Message)
		}
		b.WriteString("]")
	}
	return b.String()
}

// siteLevel reports whether the path addresses the site itself or one of its lists
// (/sites/{site} or /sites/{site}/{resource}), where a 404 means the site does not exist.
func (e *ErrorResponse) siteLevel() bool {
	for _, pr := range e.Params {
		if pr.Param == "site_id" {
			return true
		}
	}
	p := e.Path
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	marker := "/sites/" + url.PathEscape(e.SiteID)
	i := strings.Index(p, marker)
	if e.SiteID == "" || i < 0 {
		return false
	}
	rest := p[i+len(marker):]
	if rest != "" && rest[0] != '/' {
		return false
	}
	rest = strings.Trim(rest, "/")
	return !strings.Contains(rest, "/")
}

// Is makes errors.Is(err, ErrNotFound) and the other sentinels match by status code.
func (e *ErrorResponse) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrNotAcceptable:
		return e.StatusCode == http.StatusNotAcceptable
	case ErrUnprocessable:
		return e.StatusCode == http.StatusUnprocessableEntity
	}
	return false
}

// RateLimitError is a 429 Too Many Requests that retries did not get past (or retries are disabled).
// It wraps the *ErrorResponse, so errors.As finds either.
type RateLimitError struct {
	Rate     Rate // the site's rate-limit headers on the last 429
	Attempts int
	Err      *ErrorResponse
}

// Error implements error.
func (e *RateLimitError) Error() string {
	var b strings.Builder
	if e.Err != nil {
		fmt.Fprintf(&b, "%s %s: ", e.Err.Method, e.Err.Path)
	}
	b.WriteString("rate limited (429 too many requests)")
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " after %d attempts", e.Attempts)
	}
	if !e.Rate.Reset.IsZero() {
		fmt.Fprintf(&b, "; the site's rate-limit window (limit %d) resets at %s", e.Rate.Limit,
			e.Rate.Reset.UTC().Format(time.RFC3339))
	}
	b.WriteString("; lower quota_limit or retry later")
	if e.Err != nil && e.Err.Message != "" {
		b.WriteString(": " + e.Err.Message)
	}
	return b.String()
}

// Unwrap returns the underlying *ErrorResponse.
func (e *RateLimitError) Unwrap() error {
	if e.Err == nil {
		return nil
	}
	return e.Err
}

// Is matches ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// maxErrorBody bounds how much of an error body is read.
const maxErrorBody = 64 << 10

// checkResponse builds the *ErrorResponse for a non-2xx response, reading a bounded part of its body and
// closing it.
//
// secrets are blanked out of everything taken from the body: a proxy or a
// misbehaving server may echo the request's credentials back.
func checkResponse(resp *http.Response, method, path, siteID string, secrets ...string) *ErrorResponse {
	e := &ErrorResponse{StatusCode: resp.StatusCode, Method: method, Path: path, SiteID: siteID}
	body, _ := readAll(resp.Body, maxErrorBody)
	drain(resp.Body, maxErrorBody)
	for _, s := range secrets {
		if s != "" {
			body = bytes.ReplaceAll(body, []byte(s), []byte("[redacted]"))
		}
	}
	var env struct {
		Error *struct {
			Type    string       `json:"type"`
			Message string       `json:"message"`
			Params  []ErrorParam `json:"params"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && env.Error != nil {
		e.Type, e.Message, e.Params = env.Error.Type, env.Error.Message, env.Error.Params
		return e
	}
	e.Message = excerpt(body, 200)
	return e
}

// excerpt returns a short single-line printable excerpt of a non-envelope body.
func excerpt(b []byte, n int) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return ' '
		}
		if !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, string(b))
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return string(r)
}
