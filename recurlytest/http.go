package recurlytest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	kgzip "github.com/klauspost/compress/gzip"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// APIVersion is the only version the simulated site serves.
const APIVersion = "v2018-08-09"

// acceptableAcceptHeaders lists the versions the v2018-08-09 spec names, as
// sent in 406 bodies.
var acceptableAcceptHeaders = []string{
	"application/vnd.recurly.v2016-03-01", "application/vnd.recurly.v2016-04-27", "application/vnd.recurly.v2016-07-27",
	"application/vnd.recurly.v2016-12-15", "application/vnd.recurly.v2017-01-12", "application/vnd.recurly.v2017-09-30",
	"application/vnd.recurly.v2018-01-24", "application/vnd.recurly.v2018-05-10", "application/vnd.recurly.v2018-06-06",
	"application/vnd.recurly.v2018-08-09",
}

// response is what a handler decided, written (or cut short) by ServeHTTP.
type response struct {
	status int
	body   []byte
	header http.Header // extra headers
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

type errParam struct{ param, message string }

func errorBody(status int, typ, msg string, params ...errParam) response {
	b := []byte(`{"error":{"type":`)
	b = strconv.AppendQuote(b, typ)
	b = append(b, `,"message":`...)
	b = strconv.AppendQuote(b, msg)
	if len(params) > 0 {
		b = append(b, `,"params":[`...)
		for j, p := range params {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"param":`...)
			b = strconv.AppendQuote(b, p.param)
			if p.message != "" {
				b = append(b, `,"message":`...)
				b = strconv.AppendQuote(b, p.message)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if status == http.StatusNotAcceptable {
		b = append(b, `,"acceptable_accept_headers":[`...)
		for j, h := range acceptableAcceptHeaders {
			if j > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendQuote(b, h)
		}
		b = append(b, ']')
	}
	b = append(b, "}}"...)
	return response{status: status, body: b}
}

func badParam(param, msg string) response {
	return errorBody(http.StatusBadRequest, "bad_request", "Invalid or unpermitted parameter: "+param+" "+msg, errParam{param, msg})
}

// ServeHTTP serves the v2018-08-09 endpoints (see the package doc) and logs
// the request. Simulated connection resets and truncated bodies need an
// HTTP/1.x connection that can be hijacked; on any other ResponseWriter the
// handler aborts with http.ErrAbortHandler instead.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	rec := Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, At: s.now()}
	// The entry is logged before the response goes out, so whoever has
	// seen a response also finds it in the log.
	logged := func() {
		rec.Duration = time.Since(began)
		s.ctl.Lock()
		s.log = append(s.log, rec)
		s.ctl.Unlock()
	}

	s.ctl.Lock()
	latency := s.latency
	s.ctl.Unlock()
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}

	h := w.Header()
	h.Set("Recurly-Version", "recurly."+APIVersion)
	h.Set("Content-Type", "application/json; charset=utf-8")
	if s.cfg.Deprecated {
		h.Set("Recurly-Deprecated", "TRUE")
		h.Set("Recurly-Sunset-Date", s.sunset().Format("2006-01-02T15:04:05-07:00"))
	}

	resp, fault := s.gate(r, h)
	if resp.status == 0 {
		resp = s.route(r)
	}
	if _, edge := cfTitles[fault]; edge {
		clear(h) // the edge answered: none of Recurly's headers
	}
	for k, v := range resp.header {
		h[k] = v
	}
	rec.Status, rec.Fault = resp.status, fault
	gz := !s.cfg.NoGzip && acceptsGzip(r) && h.Get("Content-Type") != "" && !strings.HasPrefix(h.Get("Content-Type"), "text/html")
	switch fault {
	case faultReset:
		rec.Status = 0
		logged()
		abort(w, nil)
		return
	case faultTruncate:
		if resp.status == http.StatusOK && len(resp.body) > 1 && r.Method == http.MethodGet {
			logged()
			abort(w, truncated(h, resp.body, gz))
			return
		}
		rec.Fault = ""
	}
	logged()
	if gz {
		writeGzip(w, r, resp)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	w.WriteHeader(resp.status)
	if r.Method != http.MethodHead {
		w.Write(resp.body)
	}
}

// sunset is the Recurly-Sunset-Date of a deprecated site.
func (s *Site) sunset() time.Time {
	if s.cfg.SunsetDate.IsZero() {
		return time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	}
	return s.cfg.SunsetDate.UTC()
}

// acceptsGzip reports whether the request's Accept-Encoding allows gzip
// (gzip or *, with a q-value above 0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(part, ";")
		if name = strings.TrimSpace(name); !strings.EqualFold(name, "gzip") && name != "*" {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			q, _ = strconv.ParseFloat(v, 64)
		}
		return q > 0
	}
	return false
}

// gzipPool holds klauspost/compress gzip writers at BestSpeed: about three
// times faster than compress/gzip's for the same ratio, so compression does
// not make the site, rather than the tap, what a benchmark measures.
var gzipPool = sync.Pool{New: func() any { w, _ := kgzip.NewWriterLevel(nil, kgzip.BestSpeed); return w }}

// writeGzip sends resp gzip-compressed, streamed: the header is flushed
// before the body, so the answer is chunked and has no Content-Length, as
// Cloudflare sends it.
func writeGzip(w http.ResponseWriter, r *http.Request, resp response) {
	h := w.Header()
	h.Del("Content-Length")
	h.Set("Content-Encoding", "gzip")
	h.Add("Vary", "Accept-Encoding")
	w.WriteHeader(resp.status)
	if r.Method == http.MethodHead {
		return
	}
	http.NewResponseController(w).Flush()
	zw := gzipPool.Get().(*kgzip.Writer)
	zw.Reset(w)
	zw.Write(resp.body)
	zw.Close()
	zw.Reset(nil)
	gzipPool.Put(zw)
}

// truncated renders a 200 whose body stops halfway: with Content-Length
// and half the bytes, or (gzip) chunked with half of the compressed stream
// and no final chunk.
func truncated(h http.Header, body []byte, gz bool) []byte {
	if !gz {
		return rawResponse(h, body, len(body)/2)
	}
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(body)
	zw.Close()
	part := zb.Bytes()[:zb.Len()/2]
	h.Del("Content-Length")
	h.Set("Content-Encoding", "gzip")
	h.Set("Transfer-Encoding", "chunked")
	var b strings.Builder
	b.WriteString("HTTP/1.1 200 OK\r\n")
	h.Write(&b)
	b.WriteString("\r\n")
	fmt.Fprintf(&b, "%x\r\n", len(part))
	return append(append([]byte(b.String()), part...), "\r\n"...)
}

// gate applies, in order: an outage, authentication, the rate limit and the
// fault draw. It sets the request id and rate-limit headers. A zero status
// means "go on and route the request".
func (s *Site) gate(r *http.Request, h http.Header) (response, string) {
	now := s.now()
	s.ctl.Lock()
	defer s.ctl.Unlock()
	s.reqSeq++
	h.Set("X-Request-Id", fmt.Sprintf("%016x-SIM", mix(s.seed^s.reqSeq)))
	setRate := func() {
		s.rate.advance(now)
		rem, reset := s.rate.state(now)
		h.Set("X-RateLimit-Limit", strconv.Itoa(s.rate.limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(rem))
		h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
	}
	if s.faults.Down {
		setRate()
		resp := errorBody(http.StatusServiceUnavailable, "internal_server_error", "The service is temporarily unavailable (simulated outage).")
		return resp, faultDown
	}
	if user, pass, ok := r.BasicAuth(); !ok || user != s.cfg.APIKey || pass != "" {
		setRate()
		resp := errorBody(http.StatusUnauthorized, "unauthorized", "Please provide a valid API key. See https://dev.recurly.com/docs/getting-started for more information.")
		resp.header = http.Header{"Www-Authenticate": {`Basic realm="Recurly"`}}
		return resp, ""
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		setRate()
		resp := errorBody(http.StatusMethodNotAllowed, "bad_request", "The simulated site serves only GET and HEAD, not "+r.Method+".")
		resp.header = http.Header{"Allow": {"GET, HEAD"}}
		return resp, ""
	}
	if !s.rate.take(now) {
		setRate()
		return errorBody(http.StatusTooManyRequests, "rate_limited", "You have made too many API requests in the current rate-limit window. Requests will be allowed again as the window slides; see the X-RateLimit-Reset header."), ""
	}
	setRate()
	fault := s.faults.draw(s.faultRNG.Float64())
	switch fault {
	case fault500:
		return errorBody(http.StatusInternalServerError, "internal_server_error", "An internal server error occurred (simulated)."), fault
	case fault502:
		return errorBody(http.StatusBadGateway, "internal_server_error", "Bad gateway (simulated)."), fault
	case fault503:
		return errorBody(http.StatusServiceUnavailable, "internal_server_error", "Service unavailable (simulated)."), fault
	case fault429:
		resp := errorBody(http.StatusTooManyRequests, "rate_limited", "Too many requests (simulated); retry after the Retry-After header.")
		resp.header = http.Header{"Retry-After": {strconv.FormatInt(s.faults.retryAfterSeconds(), 10)}}
		return resp, fault
	case faultCF520, faultCF522, faultCF524:
		ray := fmt.Sprintf("%016x", mix(s.seed^s.reqSeq^0xcf))
		status, header, body := cloudflarePage(fault, r.Host, ray)
		return response{status: status, body: body, header: header}, fault
	}
	return response{}, fault
}

// rawResponse renders an HTTP/1.1 200 response head announcing the full
// body length, followed by only the first n bytes of the body.
func rawResponse(h http.Header, body []byte, n int) []byte {
	var b strings.Builder
	b.WriteString("HTTP/1.1 200 OK\r\n")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Write(&b)
	b.WriteString("\r\n")
	return append([]byte(b.String()), body[:n]...)
}

// abort closes the connection after writing raw (nil: nothing, and reset
// the TCP connection).
func abort(w http.ResponseWriter, raw []byte) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, bufrw, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if raw != nil {
		bufrw.Writer = bufio.NewWriter(conn)
		bufrw.Write(raw)
		bufrw.Flush()
	} else if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // RST instead of FIN
	}
	conn.Close()
}

// acceptOK reports whether the Accept header selects v2018-08-09 (or
// nothing, which falls back to the newest version: this one).
func acceptOK(accept string) bool {
	if accept == "" {
		return true
	}
	bad := false
	for _, part := range strings.Split(accept, ",") {
		mt := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch mt {
		case "application/vnd.recurly." + APIVersion, "application/vnd.recurly." + APIVersion + "+json":
			return true
		case "application/vnd.recurly", "application/vnd.recurly+json":
		default:
			if strings.HasPrefix(mt, "application/vnd.recurly") {
				bad = true
			}
		}
	}
	return !bad
}

// route handles an authenticated, counted request.
func (s *Site) route(r *http.Request) response {
	if !acceptOK(r.Header.Get("Accept")) {
		return errorBody(http.StatusNotAcceptable, "invalid_api_version", "That accept header isn't in the format we use to specify an API version. Try one of these instead:")
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) < 2 || parts[0] != "sites" {
		return errorBody(http.StatusNotFound, "not_found", "Page not found: "+r.URL.Path)
	}
	if site := parts[1]; site != s.cfg.SiteID && site != s.plainID {
		return errorBody(http.StatusNotFound, "not_found", "Couldn't find Site with id = "+site, errParam{param: "site_id"})
	}
	parts = parts[2:]
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch len(parts) {
	case 1:
		if k, ok := kindByName(parts[0]); ok && siteList[k] {
			return s.list(r, k, nil)
		}
	case 2:
		if k, ok := kindByName(parts[0]); ok && singleObject[k] {
			i, ok := s.tables[k].lookup(parts[1])
			if !ok {
				return notFound(k, parts[1])
			}
			return s.single(s.appendRecord(nil, k, i))
		}
	case 3, 4:
		if resp, ok := s.routeNested(r, parts); ok {
			return resp
		}
	}
	return errorBody(http.StatusNotFound, "not_found", "Page not found: "+r.URL.Path)
}

// routeNested serves the paths below a record: an account's note, and the
// three-part paths (child lists, billing info, an account's or a plan's
// lists); ok is false for other paths.
func (s *Site) routeNested(r *http.Request, parts []string) (response, bool) {
	switch len(parts) {
	case 4:
		if parts[0] == Accounts && parts[2] == Notes {
			a, ok := s.tables[kAccount].lookup(parts[1])
			if !ok {
				return notFound(kAccount, parts[1]), true
			}
			i, ok := s.tables[kNote].index(parts[3])
			if !ok || s.childParent(kNote, i) != a {
				return notFound(kNote, parts[3]), true
			}
			return s.single(s.appendRecord(nil, kNote, i)), true
		}
	case 3:
		if resp, ok := s.routeChild(r, parts); ok {
			return resp, true
		}
		switch {
		case parts[0] == Accounts && parts[2] == "billing_info":
			i, ok := s.tables[kAccount].lookup(parts[1])
			if !ok {
				return notFound(kAccount, parts[1]), true
			}
			if s.tables[kAccount].billUpdated[i] == noTime {
				return errorBody(http.StatusNotFound, "not_found", "Account has no billing information, or incorrect site or account ID", errParam{param: "account_id"}), true
			}
			return s.single(s.appendBillingInfo(nil, i)), true
		case parts[0] == Accounts:
			ck, ok := kindByName(parts[2])
			if !ok || (ck != kLineItem && ck != kInvoice && ck != kSubscription && ck != kTransaction) {
				break
			}
			a, ok := s.tables[kAccount].lookup(parts[1])
			if !ok {
				return notFound(kAccount, parts[1]), true
			}
			return s.list(r, ck, func(i int) bool { return s.recordAccount(ck, i) == a }), true
		case parts[0] == Plans && parts[2] == AddOns:
			p, ok := s.tables[kPlan].lookup(parts[1])
			if !ok {
				return notFound(kPlan, parts[1]), true
			}
			t := s.tables[kAddOn]
			return s.list(r, kAddOn, func(i int) bool { return s.parent(t, i, kPlan) == p }), true
		}
	}
	return response{}, false
}

func notFound(k kind, id string) response {
	return errorBody(http.StatusNotFound, "not_found", "Couldn't find "+kindSingular[k]+" with id = "+id,
		errParam{param: kindParam[k]})
}

// siteList marks the kinds listed at /sites/{site_id}/<resource>;
// singleObject those fetched at /sites/{site_id}/<resource>/{id}.
var siteList, singleObject [numKinds]bool

func init() {
	for _, k := range []kind{kAccount, kLineItem, kCoupon, kInvoice, kPlan, kAddOn, kSubscription, kTransaction, kCreditPayment, kAcquisition, kCustomFieldDef} {
		siteList[k] = true
	}
	for _, k := range []kind{kAccount, kLineItem, kCoupon, kInvoice, kPlan, kAddOn, kSubscription, kTransaction, kCreditPayment, kCustomFieldDef, kUniqueCode} {
		singleObject[k] = true
	}
}

// routeChild serves the three-part paths of the child lists, an account's
// acquisition and balance, and an invoice's coupon redemptions; ok is false
// for other paths.
func (s *Site) routeChild(r *http.Request, parts []string) (response, bool) {
	var k kind
	switch {
	case parts[0] == Accounts && parts[2] == "acquisition":
		a, ok := s.tables[kAccount].lookup(parts[1])
		if !ok {
			return notFound(kAccount, parts[1]), true
		}
		q := s.accountAcquisition(a)
		if q < 0 {
			return errorBody(http.StatusNotFound, "not_found", "Couldn't find AccountAcquisition for Account with id = "+parts[1], errParam{param: "account_id"}), true
		}
		return s.single(s.appendRecord(nil, kAcquisition, q)), true
	case parts[0] == Accounts && parts[2] == "balance":
		a, ok := s.tables[kAccount].lookup(parts[1])
		if !ok {
			return notFound(kAccount, parts[1]), true
		}
		return s.single(s.appendBalance(nil, a)), true
	case parts[0] == Invoices && parts[2] == CouponRedemptions:
		j, ok := s.tables[kInvoice].lookup(parts[1])
		if !ok {
			return notFound(kInvoice, parts[1]), true
		}
		return s.listChildren(r, kRedemption, s.invRedemptions(j)), true
	case parts[0] == Accounts && parts[2] == CouponRedemptions:
		k = kRedemption
	case parts[0] == Accounts && parts[2] == Notes:
		k = kNote
	case parts[0] == Coupons && parts[2] == UniqueCouponCodes:
		k = kUniqueCode
	default:
		return response{}, false
	}
	pk, _ := childParentKind(k)
	p, ok := s.tables[pk].lookup(parts[1])
	if !ok {
		return notFound(pk, parts[1]), true
	}
	return s.listChildren(r, k, s.children[k].of(p)), true
}

// single answers a single-object endpoint. It tolerates (ignores) list
// query parameters, as the real billing_info endpoint does.
func (s *Site) single(body []byte) response {
	return response{status: http.StatusOK, body: body}
}

// listQuery is a parsed list request.
type listQuery struct {
	limit      int
	desc       bool
	byUpdated  bool
	begin, end int64 // inclusive bounds on the sort field, in Unix seconds
	ids        []string
	cursor     *cursorPos
	echo       url.Values // parameters repeated in next (everything but cursor)
	pred       []func(i int) bool
}

type cursorPos struct {
	ts  int64
	key uint64
}

// filterParams lists the resource filters each list accepts, with their
// allowed values.
var filterParams = [numKinds]map[string][]string{
	kAccount:      {"subscriber": {"true", "false"}, "past_due": {"true"}},
	kLineItem:     {"original": {"true"}, "state": {"invoiced", "pending"}, "type": {"charge", "credit"}},
	kCoupon:       {},
	kInvoice:      {"type": {"charge", "credit", "non-legacy", "legacy"}},
	kPlan:         {"state": {"active", "inactive"}},
	kAddOn:        {"state": {"active", "inactive"}},
	kSubscription: {"state": {"active", "canceled", "expired", "future", "in_trial", "live"}},
	kTransaction:  {"type": {"verify", "authorization", "capture", "purchase", "refund", "payment"}, "success": {"true"}},
}

var timeLayouts = []string{
	time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02T15", "2006-01-02",
	"2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05",
}

// parseTime reads an ISO 8601 timestamp; a value without a zone is UTC.
func parseTime(v string) (time.Time, bool) {
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// listSpec says which of the common list parameters a list takes (the spec
// names them per endpoint); anything else, including a filter the list does
// not have, is a 400.
type listSpec struct {
	ids    bool // ids
	paging bool // limit and order (without them the list answers in one page)
	dates  bool // sort, begin_time and end_time
}

var fullList = listSpec{ids: true, paging: true, dates: true}

// listSpecs are the parameters of each kind's list.
var listSpecs = [numKinds]listSpec{
	kAccount: fullList, kLineItem: fullList, kCoupon: fullList, kInvoice: fullList,
	kPlan: fullList, kAddOn: fullList, kSubscription: fullList, kTransaction: fullList,
	kCreditPayment:  {paging: true, dates: true},
	kAcquisition:    fullList,
	kCustomFieldDef: fullList,
	kUniqueCode:     fullList,
	kRedemption:     {ids: true, dates: true},
	kNote:           {ids: true},
}

func (s *Site) parseList(r *http.Request, k kind) (*listQuery, *response) {
	spec := listSpecs[k]
	q := &listQuery{limit: 20, desc: true, begin: -1 << 62, end: 1 << 62, echo: url.Values{}}
	vals := r.URL.Query()
	names := make([]string, 0, len(vals))
	for name := range vals {
		names = append(names, name)
	}
	sort.Strings(names)
	var rangeParams []string
	cursorByUpdated := false
	for _, name := range names {
		v := vals.Get(name)
		switch {
		case name == "ids" && !spec.ids, (name == "limit" || name == "order" || name == "cursor") && !spec.paging,
			(name == "sort" || name == "begin_time" || name == "end_time") && !spec.dates:
			return nil, badParamRef(name, "is not a permitted parameter")
		}
		if name == "cursor" {
			c, byUpdated, ok := s.decodeCursor(v)
			if !ok {
				return nil, badParamRef("cursor", "is not a valid cursor")
			}
			q.cursor, cursorByUpdated = &c, byUpdated
			continue
		}
		ranged, bad := s.setParam(q, k, name, v)
		if bad != nil {
			return nil, bad
		}
		if ranged {
			rangeParams = append(rangeParams, name)
		}
		q.echo.Set(name, v)
	}
	if q.cursor != nil && cursorByUpdated != q.byUpdated {
		return nil, badParamRef("cursor", "does not belong to this sort order")
	}
	if len(q.ids) > 0 && len(rangeParams) > 0 {
		return nil, badParamRef("ids", "cannot be combined with "+strings.Join(rangeParams, ", "))
	}
	return q, nil
}

func badParamRef(param, msg string) *response { r := badParam(param, msg); return &r }

// setParam applies list parameter name=v (other than cursor) to q; ranged
// reports a paging or time parameter, which ids cannot be combined with.
func (s *Site) setParam(q *listQuery, k kind, name, v string) (ranged bool, bad *response) {
	switch name {
	case "ids":
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				q.ids = append(q.ids, id)
			}
		}
		if len(q.ids) > 200 {
			return false, badParamRef("ids", "must list at most 200 ids")
		}
		return false, nil
	case "limit":
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return true, badParamRef("limit", "must be an integer between 1 and 200")
		}
		q.limit = n
	case "order":
		if v != "asc" && v != "desc" {
			return true, badParamRef("order", "must be asc or desc")
		}
		q.desc = v == "desc"
	case "sort":
		if v != "created_at" && v != "updated_at" {
			return true, badParamRef("sort", "must be created_at or updated_at")
		}
		q.byUpdated = v == "updated_at"
	case "begin_time", "end_time":
		return true, setTimeBound(q, name, v)
	default:
		return false, s.setFilter(q, k, name, v)
	}
	return true, nil
}

// setTimeBound sets the inclusive begin_time or end_time bound, in whole
// seconds.
func setTimeBound(q *listQuery, name, v string) *response {
	t, ok := parseTime(v)
	if !ok {
		return badParamRef(name, "must be an ISO 8601 date-time")
	}
	if name == "end_time" {
		q.end = t.Unix()
		return nil
	}
	q.begin = t.Unix()
	if t.Nanosecond() > 0 {
		q.begin++ // inclusive bound on whole seconds
	}
	return nil
}

// setFilter adds resource filter name=v, which must be one the list takes
// with one of its values.
func (s *Site) setFilter(q *listQuery, k kind, name, v string) *response {
	allowed, ok := filterParams[k][name]
	if !ok {
		return badParamRef(name, "is not a permitted parameter")
	}
	if !slices.Contains(allowed, v) {
		return badParamRef(name, "must be one of "+strings.Join(allowed, ", "))
	}
	q.pred = append(q.pred, s.filter(k, name, v))
	return nil
}

// list answers a list endpoint (GET: a page; HEAD: the count). scope, when
// not nil, restricts it to one parent's records.
func (s *Site) list(r *http.Request, k kind, scope func(int) bool) response {
	q, bad := s.parseList(r, k)
	if bad != nil {
		return *bad
	}
	if scope != nil {
		q.pred = append([]func(int) bool{scope}, q.pred...)
	}
	t := s.tables[k]
	match := func(i int) bool {
		for _, p := range q.pred {
			if !p(i) {
				return false
			}
		}
		return true
	}
	if r.Method == http.MethodHead {
		n := s.count(t, q, match)
		return response{status: http.StatusOK, header: http.Header{"Recurly-Total-Records": {strconv.Itoa(n)}}}
	}
	if scope == nil && s.cfg.SkipRecords > 0 {
		match = skipping(t.n, s.cfg.SkipRecords, match)
	}
	var idx []int
	more := false
	if len(q.ids) > 0 {
		seen := map[int]bool{}
		for _, id := range q.ids {
			if i, ok := t.index(id); ok && !seen[i] && match(i) {
				seen[i] = true
				idx = append(idx, i)
			}
		}
	} else {
		idx, more = s.page(t, q, match)
	}
	return s.renderPage(r, k, q, idx, more)
}

// renderPage writes a list envelope with records idx of kind k; next (when
// more) continues after the last one.
func (s *Site) renderPage(r *http.Request, k kind, q *listQuery, idx []int, more bool) response {
	t := s.tables[k]
	bp := bufPool.Get().(*[]byte)
	b := (*bp)[:0]
	b = append(b, `{"object":"list","has_more":`...)
	b = strconv.AppendBool(b, more)
	b = append(b, `,"next":`...)
	if more {
		last := idx[len(idx)-1]
		_, ts := t.order(q.byUpdated)
		b = strconv.AppendQuote(b, r.URL.Path+"?cursor="+s.encodeCursor(cursorPos{ts[last], t.key(last)}, q.byUpdated)+"&"+echoQuery(q))
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"data":[`...)
	for j, i := range idx {
		if j > 0 {
			b = append(b, ',')
		}
		b = s.appendRecord(b, k, i)
	}
	b = append(b, "]}"...)
	body := append([]byte(nil), b...)
	*bp = b
	bufPool.Put(bp)
	return response{status: http.StatusOK, body: body}
}

// echoQuery renders the parameters a next link repeats: limit, order and
// sort always (with their defaults), then the rest, sorted.
func echoQuery(q *listQuery) string {
	v := url.Values{}
	for name, vs := range q.echo {
		v[name] = vs
	}
	order := "desc"
	if !q.desc {
		order = "asc"
	}
	sortBy := "created_at"
	if q.byUpdated {
		sortBy = "updated_at"
	}
	v.Del("limit")
	v.Del("order")
	v.Del("sort")
	head := "limit=" + strconv.Itoa(q.limit) + "&order=" + order + "&sort=" + sortBy
	if rest := v.Encode(); rest != "" {
		return head + "&" + rest
	}
	return head
}

// cmpPos compares record i's (ts, key) with a cursor position.
func cmpPos(t *table, ts []int64, i int32, c cursorPos) int {
	if ts[i] != c.ts {
		if ts[i] < c.ts {
			return -1
		}
		return 1
	}
	k := t.key(int(i))
	switch {
	case k < c.key:
		return -1
	case k > c.key:
		return 1
	}
	return 0
}

// page finds up to q.limit matching records after the cursor, in order,
// and whether more follow.
func (s *Site) page(t *table, q *listQuery, match func(int) bool) ([]int, bool) {
	order, ts := t.order(q.byUpdated)
	n := len(order)
	out := make([]int, 0, q.limit)
	if !q.desc {
		p := sort.Search(n, func(p int) bool { return ts[order[p]] >= q.begin })
		if q.cursor != nil {
			p = max(p, sort.Search(n, func(p int) bool { return cmpPos(t, ts, order[p], *q.cursor) > 0 }))
		}
		for ; p < n && ts[order[p]] <= q.end; p++ {
			if i := int(order[p]); match(i) {
				if len(out) == q.limit {
					return out, true
				}
				out = append(out, i)
			}
		}
		return out, false
	}
	p := sort.Search(n, func(p int) bool { return ts[order[p]] > q.end }) - 1
	if q.cursor != nil {
		p = min(p, sort.Search(n, func(p int) bool { return cmpPos(t, ts, order[p], *q.cursor) >= 0 })-1)
	}
	for ; p >= 0 && ts[order[p]] >= q.begin; p-- {
		if i := int(order[p]); match(i) {
			if len(out) == q.limit {
				return out, true
			}
			out = append(out, i)
		}
	}
	return out, false
}

// count is the number of records a list would return over all its pages.
func (s *Site) count(t *table, q *listQuery, match func(int) bool) int {
	if len(q.ids) > 0 {
		seen := map[int]bool{}
		for _, id := range q.ids {
			if i, ok := t.index(id); ok && !seen[i] && match(i) {
				seen[i] = true
			}
		}
		return len(seen)
	}
	order, ts := t.order(q.byUpdated)
	n := len(order)
	lo := sort.Search(n, func(p int) bool { return ts[order[p]] >= q.begin })
	hi := sort.Search(n, func(p int) bool { return ts[order[p]] > q.end })
	if len(q.pred) == 0 {
		return max(0, hi-lo)
	}
	c := 0
	for p := lo; p < hi; p++ {
		if match(int(order[p])) {
			c++
		}
	}
	return c
}

// Cursors are opaque: base64url of the position (sort value and id key)
// and a check tag, so a tampered or made-up cursor is rejected with 400.
func (s *Site) cursorTag(c cursorPos, byUpdated bool) uint32 {
	x := s.seed ^ mix(uint64(c.ts)) ^ mix(c.key+0xc0)
	if byUpdated {
		x = mix(x ^ 0xbadc0ffee)
	}
	return uint32(mix(x))
}

func (s *Site) encodeCursor(c cursorPos, byUpdated bool) string {
	var b [20]byte
	binary.BigEndian.PutUint64(b[0:], uint64(c.ts))
	binary.BigEndian.PutUint64(b[8:], c.key)
	tag := s.cursorTag(c, byUpdated)
	if byUpdated {
		tag |= 1
	} else {
		tag &^= 1
	}
	binary.BigEndian.PutUint32(b[16:], tag)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *Site) decodeCursor(v string) (cursorPos, bool, bool) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) != 20 {
		return cursorPos{}, false, false
	}
	c := cursorPos{ts: int64(binary.BigEndian.Uint64(b[0:])), key: binary.BigEndian.Uint64(b[8:])}
	tag := binary.BigEndian.Uint32(b[16:])
	byUpdated := tag&1 == 1
	want := s.cursorTag(c, byUpdated)
	if byUpdated {
		want |= 1
	} else {
		want &^= 1
	}
	return c, byUpdated, tag == want
}

// listChildren answers a child list (one parent's records, idx). Lists
// without paging parameters answer every matching record in one page.
func (s *Site) listChildren(r *http.Request, k kind, idx []int32) response {
	q, bad := s.parseList(r, k)
	if bad != nil {
		return *bad
	}
	t := s.tables[k]
	_, ts := t.order(q.byUpdated)
	var want map[int]bool
	if len(q.ids) > 0 {
		want = map[int]bool{}
		for _, id := range q.ids {
			if i, ok := t.index(id); ok {
				want[i] = true
			}
		}
	}
	sel := make([]int32, 0, len(idx))
	for _, i := range idx {
		if want != nil && !want[int(i)] || ts[i] < q.begin || ts[i] > q.end {
			continue
		}
		if q.cursor != nil {
			c := cmpPos(t, ts, i, *q.cursor)
			if q.desc && c >= 0 || !q.desc && c <= 0 {
				continue
			}
		}
		sel = append(sel, i)
	}
	if r.Method == http.MethodHead {
		return response{status: http.StatusOK, header: http.Header{"Recurly-Total-Records": {strconv.Itoa(len(sel))}}}
	}
	slices.SortFunc(sel, func(a, b int32) int {
		if q.desc {
			return t.less(ts, b, a)
		}
		return t.less(ts, a, b)
	})
	more := false
	if listSpecs[k].paging && len(sel) > q.limit && len(q.ids) == 0 {
		sel, more = sel[:q.limit], true
	}
	out := make([]int, len(sel))
	for j, i := range sel {
		out[j] = int(i)
	}
	return s.renderPage(r, k, q, out, more)
}
