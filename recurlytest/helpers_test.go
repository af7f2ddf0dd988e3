package recurlytest

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// newTestServer starts a site over real HTTP and closes it with the test.
func newTestServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

type result struct {
	status int
	header http.Header
	body   []byte
}

// do sends an authenticated request with the v2018-08-09 Accept header;
// edit may change the request first.
func do(t *testing.T, srv *Server, method, path string, edit func(*http.Request)) result {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(srv.Site.APIKey(), "")
	req.Header.Set("Accept", "application/vnd.recurly.v2018-08-09")
	if edit != nil {
		edit(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return result{resp.StatusCode, resp.Header, b}
}

type envelope struct {
	Object  string            `json:"object"`
	HasMore bool              `json:"has_more"`
	Next    *string           `json:"next"`
	Data    []json.RawMessage `json:"data"`
}

type errEnvelope struct {
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
		Params  []struct {
			Param string `json:"param"`
		} `json:"params"`
		Acceptable []string `json:"acceptable_accept_headers"`
	} `json:"error"`
}

type recordHead struct {
	ID          string  `json:"id"`
	Object      string  `json:"object"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   *string `json:"updated_at"`
	CollectedAt *string `json:"collected_at"`
}

// pageAll follows next links from path and returns every record's head.
func pageAll(t *testing.T, srv *Server, path string) ([]recordHead, int) {
	t.Helper()
	var out []recordHead
	pages := 0
	for {
		res := do(t, srv, "GET", path, nil)
		if res.status != 200 {
			t.Fatalf("GET %s: %d %s", path, res.status, res.body)
		}
		var env envelope
		if err := json.Unmarshal(res.body, &env); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		pages++
		if env.Object != "list" {
			t.Fatalf("object = %q", env.Object)
		}
		for _, d := range env.Data {
			var h recordHead
			if err := json.Unmarshal(d, &h); err != nil {
				t.Fatal(err)
			}
			out = append(out, h)
		}
		if !env.HasMore {
			if env.Next != nil {
				t.Fatalf("last page has next %q", *env.Next)
			}
			return out, pages
		}
		if env.Next == nil {
			t.Fatal("has_more without next")
		}
		path = *env.Next
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// pageKind pages every record of kind k: its site-level list, or for a
// child list the list of every parent in turn.
func pageKind(t *testing.T, srv *Server, k kind) []recordHead {
	t.Helper()
	pk, child := childParentKind(k)
	if !child {
		got, _ := pageAll(t, srv, "/sites/subdomain-demo/"+kindNames[k]+"?limit=200")
		return got
	}
	var out []recordHead
	for _, p := range srv.Site.Keys(kindNames[pk]) {
		path := "/sites/subdomain-demo/" + kindNames[pk] + "/" + p.ID + "/" + kindNames[k]
		if listSpecs[k].paging {
			path += "?limit=200"
		}
		got, _ := pageAll(t, srv, path)
		out = append(out, got...)
	}
	return out
}
