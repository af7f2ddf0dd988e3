package cli

import (
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	tests := []struct {
		name    string
		version string // cli.Version, as -ldflags -X sets it
		args    []string
		want    string // regexp for the whole of stdout
	}{
		{name: "dev build", version: "dev", args: []string{"--version"},
			want: `^tap-recurly dev \((?:commit [0-9a-f]{1,12}, )?(?:built \S+, )?` + regexp.QuoteMeta(runtime.Version()) + `, Recurly API v2018-08-09\)\n$`},
		{name: "release build", version: "v1.2.3", args: []string{"--version"},
			want: `^tap-recurly v1\.2\.3 \(.*` + regexp.QuoteMeta(runtime.Version()) + `, Recurly API v2018-08-09\)\n$`},
		{name: "needs no config", version: "v1.2.3", args: []string{"--version", "--config", "/nonexistent/config.json"},
			want: `^tap-recurly v1\.2\.3 \(`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			saved := Version
			Version = tc.version
			defer func() { Version = saved }()
			code, stdout, stderr := runCmd(t, tc.args...)
			if code != ExitOK || stderr != "" {
				t.Fatalf("exit %d, stderr %q", code, stderr)
			}
			if !regexp.MustCompile(tc.want).MatchString(stdout) {
				t.Errorf("stdout %q does not match %s", stdout, tc.want)
			}
		})
	}
}

// TestDistribution checks what `make build` and `go install` rely on: the
// Makefile stamps cli.Version through the right symbol and builds static
// binaries (CGO_ENABLED=0), cmd/tap-recurly is a main package of the module
// the README's go install line names.
func TestDistribution(t *testing.T) {
	makefile := readRepoFile(t, "Makefile")
	versionSym := reflect.TypeOf(options{}).PkgPath() + ".Version="
	for _, want := range []string{
		"-X " + versionSym,
		"export CGO_ENABLED ?= 0",
		"-o bin/tap-recurly ./cmd/tap-recurly",
	} {
		if !strings.Contains(makefile, want) {
			t.Errorf("Makefile lacks %q", want)
		}
	}
	m := regexp.MustCompile(`(?m)^module (\S+)$`).FindStringSubmatch(readRepoFile(t, "go.mod"))
	if m == nil {
		t.Fatal("go.mod has no module line")
	}
	module := m[1]
	if !strings.HasPrefix(versionSym, module+"/") {
		t.Errorf("package path %s is not inside module %s", versionSym, module)
	}
	if main := readRepoFile(t, "cmd/tap-recurly/main.go"); !regexp.MustCompile(`(?m)^package main$`).MatchString(main) {
		t.Error("cmd/tap-recurly/main.go is not package main")
	}
	readme := readRepoFile(t, "README.md")
	if want := "go install " + module + "/cmd/tap-recurly@latest"; !strings.Contains(readme, want) {
		t.Errorf("README.md lacks %q", want)
	}
}
