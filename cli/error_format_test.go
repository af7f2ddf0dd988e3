package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestErrorLinesFollowLogFormat(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(bad, []byte(`{"subdomain":"a","start_date":"2020-01-01"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  string
		want string // the message of the single error line
		json bool
	}{
		{"text", []string{"-c", bad}, "", "tap-recurly: " + bad + ": api_key: required", false},
		{"json", []string{"-c", bad, "--log-format", "json"}, "", "tap-recurly: " + bad + ": api_key: required", true},
		{"bad LOG_LEVEL names the variable", []string{"-c", bad}, "loud", `tap-recurly: LOG_LEVEL: unknown log level "loud" (want debug, info, warn or error)`, false},
		{"bad --log-level names the flag", []string{"-c", bad, "--log-level", "loud"}, "", `tap-recurly: --log-level: unknown log level "loud" (want debug, info, warn or error)`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("LOG_LEVEL", tt.env)
			out, stderr, code := runCLI(t, tt.args...)
			if code != ExitBadInput || out != "" {
				t.Fatalf("exit %d, stdout %q", code, out)
			}
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if len(lines) != 1 {
				t.Fatalf("stderr lines %q", lines)
			}
			got := lines[0]
			if tt.json {
				var m map[string]any
				if err := json.Unmarshal([]byte(got), &m); err != nil {
					t.Fatalf("not JSON: %s", got)
				}
				if m["level"] != "ERROR" {
					t.Fatalf("level %v", m["level"])
				}
				got, _ = m["msg"].(string)
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
