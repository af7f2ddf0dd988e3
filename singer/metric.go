package singer

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
)

// Metric kinds, metric names and tag names used by singer-python's
// metrics module; a tap may use others.
const (
	MetricCounter = "counter"
	MetricTimer   = "timer"

	MetricRecordCount         = "record_count"
	MetricHTTPRequestDuration = "http_request_duration"

	TagEndpoint       = "endpoint"
	TagHTTPStatusCode = "http_status_code"
	TagStatus         = "status"
)

// FormatMetric returns a metric log line in singer-python's format, for a
// logger to write on stderr:
//
//	METRIC: {"type":"counter","metric":"record_count","value":12,"tags":{"endpoint":"accounts"}}
//
// Keys come in that order and tags sorted by name; a nil tags map gives
// "tags":{}. A value or tag that cannot be encoded as JSON is written as
// the string fmt.Sprint gives, so the line is always valid.
func FormatMetric(kind, metric string, value any, tags map[string]any) string {
	b := make([]byte, 0, 160)
	b = append(b, `METRIC: {"type":`...)
	b = appendValue(b, kind)
	b = append(b, `,"metric":`...)
	b = appendValue(b, metric)
	b = append(b, `,"value":`...)
	b = appendValue(b, value)
	b = append(b, `,"tags":{`...)
	for i, k := range slices.Sorted(maps.Keys(tags)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendValue(b, k)
		b = append(b, ':')
		b = appendValue(b, tags[k])
	}
	return string(append(b, "}}"...))
}

// appendValue appends v as JSON, as marshalCompact writes it: directly for the plain strings, integers and
// ordinary floats every metric line holds (a line per request, so its cost shows), through marshalCompact
// for anything else, and as the string fmt.Sprint gives when v cannot be encoded.
func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		if plainJSONString(v) {
			return append(append(append(b, '"'), v...), '"')
		}
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case float64:
		if a := math.Abs(v); a == 0 || a >= 1e-6 && a < 1e21 {
			return strconv.AppendFloat(b, v, 'f', -1, 64)
		}
	}
	enc, err := marshalCompact(v)
	if err != nil {
		enc, _ = marshalCompact(fmt.Sprint(v))
	}
	return append(b, enc...)
}

// plainJSONString reports whether s is written in JSON as itself between quotes: printable ASCII without
// '"' or '\\'.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
