package singer

import (
	"encoding/json"
	"fmt"
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

type metricLine struct {
	Type   string                     `json:"type"`
	Metric string                     `json:"metric"`
	Value  json.RawMessage            `json:"value"`
	Tags   map[string]json.RawMessage `json:"tags"`
}

// FormatMetric returns a metric log line in singer-python's format, for a
// logger to write on stderr:
//
//	METRIC: {"type":"counter","metric":"record_count","value":12,"tags":{"endpoint":"accounts"}}
//
// Keys come in that order and tags sorted by name; a nil tags map gives
// "tags":{}. A value or tag that cannot be encoded as JSON is written as
// the string fmt.Sprint gives, so the line is always valid.
func FormatMetric(kind, metric string, value any, tags map[string]any) string {
	line := metricLine{
		Type:   kind,
		Metric: metric,
		Value:  metricValue(value),
		Tags:   make(map[string]json.RawMessage, len(tags)),
	}
	for k, v := range tags {
		line.Tags[k] = metricValue(v)
	}
	b, err := marshalCompact(line)
	if err != nil {
		// Every part is already valid JSON, so this cannot happen; keep
		// the line recognisable anyway.
		return fmt.Sprintf("METRIC: {\"type\":%q,\"metric\":%q}", kind, metric)
	}
	return "METRIC: " + string(b)
}

// metricValue encodes v, falling back to its fmt.Sprint form as a string.
func metricValue(v any) json.RawMessage {
	b, err := marshalCompact(v)
	if err != nil {
		b, _ = marshalCompact(fmt.Sprint(v))
	}
	return b
}
