package excerpt

import (
	"strings"
	"testing"
)

func TestOf(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"<html>\n  <b>Bad\tGateway</b>\x00</html>", 200, "<html> <b>Bad Gateway</b></html>"},
		{strings.Repeat("é", 300), 3, "ééé…"},
		{"  padded  ", 10, "padded"},
		{"ab cd", 4, "ab c…"},
		{"ab cd", 2, "ab…"},
		{"ab cd", 5, "ab cd"},
		{"bad \xff\xfe bytes", 20, "bad bytes"},
		{"keeps \uFFFD itself", 20, "keeps \uFFFD itself"},
		{"", 5, ""},
	}
	for _, tt := range tests {
		if got := Of(tt.in, tt.n); got != tt.want {
			t.Errorf("Of(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
