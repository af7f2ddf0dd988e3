package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tap-recurly/tap-recurly/internal/jsonscan"
)

// ListParams are the common list query parameters. The zero value asks for 200 records per page sorted by
// updated_at ascending, with no time bounds.
type ListParams struct {
	Limit     int       // page size 1..200; 0 means DefaultPageLimit (200)
	Sort      string    // "created_at" or "updated_at"; "" means "updated_at"
	Order     string    // "asc" or "desc"; "" means "asc"
	BeginTime time.Time // inclusive lower bound on the sort field; zero means none. Sent as RFC 3339 UTC.
	EndTime   time.Time // inclusive upper bound on the sort field; zero means none. Sent as RFC 3339 UTC.
	// Unpaged sends none of the parameters above, for lists that take none (a path's own query is kept):
	// such a list answers at once, and should the site page it anyway, List follows its next links.
	Unpaged bool
	// Fields names top-level keys of each record to locate while the page is checked (not sent). Their
	// values land in Page.Fields, saving the caller a second pass over every record.
	Fields []string
	// Check, when not nil, is the caller's own check of each record, made in the client's pass over the
	// page instead of the client's own reading of the record: see RecordChecker and Page.Checked.
	Check RecordChecker
}

// RecordChecker checks a record of a list page in the same pass as the client's strict reading of it, so
// that a caller with checks of its own (a record schema, say) needs no second pass over every record.
type RecordChecker interface {
	// Check reports whether the JSON object starting at b[i] is valid JSON (as strictly as
	// jsonscan.ObjectFields reads it) and valid UTF-8, holds no top-level name twice and passes the
	// checker's own checks. The client does not look at the UTF-8 of a record Check passes again.
	// If so it returns the offset just past the object, with out[k] holding the raw value of the member
	// named ListParams.Fields[k] (nil when absent). When it returns false the client reads the record
	// itself, and the record's Page.Checked entry is false.
	Check(b []byte, i int, out [][]byte) (end int, ok bool)
}

// values validates p and returns it as query values, defaults filled in.
func (p ListParams) values() (url.Values, error) {
	v := url.Values{}
	limit := p.Limit
	if limit == 0 {
		limit = DefaultPageLimit
	}
	if limit < 1 || limit > MaxPageLimit {
		return nil, fmt.Errorf("list limit %d is out of range 1..%d", p.Limit, MaxPageLimit)
	}
	sort := p.Sort
	if sort == "" {
		sort = "updated_at"
	}
	if sort != "updated_at" && sort != "created_at" {
		return nil, fmt.Errorf("list sort %q: want created_at or updated_at", p.Sort)
	}
	order := p.Order
	if order == "" {
		order = "asc"
	}
	if order != "asc" && order != "desc" {
		return nil, fmt.Errorf("list order %q: want asc or desc", p.Order)
	}
	v.Set("limit", strconv.Itoa(limit))
	v.Set("sort", sort)
	v.Set("order", order)
	if !p.BeginTime.IsZero() {
		v.Set("begin_time", p.BeginTime.UTC().Format(time.RFC3339))
	}
	if !p.EndTime.IsZero() {
		v.Set("end_time", p.EndTime.UTC().Format(time.RFC3339))
	}
	return v, nil
}

// Page is one page of a list endpoint.
type Page struct {
	Records []json.RawMessage // each record's bytes exactly as the site sent them, in order
	HasMore bool              // the site has more records after this page
	Next    string            // the link to the next page ("" when the site sent none or null)
	// Fields holds, when ListParams.Fields named n keys, the raw value of key k of record i at
	// Fields[i*n+k] (nil when the record lacks it; the first of duplicate keys wins).
	Fields [][]byte
	// Repaired lists, in increasing order, the indices of the records that held invalid UTF-8, which the
	// client replaced with U+FFFD (the record is kept), so the caller can warn about them.
	Repaired []int
	// Checked[i] is true when record i passed ListParams.Check as the site sent it. It is nil when there
	// was no check, or when the page was read by the slow path (see decodePageFields).
	Checked []bool

	body []byte // the buffer Records and Fields point into, when List recycles it
}

// release empties the page and returns its buffer, for List to recycle once the loop body is done with the
// page. Emptying it makes a page kept by mistake show no records rather than another page's bytes.
func (p *Page) release() []byte {
	b := p.body
	p.Records, p.Fields, p.Checked, p.body = nil, nil, nil, nil
	return b
}

// decodeEnvelope decodes a list envelope {"object":"list","has_more":..,"next":..,"data":[...]} with
// encoding/json's Decoder, taking the records of `data` one json.RawMessage at a time. Keys may come in any
// order; unknown keys are skipped; `has_more` and `next` may be null or missing. It fails on input that is
// not JSON, is cut off, has no `data` array, has a record that is not a JSON object, or has anything but
// white space after the envelope. It is slow (two scanner passes and a copy per record) but its errors are
// precise, so decodePageFields falls back to it whenever its fast scan declines.
func decodeEnvelope(r io.Reader) (*Page, error) {
	dec := json.NewDecoder(r)
	p := &Page{}
	if err := expectDelim(dec, '{', "list envelope"); err != nil {
		return nil, err
	}
	sawData := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, envErr(err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("list envelope: unexpected %v", tok)
		}
		switch key {
		case "data":
			if sawData {
				return nil, errors.New("list envelope: duplicate data")
			}
			sawData = true
			if err := decodeRecords(dec, p); err != nil {
				return nil, err
			}
		case "has_more":
			var b *bool
			if err := dec.Decode(&b); err != nil {
				return nil, fmt.Errorf("list envelope: has_more: %w", unexpectedEOF(err))
			}
			p.HasMore = b != nil && *b
		case "next":
			var s *string
			if err := dec.Decode(&s); err != nil {
				return nil, fmt.Errorf("list envelope: next: %w", unexpectedEOF(err))
			}
			if s != nil {
				p.Next = *s
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, fmt.Errorf("list envelope: %s: %w", key, unexpectedEOF(err))
			}
		}
	}
	if err := expectDelim(dec, '}', "list envelope"); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("unexpected data")
		}
		return nil, fmt.Errorf("list envelope: after the closing brace: %w", err)
	}
	if !sawData {
		return nil, errors.New("list envelope: no data array")
	}
	return p, nil
}

func decodeRecords(dec *json.Decoder, p *Page) error {
	tok, err := dec.Token()
	if err != nil {
		return envErr(err)
	}
	if tok == nil {
		return nil // "data": null reads as no records
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("list envelope: data is %s, not an array", kindOf(tok))
	}
	for dec.More() {
		var m json.RawMessage
		if err := dec.Decode(&m); err != nil {
			return fmt.Errorf("list envelope: data[%d]: %w", len(p.Records), unexpectedEOF(err))
		}
		if len(m) == 0 || m[0] != '{' {
			return fmt.Errorf("list envelope: data[%d] is not a JSON object", len(p.Records))
		}
		p.Records = append(p.Records, m)
	}
	return expectDelim(dec, ']', "list envelope: data")
}

// kindOf names the kind of JSON value a token starts.
func kindOf(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		return "an object"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}

func expectDelim(dec *json.Decoder, want json.Delim, what string) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: %w", what, unexpectedEOF(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("%s: got %v, want %q", what, tok, string(want))
	}
	return nil
}

func envErr(err error) error { return fmt.Errorf("list envelope: %w", unexpectedEOF(err)) }

// unexpectedEOF turns a bare io.EOF inside a JSON value into io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ListPage fetches the first page of a list.
//
// path is a site-relative resource path, such as "accounts" or "plans/code-x/add_ons" (an optional query is
// kept, e.g. "transactions?type=payment"), fetched as
// {base}/sites/{site}/{path}?limit=..&sort=..&order=..[&begin_time=..][&end_time=..] from p. A `next` link
// is not accepted: List follows those, checking that each stays on its listing. Path segments must already
// be escaped (url.PathEscape).
//
// On an HTTP error the *Response is returned with the error (a *ErrorResponse or *RateLimitError).
func (c *Client) ListPage(ctx context.Context, path string, p ListParams) (*Page, *Response, error) {
	u, err := c.listURL(path, p)
	if err != nil {
		return nil, nil, err
	}
	return c.listPage(ctx, u, p, nil)
}

func (c *Client) listPage(ctx context.Context, u *url.URL, p ListParams, pool *bodyPool) (*Page, *Response, error) {
	var page *Page
	resp, body, err := c.do(ctx, http.MethodGet, u, func(b []byte) error {
		pg, err := decodePageFields(b, p.Fields, p.Check)
		page = pg
		return err
	}, pool)
	if err != nil {
		return nil, resp, err
	}
	page.body = body
	return page, resp, nil
}

// ErrCursorLoop matches the error List stops with when the site's paging loops: a next link repeats a link
// already followed in the same listing, or more than MaxStalePages pages in a row say has_more and bring
// nothing new.
var ErrCursorLoop = errors.New("the API's paging loops")

// ErrBadNext matches the error List stops with when a page's `next` link leaves its listing: it names
// another host, carries user info, names another site or resource, or is not a path from the host's root.
var ErrBadNext = errors.New("the API's next link leaves the listing")

// List returns an iterator over the pages of the list at path (site-relative, as for ListPage), following
// `next` while `has_more` is true. It stops after the first error, which it yields with a nil page;
// breaking out of the loop stops paging. It is the tap's one paging loop, and it never follows a chain that
// cannot end or that leaves the listing: a page claiming more without a next link, a next link off the
// listing (ErrBadNext; see nextURL), a next link repeating any link already followed in this listing, or
// more than MaxStalePages pages in a row with has_more that bring nothing new (see progress) end it with an
// error (the last two match ErrCursorLoop; the links shown are redacted). A page, its records and fields are
// valid only until the loop body returns: List then reuses their buffer for a later page, so a caller
// copies what it keeps.
func (c *Client) List(ctx context.Context, path string, p ListParams) iter.Seq2[*Page, error] {
	return func(yield func(*Page, error) bool) {
		u, err := c.listURL(path, p)
		if err != nil {
			yield(nil, err)
			return
		}
		ch := chain{c: c, listing: u, seen: map[string]bool{u.RequestURI(): true}, progress: newProgress(p)}
		for {
			page, _, err := c.listPage(ctx, u, p, &c.bodies)
			if err != nil {
				yield(nil, err)
				return
			}
			ch.progress.page(page, p.Fields) // before the loop body, which may filter the records
			hasMore, next := page.HasMore, page.Next
			more := yield(page, nil) && hasMore
			if more {
				u, err = ch.follow(u, next)
			}
			c.bodies.put(page.release())
			switch {
			case err != nil:
				yield(nil, err)
				return
			case !more:
				return
			}
		}
	}
}

// chain is the state of one List: its first request, the links followed and whether its pages progress.
type chain struct {
	c        *Client
	listing  *url.URL        // the first request; every next link must stay on its path
	seen     map[string]bool // request URIs fetched so far
	progress progress
}

// follow checks the next link of a page that says has_more, fetched from u, and returns the request it makes.
func (ch *chain) follow(u *url.URL, next string) (*url.URL, error) {
	shown := func() string { return ch.c.redact.link(u.RequestURI()) } // only for an error: it costs
	if next == "" {
		return nil, fmt.Errorf("GET %s: the page says has_more but gives no next link", shown())
	}
	nu, err := ch.c.nextURL(ch.listing, next)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w; stopped instead of reading it", shown(), err)
	}
	if pr := &ch.progress; pr.stale > MaxStalePages {
		by := "no sort field to advance"
		if pr.sort != "" {
			by = "no advance in " + pr.sort
		}
		return nil, fmt.Errorf("GET %s: %w: %d pages in a row said has_more and brought nothing new (no records, or only ids already seen, and %s); stopped before following next link %s",
			shown(), ErrCursorLoop, pr.stale, by, ch.c.redact.link(next))
	}
	key := nu.RequestURI()
	if ch.seen[key] {
		return nil, fmt.Errorf("GET %s: %w: the next link repeats a link already followed in this listing; stopped instead of reading the same pages again",
			ch.c.redact.link(key), ErrCursorLoop)
	}
	ch.seen[key] = true
	return nu, nil
}

// Get fetches a single object at a site-relative path, e.g. "accounts/code-x/billing_info", and returns its
// JSON as sent (invalid UTF-8 replaced with U+FFFD). An object holding a top-level key twice is refused. A missing object is a *ErrorResponse matching
// ErrNotFound.
func (c *Client) Get(ctx context.Context, path string) (json.RawMessage, *Response, error) {
	u, err := c.siteURL(path)
	if err != nil {
		return nil, nil, err
	}
	resp, body, err := c.do(ctx, http.MethodGet, u, func(b []byte) error {
		b = bytes.TrimLeft(b, " \t\r\n")
		if len(b) == 0 || b[0] != '{' {
			return errors.New("want a JSON object")
		}
		if err := jsonscan.Fields(b, nil, nil); err != nil { // also refuses a key held twice
			return fmt.Errorf("want a JSON object: %w", err)
		}
		return nil
	}, nil)
	if err != nil {
		return nil, resp, err
	}
	return json.RawMessage(bytes.ToValidUTF8(bytes.TrimSpace(body), []byte("\uFFFD"))), resp, nil
}

// ErrNoCount is Count's error when a HEAD answer carries no usable Recurly-Total-Records header.
var ErrNoCount = errors.New("the answer has no usable Recurly-Total-Records header")

// Count returns how many records the list at path (site-relative, as for ListPage) holds under p's filters
// (BeginTime, EndTime, Sort). It asks with HEAD, which the API answers with an empty body and the count in
// the Recurly-Total-Records header; it costs one request of the quota, like a page. A 2xx answer without
// a usable header, or a 405 or 501 (the server does not answer HEAD), is ErrNoCount, so the caller can read
// the list without a count.
func (c *Client) Count(ctx context.Context, path string, p ListParams) (int, *Response, error) {
	u, err := c.listURL(path, p)
	if err != nil {
		return 0, nil, err
	}
	resp, _, err := c.do(ctx, http.MethodHead, u, nil, nil)
	var e *ErrorResponse
	if errors.As(err, &e) && (e.StatusCode == http.StatusMethodNotAllowed || e.StatusCode == http.StatusNotImplemented) {
		return 0, resp, fmt.Errorf("%w: %w", ErrNoCount, err)
	}
	if err != nil {
		return 0, resp, err
	}
	raw := resp.Header.Get("Recurly-Total-Records")
	n, perr := strconv.Atoi(strings.TrimSpace(raw))
	if perr != nil || n < 0 {
		return 0, resp, fmt.Errorf("HEAD %s: %w (got %q)", u.RequestURI(), ErrNoCount, raw)
	}
	return n, resp, nil
}

// siteURL resolves a site-relative path (with an optional query) to {base}/sites/{site}/{path}.
func (c *Client) siteURL(path string) (*url.URL, error) {
	if path == "" {
		return nil, errors.New("client: empty resource path")
	}
	rel, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("client: invalid resource path %q: %w", path, err)
	}
	if rel.Scheme != "" || rel.Host != "" || rel.User != nil || strings.HasPrefix(path, "/") || rel.Fragment != "" {
		return nil, fmt.Errorf("client: resource path %q must be site-relative, like \"accounts\"", path)
	}
	escaped := strings.Trim(rel.EscapedPath(), "/")
	for _, seg := range strings.Split(escaped, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return nil, fmt.Errorf("client: invalid resource path %q", path)
		}
	}
	u := *c.base
	u.RawPath = ""
	raw := c.base.EscapedPath() + "/sites/" + url.PathEscape(c.siteID) + "/" + escaped
	pu, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("client: invalid resource path %q: %w", path, err)
	}
	u.Path, u.RawPath = pu.Path, pu.RawPath
	u.RawQuery = rel.RawQuery
	return &u, nil
}

// listURL resolves a list's site-relative path with p's query parameters (none when p.Unpaged).
func (c *Client) listURL(path string, p ListParams) (*url.URL, error) {
	if strings.HasPrefix(path, "/") || strings.Contains(path, "://") {
		return nil, fmt.Errorf("client: list path %q must be site-relative, like \"accounts\" (List follows next links itself)",
			c.redact.clean(c.redact.link(path), 200))
	}
	u, err := c.siteURL(path)
	if err != nil || p.Unpaged {
		return u, err
	}
	v, err := p.values()
	if err != nil {
		return nil, fmt.Errorf("client: %s: %w", path, err)
	}
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u, nil
}

// nextURL resolves a page's `next` link against the listing's first request. Recurly sends a path from the
// host's root ("/sites/{site}/accounts?cursor=..&limit=.."); an absolute URL on the API's scheme and host
// is taken too. Either way the link must name the listing's own resource: its path, each segment
// unescaped, equals the listing's path, with or without the base URL's path prefix and /sites/{site}
// (later API versions answer with unscoped paths). The request then goes to the listing's own path with the
// link's query, so no path the server wrote is ever sent. Anything else (another host, user info, another
// site or resource, dot segments, a relative link such as "invoices?limit=200") matches ErrBadNext.
func (c *Client) nextURL(listing *url.URL, next string) (*url.URL, error) {
	shown := func() string { return strconv.Quote(c.redact.clean(c.redact.link(next), 200)) }
	n, err := url.Parse(next)
	if err != nil {
		return nil, fmt.Errorf("%w: next link %s is not a URL", ErrBadNext, shown())
	}
	if err := c.sameOrigin(n, next, shown); err != nil {
		return nil, err
	}
	if !c.onListing(n, listing) {
		return nil, fmt.Errorf("%w: next link %s is not on the listing %s", ErrBadNext, shown(), c.redact.link(listing.EscapedPath()))
	}
	u := *listing
	u.RawQuery, u.Fragment = n.RawQuery, ""
	return &u, nil
}

// sameOrigin checks that a parsed next link is a path from the host's root or an absolute URL on the base
// URL's scheme and host, without user info.
func (c *Client) sameOrigin(n *url.URL, next string, shown func() string) error {
	switch {
	case n.User != nil:
		return fmt.Errorf("%w: refusing to follow a next link that carries user info (only the API host %s gets the key, and without it)",
			ErrBadNext, c.base.Host)
	case n.Scheme == "" && strings.HasPrefix(next, "//"):
		return fmt.Errorf("%w: refusing to follow a next link to another host //%s: not the API host %s",
			ErrBadNext, c.redact.clean(n.Host, 100), c.base.Host)
	case n.Scheme == "" && n.Host == "":
		if !strings.HasPrefix(n.Path, "/") {
			return fmt.Errorf("%w: next link %s is relative; the API sends a path from the host's root", ErrBadNext, shown())
		}
	case !strings.EqualFold(n.Scheme, c.base.Scheme) || !strings.EqualFold(n.Host, c.base.Host):
		return fmt.Errorf("%w: refusing to follow a next link to %s://%s: not the API host %s",
			ErrBadNext, c.redact.clean(n.Scheme, 20), c.redact.clean(n.Host, 100), c.base.Host)
	}
	return nil
}

// onListing reports whether the next link n names the listing's resource (see nextURL).
func (c *Client) onListing(n, listing *url.URL) bool {
	got, ok := pathSegments(n.EscapedPath())
	want, _ := pathSegments(listing.EscapedPath())
	prefix, _ := pathSegments(c.base.EscapedPath())
	if !ok || len(want) < len(prefix)+3 {
		return false
	}
	for _, skip := range []int{0, len(prefix), len(prefix) + 2} { // full, below the prefix, unscoped
		if slices.Equal(got, want[skip:]) {
			return true
		}
	}
	return false
}

// pathSegments splits an escaped path from the root into its unescaped segments; false when it does not
// start with "/" or holds a bad escape. The root itself ("" or "/") has none.
func pathSegments(p string) ([]string, bool) {
	if p == "" || p == "/" {
		return nil, p == "" || p == "/"
	}
	if p[0] != '/' {
		return nil, false
	}
	segs := strings.Split(p[1:], "/")
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, false
		}
		segs[i] = u
	}
	return segs, true
}

// endpointOf names the resource a URL addresses: the last resource segment after /sites/{site}, e.g.
// "accounts" for /sites/s/accounts and /sites/s/accounts/abc, "add_ons" for /sites/s/plans/p/add_ons.
func endpointOf(u *url.URL, siteID string) string {
	segs := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	for i := 0; i+1 < len(segs); i++ {
		if segs[i] == "sites" && (segs[i+1] == url.PathEscape(siteID) || siteID == "") {
			segs = segs[i+2:]
			break
		}
	}
	if len(segs) == 0 || segs[0] == "" {
		return "site"
	}
	return segs[(len(segs)-1)&^1]
}
