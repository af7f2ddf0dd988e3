package client

import "net/http"

// WithAPIVersion names another version in the Accept header, for the tests of the API's 406 answer (the
// tap always speaks APIVersion): a transport under the client's layers rewrites the header.
func WithAPIVersion(v string) Option {
	return WithTransport(acceptVersion{v: v, base: &gzipTransport{base: newPooledTransport()}})
}

type acceptVersion struct {
	v    string
	base http.RoundTripper
}

func (t acceptVersion) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Accept", "application/vnd.recurly."+t.v)
	return t.base.RoundTrip(req)
}

// DecodePage decodes a whole list body as the client decodes it, for the benchmark in package client_test.
func DecodePage(b []byte, keys []string) (*Page, error) { return decodePageFields(b, keys, nil) }
