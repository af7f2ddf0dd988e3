package singer

import (
	"encoding/json"
	"math"
	"math/rand/v2"
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

// TestAppendValueAsMarshal: the direct encodings of appendValue write exactly what marshalCompact writes.
func TestAppendValueAsMarshal(t *testing.T) {
	values := []any{"", "accounts", "a b-c_d.e/f", `quo"te`, `back\slash`, "tab\t", "<&>", "é", "\u2028", 0, 1, -7,
		int64(1) << 62, 0.0, 0.42, -3.5, 1e-6, 9.99e-7, 1e20, 1e21, 123456.789, 1.0 / 3, true, false, nil,
		map[string]int{"b": 1, "a": 2}, []string{"x"}, uint8(3), float32(0.1)}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		values = append(values, rng.NormFloat64()*math.Pow(10, float64(rng.IntN(50)-25)), rng.Int64N(1<<50)-1<<49)
	}
	for _, v := range values {
		want, err := marshalCompact(v)
		if err != nil {
			t.Fatalf("marshalCompact(%#v): %v", v, err)
		}
		if got := appendValue(nil, v); string(got) != string(want) {
			t.Errorf("appendValue(%#v) = %s, want %s", v, got, want)
		}
	}
}
