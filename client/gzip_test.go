package client

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tap-recurly/tap-recurly/internal/testutil"
	"github.com/tap-recurly/tap-recurly/recurlytest"
)

// TestGzipTransport checks what Go's own decoding would give: the decoded body without Content-Encoding or
// Content-Length, a plain answer untouched, a cut stream failing its read, HEAD answers not decoded, and a
// caller's own Accept-Encoding left to the caller.
func TestGzipTransport(t *testing.T) {
	payload := []byte(strings.Repeat(`{"id":"abc","name":"x"},`, 500))
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(payload)
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Asked", r.Header.Get("Accept-Encoding"))
		switch r.URL.Path {
		case "/plain":
			w.Write(payload)
			return
		case "/cut":
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(zipped.Bytes()[:zipped.Len()/2])
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", "123")
		if r.Method != http.MethodHead {
			w.Header().Del("Content-Length")
			w.Write(zipped.Bytes())
		}
	}))
	defer srv.Close()
	hc := &http.Client{Transport: &gzipTransport{base: &http.Transport{DisableCompression: true}}}
	tests := []struct {
		name, method, path, accept string
		wantBody                   []byte
		wantEncoding, wantAsked    string
		wantErr                    bool
	}{
		{name: "gzip decoded", method: "GET", path: "/gz", wantBody: payload, wantAsked: "gzip"},
		{name: "plain untouched", method: "GET", path: "/plain", wantBody: payload, wantAsked: "gzip"},
		{name: "cut stream", method: "GET", path: "/cut", wantErr: true, wantAsked: "gzip"},
		{name: "HEAD not decoded", method: "HEAD", path: "/gz", wantBody: []byte{}, wantEncoding: "gzip", wantAsked: "gzip"},
		{name: "caller's own encoding", method: "GET", path: "/gz", accept: "gzip", wantBody: zipped.Bytes(), wantEncoding: "gzip", wantAsked: "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			if tt.accept != "" {
				req.Header.Set("Accept-Encoding", tt.accept)
			}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tt.wantErr {
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("read error %v, want io.ErrUnexpectedEOF", err)
				}
				return
			}
			if err != nil || !bytes.Equal(body, tt.wantBody) {
				t.Fatalf("body %d bytes, %v; want %d bytes", len(body), err, len(tt.wantBody))
			}
			if got := resp.Header.Get("Content-Encoding"); got != tt.wantEncoding {
				t.Errorf("Content-Encoding %q, want %q", got, tt.wantEncoding)
			}
			if got := resp.Header.Get("X-Asked"); got != tt.wantAsked {
				t.Errorf("the request's Accept-Encoding %q, want %q", got, tt.wantAsked)
			}
			if tt.wantEncoding == "" && tt.path == "/gz" && (resp.ContentLength != -1 || !resp.Uncompressed) {
				t.Errorf("ContentLength %d Uncompressed %v, want -1 true", resp.ContentLength, resp.Uncompressed)
			}
		})
	}
}

// BenchmarkGunzip decodes a 200-record accounts page of the simulated site, gzipped as the site does, with
// compress/gzip (what Go's transport uses) and with gunzipBody.
func BenchmarkGunzip(b *testing.B) {
	srv := testutil.StartSite(b, recurlytest.Config{Seed: 6, Counts: recurlytest.Counts{Accounts: 400}, RateLimit: 1 << 30})
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/sites/"+srv.Site.SiteID()+"/accounts?limit=200", nil)
	req.SetBasicAuth(srv.Site.APIKey(), "")
	req.Header.Set("Accept", "application/vnd.recurly."+APIVersion)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	zipped, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.Header.Get("Content-Encoding") != "gzip" {
		b.Fatalf("%v; Content-Encoding %q", err, resp.Header.Get("Content-Encoding"))
	}
	size, _ := io.Copy(io.Discard, &gunzipBody{rc: io.NopCloser(bytes.NewReader(zipped))})
	b.Run("compress-gzip", func(b *testing.B) {
		b.SetBytes(size)
		zr, _ := gzip.NewReader(bytes.NewReader(zipped))
		for range b.N {
			zr.Reset(bytes.NewReader(zipped))
			io.Copy(io.Discard, zr)
		}
	})
	b.Run("gunzipBody", func(b *testing.B) {
		b.SetBytes(size)
		for range b.N {
			body := &gunzipBody{rc: io.NopCloser(bytes.NewReader(zipped))}
			io.Copy(io.Discard, body)
			body.Close()
		}
	})
}

// TestGunzipBodyCloseDuringRead: Close from another goroutine does not wait for a read blocked on the
// connection, the blocked read ends once the connection's body is closed, and a read after Close fails.
func TestGunzipBodyCloseDuringRead(t *testing.T) {
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write([]byte(strings.Repeat("x", 1000)))
	zw.Flush() // the first part of the stream, then nothing until the connection closes
	pr, pw := io.Pipe()
	go pw.Write(zipped.Bytes())
	body := &gunzipBody{rc: pr}
	buf := make([]byte, 1000)
	if _, err := io.ReadFull(body, buf); err != nil {
		t.Fatal(err)
	}
	readDone := make(chan error, 1)
	go func() {
		_, err := body.Read(buf) // blocks: the writer sends nothing more
		readDone <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the read block (the test holds without it, less surely)
	closed := make(chan error, 1)
	go func() { closed <- body.Close() }()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-readDone; err == nil {
		t.Fatal("the read blocked during Close returned no error")
	}
	if _, err := body.Read(buf); !errors.Is(err, errGzipClosed) {
		t.Fatalf("a read after Close: %v, want errGzipClosed", err)
	}
}
