package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/klauspost/compress/gzip"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tap-recurly/tap-recurly/client"
	"github.com/tap-recurly/tap-recurly/streams"
)

// The floor reader is the I/O floor the tap's CPU is measured against: it
// reads the same listings over the same kind of transport (Go's pooled
// http.Transport, gzip asked for and decoded with klauspost/compress as the
// tap's client does, the same headers) and copies every page to stdout
// unparsed. It finds each page's next link
// by looking for it in the envelope's head, where Recurly writes it; it
// checks nothing else. Whatever the tap spends above it per record is
// parsing, validation, bookmarks and Singer framing.

// floorConfig is the part of the tap's config.json the floor reader uses.
type floorConfig struct {
	APIKey     string `json:"api_key"`
	Subdomain  string `json:"subdomain"`
	BaseURL    string `json:"base_url"`
	StartDate  string `json:"start_date"`
	MaxWorkers int    `json:"max_workers"`
}

// runFloor reads every default listing of the site named in the tap config
// at cfgPath, writing each page's body to w.
func runFloor(cfgPath string, w io.Writer) error {
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		return err
	}
	var cfg floorConfig
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return fmt.Errorf("%s: %w", cfgPath, err)
	}
	base := strings.TrimSuffix(cfg.BaseURL, "/") + "/sites/subdomain-" + cfg.Subdomain + "/"
	auth := "Basic " + basicAuth(cfg.APIKey)
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	out := &lockedWriter{w: bufio.NewWriterSize(w, 1<<20)}
	sources := floorSources(selectedStreams(scenario{}))
	sem := make(chan struct{}, max(1, cfg.MaxWorkers))
	var wg sync.WaitGroup
	errs := make([]error, len(sources))
	for i, src := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			q := url.Values{"limit": {"200"}, "sort": {"updated_at"}, "order": {"asc"}, "begin_time": {cfg.StartDate},
				"end_time": {time.Now().UTC().Format(time.RFC3339)}}
			errs[i] = floorChain(hc, auth, base+src+"?"+q.Encode(), out)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, st := range selectedStreams(scenario{}) {
		if st.PerParent() {
			if err := floorChildren(hc, auth, base, cfg, st, out); err != nil {
				return err
			}
		}
	}
	return out.w.Flush()
}

// floorSources are the site-level lists a run of the selected streams
// reads.
func floorSources(selected []streams.Stream) []string {
	seen := map[string]bool{}
	var out []string
	for _, st := range selected {
		if !st.PerParent() && !seen[st.Source] {
			seen[st.Source] = true
			out = append(out, st.Source)
		}
	}
	return out
}

// floorChain follows one cursor chain from link, copying each body out.
func floorChain(hc *http.Client, auth, link string, out *lockedWriter) error {
	var buf bytes.Buffer
	var zr gzip.Reader
	for link != "" {
		req, err := http.NewRequest(http.MethodGet, link, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "application/vnd.recurly."+client.APIVersion)
		req.Header.Set("Authorization", auth)
		req.Header.Set("User-Agent", "tap-recurly-floor")
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		buf.Reset()
		var body io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			if err = zr.Reset(resp.Body); err == nil {
				body = &zr
			}
		}
		if err == nil {
			_, err = buf.ReadFrom(body)
		}
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", req.URL.Path, resp.Status)
		}
		out.write(buf.Bytes())
		next := nextLink(buf.Bytes())
		if next == "" {
			return nil
		}
		u, err := req.URL.Parse(next)
		if err != nil {
			return err
		}
		link = u.String()
	}
	return nil
}

// nextLink finds the envelope's "next" in the head of a list body; "" when
// it is null or absent.
func nextLink(body []byte) string {
	head := body[:min(len(body), 1024)]
	i := bytes.Index(head, []byte(`"next":"`))
	if i < 0 {
		return ""
	}
	rest := head[i+len(`"next":"`):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return strings.ReplaceAll(string(rest[:j]), `\/`, "/")
}

// basicAuth is Recurly's Basic credential: the key as user, no password.
func basicAuth(key string) string { return base64.StdEncoding.EncodeToString([]byte(key + ":")) }

// lockedWriter serialises whole page writes from several chains.
type lockedWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (l *lockedWriter) write(b []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Write(b)
	l.w.WriteByte('\n')
}

// floorChildren reads a per-parent stream as the tap does: the parent ids
// (the parent list, decoded only for them), then each parent's child list,
// max_workers at a time, each page copied out unparsed.
func floorChildren(hc *http.Client, auth, base string, cfg floorConfig, st streams.Stream, out *lockedWriter) error {
	ids, err := floorParentIDs(hc, auth, base, st)
	if err != nil {
		return err
	}
	end := time.Now().UTC().Format(time.RFC3339)
	q := url.Values{}
	switch st.Params {
	case streams.AllParams:
		q = url.Values{"limit": {"200"}, "sort": {"updated_at"}, "order": {"asc"}, "begin_time": {cfg.StartDate}, "end_time": {end}}
	case streams.DateParams:
		q = url.Values{"sort": {"updated_at"}, "begin_time": {cfg.StartDate}, "end_time": {end}}
	}
	sem := make(chan struct{}, max(1, cfg.MaxWorkers))
	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	for i, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			link := base + fmt.Sprintf(st.Source, url.PathEscape(id))
			if len(q) > 0 {
				link += "?" + q.Encode()
			}
			errs[i] = floorChain(hc, auth, link, out)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// floorParentIDs lists the ids of a per-parent stream's parents.
func floorParentIDs(hc *http.Client, auth, base string, st streams.Stream) ([]string, error) {
	var ids []string
	link := base + st.Parent + "?limit=200&order=asc&sort=created_at"
	for link != "" {
		req, err := http.NewRequest(http.MethodGet, link, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/vnd.recurly."+client.APIVersion)
		req.Header.Set("Authorization", auth)
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		var page struct {
			Next *string          `json:"next"`
			Data []map[string]any `json:"data"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s %v", req.URL.Path, resp.Status, err)
		}
		for _, rec := range page.Data {
			id, _ := rec["id"].(string)
			if w := st.ParentWhere; w.Field == "" || rec[w.Field] == w.Value {
				ids = append(ids, id)
			}
		}
		link = ""
		if page.Next != nil && *page.Next != "" {
			u, err := req.URL.Parse(*page.Next)
			if err != nil {
				return nil, err
			}
			link = u.String()
		}
	}
	return ids, nil
}
