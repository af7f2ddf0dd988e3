package singer

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestFormatMetric(t *testing.T) {
	tests := []struct {
		name   string
		kind   string
		metric string
		value  any
		tags   map[string]any
		want   string
	}{
		{
			name: "counter", kind: MetricCounter, metric: MetricRecordCount, value: 12,
			tags: map[string]any{TagEndpoint: "accounts"},
			want: `METRIC: {"type":"counter","metric":"record_count","value":12,"tags":{"endpoint":"accounts"}}`,
		},
		{
			name: "timer with sorted tags", kind: MetricTimer, metric: MetricHTTPRequestDuration, value: 0.42,
			tags: map[string]any{TagStatus: "succeeded", TagHTTPStatusCode: 200, TagEndpoint: "accounts"},
			want: `METRIC: {"type":"timer","metric":"http_request_duration","value":0.42,"tags":{"endpoint":"accounts","http_status_code":200,"status":"succeeded"}}`,
		},
		{
			name: "nil tags", kind: MetricCounter, metric: "x", value: int64(0),
			want: `METRIC: {"type":"counter","metric":"x","value":0,"tags":{}}`,
		},
		{
			name: "unencodable values fall back to strings", kind: MetricCounter, metric: "x", value: make(chan int),
			tags: map[string]any{"f": func() {}, "s": "<&>"},
			want: `METRIC: {"type":"counter","metric":"x","value":"0x`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FormatMetric(tt.kind, tt.metric, tt.value, tt.tags)
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			body, ok := strings.CutPrefix(got, "METRIC: ")
			if !ok || !json.Valid([]byte(body)) || strings.Contains(got, "\n") {
				t.Errorf("not a one-line METRIC JSON: %q", got)
			}
		})
	}
}
