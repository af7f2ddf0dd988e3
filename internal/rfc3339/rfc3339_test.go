package rfc3339

import (
	"testing"
	"time"
	_ "time/tzdata" // zones with summer time, for Local in the fuzz target
)

// cases are inputs for the table test and seeds for the fuzz target:
// Recurly's shapes and the edges around them.
var cases = []string{
	"2024-03-01T12:34:56Z",
	"2024-02-29T00:00:00Z", // leap day
	"2023-02-29T00:00:00Z", // no leap day
	"2000-02-29T23:59:59Z", // leap by 400
	"1900-02-29T00:00:00Z", // not leap by 100
	"2024-04-31T00:00:00Z", // 31 April
	"2024-12-31T24:00:00Z", // 24:00
	"2016-12-31T23:59:60Z", // leap second
	"2024-01-01T00:60:00Z", // minute 60
	"2024-13-01T00:00:00Z", // month 13
	"2024-00-01T00:00:00Z", // month 0
	"2024-01-00T00:00:00Z", // day 0
	"0000-01-01T00:00:00Z", // year 0
	"9999-12-31T23:59:59.999999999Z",
	"1969-12-31T23:59:59.5Z", // before the epoch
	"2024-03-01T12:34:56.1Z", // fractions of 1 to 12 digits
	"2024-03-01T12:34:56.12Z",
	"2024-03-01T12:34:56.123Z",
	"2024-03-01T12:34:56.1234Z",
	"2024-03-01T12:34:56.12345Z",
	"2024-03-01T12:34:56.123456Z",
	"2024-03-01T12:34:56.1234567Z",
	"2024-03-01T12:34:56.12345678Z",
	"2024-03-01T12:34:56.123456789Z",
	"2024-03-01T12:34:56.1234567891Z",
	"2024-03-01T12:34:56.123456789123Z",
	"2024-03-01T12:34:56.000000000Z",
	"2024-03-01T12:34:56.Z",     // a point without digits
	"2024-03-01T12:34:56,123Z",  // a comma
	"2024-03-01T12:34:56.12a3Z", // a letter in the fraction
	"2024-03-01T12:34:56+00:00", // offsets
	"2024-03-01T12:34:56-00:00",
	"2024-03-01T12:34:56+01:00",
	"2024-07-01T12:34:56+02:00",
	"2024-03-01T12:34:56-05:00",
	"2024-03-01T12:34:56+05:30",
	"2024-03-01T12:34:56.75-09:45",
	"2024-03-01T12:34:56+14:00",
	"2024-03-01T12:34:56+23:59",
	"2024-03-01T12:34:56+24:00", // offset hour out of range
	"2024-03-01T12:34:56+01:60",
	"2024-03-01T12:34:56+0100",
	"2024-03-01T12:34:56+01",
	"0000-01-01T00:00:00+01:00", // before year 0 in UTC
	"9999-12-31T23:59:59-01:00", // after year 9999 in UTC
	"2024-03-01t12:34:56Z",      // lowercase t and z
	"2024-03-01T12:34:56z",
	"2024-03-01 12:34:56Z", // a space
	"2024-03-01T12:34:56",  // no zone
	"2024-03-01T12:34Z",    // no seconds
	"2024-3-01T12:34:56Z",  // short fields
	"2024-03-01T2:34:56Z",
	"+024-03-01T12:34:56Z",
	"20a4-03-01T12:34:56Z",
	"2/24-03-01T12:34:56Z",
	"2024-0:-01T12:34:56Z",
	"2024-03-01T12:34:56ZZ",
	"2024-03-01T12:34:56Z ",
	"2024-03-01",
	"",
	"2024-03-01T12:34:56\u00e9Z",
}

func TestParseAgreesWithTimeParse(t *testing.T) {
	for _, in := range cases {
		t.Run(in, func(t *testing.T) { check(t, in) })
	}
}

func TestParseReadsRecurlyShapesDirectly(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2024-02-29T23:59:59Z", time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC)},
		{"2024-03-01T12:34:56.123Z", time.Date(2024, 3, 1, 12, 34, 56, 123000000, time.UTC)},
		{"1969-12-31T23:59:59.5Z", time.Date(1969, 12, 31, 23, 59, 59, 500000000, time.UTC)},
		{"2024-03-01T12:34:56.1234567891Z", time.Date(2024, 3, 1, 12, 34, 56, 123456789, time.UTC)},
		{"2024-03-01T12:34:56+05:30", time.Date(2024, 3, 1, 7, 4, 56, 0, time.UTC)},
		{"0000-01-01T00:00:00Z", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, ok := parse([]byte(tt.in))
		if !ok || !got.Equal(tt.want) {
			t.Errorf("parse(%q) = %v, %v; want %v, true", tt.in, got, ok, tt.want)
		}
	}
	for _, in := range []string{"2024-12-31T24:00:00Z", "2023-02-29T00:00:00Z", "2024-03-01t12:34:56Z", "2024-03-01T12:34:56,5Z"} {
		if got, ok := parse([]byte(in)); ok {
			t.Errorf("parse(%q) = %v, true; want it left to time.Parse", in, got)
		}
	}
}

// FuzzParse checks Parse against time.Parse(time.RFC3339Nano, …) under
// several Local zones: the same instant, Location and zone, or both reject.
func FuzzParse(f *testing.F) {
	for _, in := range cases {
		f.Add(in)
	}
	f.Fuzz(check)
}

// check compares Parse with time.Parse on in, with Local set to each of
// UTC, a fixed zone and zones with summer time.
func check(t *testing.T, in string) {
	saved := time.Local
	defer func() { time.Local = saved }()
	for _, local := range locals(t) {
		time.Local = local
		want, err := time.Parse(time.RFC3339Nano, in)
		got, ok := Parse([]byte(in))
		if ok != (err == nil) {
			t.Fatalf("Local %s: Parse(%q) ok %v; time.Parse error %v", local, in, ok, err)
		}
		if ok && !same(got, want) {
			t.Fatalf("Local %s: Parse(%q) = %v (%s); time.Parse gives %v (%s)", local, in, got, got.Location(), want, want.Location())
		}
	}
}

func locals(t *testing.T) []*time.Location {
	out := []*time.Location{time.UTC, time.FixedZone("X", 3600)}
	for _, name := range []string{"Europe/Paris", "America/New_York", "Asia/Kolkata"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, loc)
	}
	return out
}

// same says whether a and b cannot be told apart: equal values, or (for
// unnamed fixed zones that time.FixedZone makes anew) the same instant,
// zone name, offset and Location name.
func same(a, b time.Time) bool {
	if a == b {
		return true
	}
	an, ao := a.Zone()
	bn, bo := b.Zone()
	return a.Equal(b) && an == bn && ao == bo && a.Location().String() == b.Location().String() &&
		a.Location() != time.Local && b.Location() != time.Local
}

func BenchmarkParse(b *testing.B) {
	in := []byte("2024-03-01T12:34:56.123Z")
	for b.Loop() {
		if _, ok := Parse(in); !ok {
			b.Fatal("not parsed")
		}
	}
}

func BenchmarkTimeParse(b *testing.B) {
	in := []byte("2024-03-01T12:34:56.123Z")
	for b.Loop() {
		if _, err := time.Parse(time.RFC3339Nano, string(in)); err != nil {
			b.Fatal(err)
		}
	}
}
