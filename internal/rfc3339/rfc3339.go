// Package rfc3339 reads the RFC 3339 timestamps of API records without the
// general layout machinery of time.Parse, for the per-record hot path.
package rfc3339

import "time"

// Parse reads b as time.Parse(time.RFC3339Nano, string(b)) does, with the
// same result: the same instant and the same Location (UTC for "Z", Local
// when an offset matches Local's at that instant, else an unnamed fixed
// zone). ok is false exactly where time.Parse returns an error. The shapes
// the API sends ("2006-01-02T15:04:05Z", with a fraction or a ±hh:mm offset)
// are read directly; anything else goes to time.Parse.
func Parse(b []byte) (time.Time, bool) {
	if t, ok := parse(b); ok {
		return t, true
	}
	t, err := time.Parse(time.RFC3339Nano, string(b)) // the conversion does not escape: no copy
	return t, err == nil
}

// parse reads the strict form "YYYY-MM-DDThh:mm:ss[.f…](Z|±hh:mm)"; ok is
// false for anything else, including out-of-range fields (no 24:00, no leap
// second, no 30 February), which time.Parse then judges.
func parse(b []byte) (time.Time, bool) {
	if len(b) < len("2006-01-02T15:04:05Z") || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	century, yy, month, day := two(b[0:2]), two(b[2:4]), two(b[5:7]), two(b[8:10])
	hour, minute, sec := two(b[11:13]), two(b[14:16]), two(b[17:19])
	year := century*100 + yy
	if century < 0 || yy < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	nsec, rest := fraction(b[19:])
	offset, utc, ok := zone(rest)
	if !ok {
		return time.Time{}, false
	}
	unix := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec) - int64(offset)
	t := time.Unix(unix, int64(nsec))
	switch {
	case utc:
		return t.UTC(), true
	case localOffset(t) == offset:
		return t.In(time.Local), true
	}
	return t.In(time.FixedZone("", offset)), true
}

// fraction reads an optional fraction of a second, ".d…" with at least one
// digit; digits past the ninth count for nothing, as in time.Parse.
func fraction(b []byte) (nsec int, rest []byte) {
	if len(b) < 2 || b[0] != '.' || !isDigit(b[1]) {
		return 0, b
	}
	n := 1
	for ; n < len(b) && n <= 9 && isDigit(b[n]); n++ {
		nsec = nsec*10 + int(b[n]-'0')
	}
	nsec *= scale[n-1] // fewer than nine digits: scale up
	for ; n < len(b) && isDigit(b[n]); n++ {
	}
	return nsec, b[n:]
}

// scale[d] turns a fraction of d digits into nanoseconds.
var scale = [10]int{1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 1e2, 1e1, 1}

// zone reads "Z" (utc) or "±hh:mm" (offset in seconds east of UTC).
func zone(b []byte) (offset int, utc, ok bool) {
	if len(b) == 1 && b[0] == 'Z' {
		return 0, true, true
	}
	if len(b) != len("+07:00") || (b[0] != '+' && b[0] != '-') || b[3] != ':' {
		return 0, false, false
	}
	hh, mm := two(b[1:3]), two(b[4:6])
	if hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, false, false
	}
	offset = (hh*60 + mm) * 60
	if b[0] == '-' {
		offset = -offset
	}
	return offset, false, true
}

// localOffset is Local's offset from UTC at t, in seconds east.
func localOffset(t time.Time) int {
	_, off := t.In(time.Local).Zone()
	return off
}

// two reads two decimal digits; -1 when b holds anything else.
func two(b []byte) int {
	hi, lo := b[0]-'0', b[1]-'0' // bytes below '0' wrap past 9
	if hi > 9 || lo > 9 {
		return -1
	}
	return int(hi)*10 + int(lo)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// daysIn is the number of days of month in year (proleptic Gregorian).
func daysIn(month, year int) int {
	switch {
	case month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0):
		return 29
	case month == 2:
		return 28
	case month == 4 || month == 6 || month == 9 || month == 11:
		return 30
	}
	return 31
}

// daysSinceEpoch is the number of days from 1970-01-01 to the given date
// (proleptic Gregorian): Howard Hinnant's days_from_civil, on years moved
// one 400-year era on so that the arithmetic is unsigned.
func daysSinceEpoch(year, month, day int) int64 {
	y, m := uint64(year)+400, uint64(month)+9 // March is month 0 of the year...
	if month > 2 {
		m = uint64(month) - 3
	} else {
		y-- // ...so January and February count with the year before
	}
	era, yoe := y/400, y%400
	doy := (153*m+2)/5 + uint64(day) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097+doe) - 719468 - 146097
}
