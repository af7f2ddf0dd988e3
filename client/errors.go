package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
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
	Attempts   int    // attempts made when retries gave up (5xx); 0 when the status is not retried
	RequestID  string // Recurly's X-Request-Id of the answer ("" if none); Recurly support asks for it first
}

// Error implements error.
func (e *ErrorResponse) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s", e.Method, e.Path, e.what())
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
	b.WriteString(e.requestIDNote())
	return b.String()
}

// what says what the status means and what to do about it.
func (e *ErrorResponse) what() string {
	p, _, _ := strings.Cut(e.Path, "?")
	switch s := e.StatusCode; {
	case s == http.StatusUnauthorized:
		return "the API key was rejected (401 unauthorized); check the api_key setting"
	case s == http.StatusForbidden:
		return fmt.Sprintf("the API key lacks permission for %s (403 forbidden)", p)
	case s == http.StatusNotFound && e.siteLevel():
		return fmt.Sprintf("no site named %s (404 not found); check the subdomain setting (for mysite.recurly.com it is mysite)", e.SiteID)
	case s == http.StatusNotFound:
		return fmt.Sprintf("resource %s not found (404)", p)
	case s == http.StatusNotAcceptable:
		return "the API does not accept the requested API version " + APIVersion + " or Accept header (406 not acceptable)"
	case s == http.StatusBadRequest:
		return "the API rejected the request parameters (400 bad request)"
	case s == http.StatusUnprocessableEntity:
		return "the API rejected the request (422 unprocessable entity)"
	case s >= 500:
		return fmt.Sprintf("server error (%d %s)", s, strings.ToLower(http.StatusText(s)))
	default:
		return fmt.Sprintf("unexpected status %d %s", s, strings.ToLower(http.StatusText(s)))
	}
}

// requestIDNote is " (X-Request-Id <id>)", or "" when the answer carried none.
func (e *ErrorResponse) requestIDNote() string {
	if e == nil || e.RequestID == "" {
		return ""
	}
	return " (X-Request-Id " + e.RequestID + ")"
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
	b.WriteString(e.Err.requestIDNote())
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

// RetryLaterError is a 429 or 503 whose Retry-After asks for a longer wait than MaxRetryAfter. The client does not retry early against the server's word: it returns at once,
// and the error says when Recurly said to come back. It wraps the *ErrorResponse (and, for a 429, the
// *RateLimitError), so errors.Is(err, ErrRetryLater) and errors.Is(err, ErrRateLimited) both match.
type RetryLaterError struct {
	Until time.Time // when the server said to come back
	Wait  time.Duration
	Err   error // the *RateLimitError (429) or *ErrorResponse (503) of the answer
}

// ErrRetryLater matches a *RetryLaterError.
var ErrRetryLater = errors.New("recurly: asked to retry later than the retry budget allows")

// Error implements error.
func (e *RetryLaterError) Error() string {
	method, path, status, note := "", "", 0, ""
	var er *ErrorResponse
	if errors.As(e.Err, &er) {
		method, path, status, note = er.Method, er.Path, er.StatusCode, er.requestIDNote()
	}
	return fmt.Sprintf("%s %s: Recurly answered %d %s and asked to retry after %s, at %s; longer than the client waits (%s), so it stops instead of retrying early: run it again after %s%s",
		method, path, status, strings.ToLower(http.StatusText(status)), e.Wait.Round(time.Second),
		e.Until.UTC().Format(time.RFC3339), MaxRetryAfter, e.Until.UTC().Format(time.RFC3339), note)
}

// Unwrap returns the answer's error.
func (e *RetryLaterError) Unwrap() error { return e.Err }

// Is matches ErrRetryLater.
func (e *RetryLaterError) Is(target error) bool { return target == ErrRetryLater }

// maxErrorBody bounds how much of an error body is read.
const maxErrorBody = 64 << 10

// checkResponse builds the *ErrorResponse for a non-2xx response, reading a bounded part of its body and
// closing it. path is the request as it may be shown (see redactor.link).
//
// The key is blanked from the body before decoding and from every decoded text after it: a proxy or a
// misbehaving server may echo the request's credentials back, in any escaped form.
func checkResponse(resp *http.Response, method, path, siteID string, red *redactor) *ErrorResponse {
	e := &ErrorResponse{StatusCode: resp.StatusCode, Method: method, Path: path, SiteID: siteID,
		RequestID: red.clean(resp.Header.Get("X-Request-Id"), 100)}
	body, note := readErrorBody(resp.Body, red)
	var env struct {
		Error *struct {
			Type    string       `json:"type"`
			Message string       `json:"message"`
			Params  []ErrorParam `json:"params"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) != nil || env.Error == nil {
		e.Message = strings.TrimSpace(red.clean(string(body), 200) + note)
		return e
	}
	e.Type, e.Message = red.clean(env.Error.Type, 100), strings.TrimSpace(red.clean(env.Error.Message, 500)+note)
	for _, p := range env.Error.Params {
		e.Params = append(e.Params, ErrorParam{Param: red.clean(p.Param, 100), Message: red.clean(p.Message, 200)})
	}
	return e
}

// readErrorBody reads at most maxErrorBody bytes of an error answer's body, with the key blanked, and
// closes it. note says, for the message, when that is not the whole body: " (truncated)" past the bound,
// or the read error that cut it off.
func readErrorBody(rc io.ReadCloser, red *redactor) (body []byte, note string) {
	body, err := io.ReadAll(io.LimitReader(rc, maxErrorBody+1))
	drain(rc, maxErrorBody)
	if len(body) > maxErrorBody {
		body, note = body[:maxErrorBody], " (truncated)"
	}
	if err != nil {
		note = " (the body was cut off: " + red.clean(err.Error(), 120) + ")"
	}
	return red.bytes(body), note
}

// ContractError is a complete 2xx answer that cannot be what the API promised: valid JSON of the wrong
// shape (not a list object, data not an array, not an object where one is expected), an HTML page, or a
// 204 No Content (which the API sends only to DELETE and the like, never to a list or a get).
// Retrying does not change such an answer, so it fails at once.
type ContractError struct {
	Method, Path string
	ContentType  string // as sent, shortened
	Start        string // the body's first bytes, one line, with the API key blanked
	Problem      string // what is wrong with it
	HTML         bool   // the body is an HTML page
	NoContent    bool   // the answer was 204 No Content, with no body to decode
}

// Error implements error.
func (e *ContractError) Error() string {
	if e.NoContent {
		return fmt.Sprintf("%s %s: the API answered 204 No Content, where this endpoint answers with a JSON body; retrying would not change it",
			e.Method, e.Path)
	}
	if e.HTML {
		return fmt.Sprintf("%s %s: the API answered with an HTML page (Content-Type %q), not JSON; a proxy or a login page between the tap and Recurly is the usual cause; the page begins %q",
			e.Method, e.Path, e.ContentType, e.Start)
	}
	return fmt.Sprintf("%s %s: the API answered with valid JSON that is not what this endpoint returns (%s); Content-Type %q; the body begins %q",
		e.Method, e.Path, e.Problem, e.ContentType, e.Start)
}
