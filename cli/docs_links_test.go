package cli

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// mdLink matches a Markdown link's target: [label](target).
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// mdHeading matches a Markdown heading line.
var mdHeading = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *$`)

// docFiles is README.md and every page under docs/, relative to the
// repository root.
func docFiles(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files := []string{"README.md"}
	for _, p := range pages {
		files = append(files, strings.TrimPrefix(filepath.ToSlash(p), "../"))
	}
	return files
}

// headingAnchor is the anchor GitHub gives a heading: lower case, spaces to
// hyphens, punctuation other than '-' and '_' dropped.
func headingAnchor(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	var b strings.Builder
	for _, r := range h {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchorsOf lists the anchors of a Markdown document's headings, outside
// fenced code blocks.
func anchorsOf(doc string) map[string]bool {
	anchors := map[string]bool{}
	inFence := false
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
			continue
		}
		if m := mdHeading.FindStringSubmatch(line); !inFence && m != nil {
			anchors[headingAnchor(strings.ReplaceAll(m[1], "`", ""))] = true
		}
	}
	return anchors
}

// TestDocsLinksResolve checks every relative link of README.md and docs/:
// the file it names exists, and so does the heading its #anchor names.
func TestDocsLinksResolve(t *testing.T) {
	files := docFiles(t)
	if len(files) < 2 {
		t.Fatal("docs/ has no pages")
	}
	for _, file := range files {
		doc := readRepoFile(t, file)
		for _, m := range mdLink.FindAllStringSubmatch(doc, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			name, anchor, _ := strings.Cut(target, "#")
			resolved := file
			if name != "" {
				resolved = path.Clean(path.Join(path.Dir(file), name))
			}
			if strings.HasPrefix(resolved, "../") {
				t.Errorf("%s: link %q leaves the repository", file, target)
				continue
			}
			if _, err := os.Stat("../" + resolved); err != nil {
				t.Errorf("%s: link %q: %s does not exist", file, target, resolved)
				continue
			}
			if anchor != "" && strings.HasSuffix(resolved, ".md") && !anchorsOf(readRepoFile(t, resolved))[anchor] {
				t.Errorf("%s: link %q: %s has no heading #%s", file, target, resolved, anchor)
			}
		}
	}
}

// TestReadmeIsTheFirstScreen keeps README.md short, with the two set-up
// commands near the top and a link to every docs/ page.
func TestReadmeIsTheFirstScreen(t *testing.T) {
	readme := readRepoFile(t, "README.md")
	if n := len(readme); n > 16*1024 {
		t.Errorf("README.md is %d bytes, over 16 KiB: move detail to docs/", n)
	}
	lines := strings.Split(readme, "\n")
	top := strings.Join(lines[:min(80, len(lines))], "\n")
	for _, cmd := range []string{"make demo", "make test"} {
		if !strings.Contains(top, cmd) {
			t.Errorf("README.md's first 80 lines lack %q", cmd)
		}
	}
	for _, page := range docFiles(t)[1:] {
		if !strings.Contains(readme, "("+page+")") && !strings.Contains(readme, "("+page+"#") {
			t.Errorf("README.md does not link %s", page)
		}
	}
}
