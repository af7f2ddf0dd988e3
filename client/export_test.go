package client

// WithAPIVersion overrides the version named in the Accept header, for the tests of the API's 406 answer
// (the tap always speaks APIVersion).
func WithAPIVersion(v string) Option { return func(c *Client) { c.apiVersion = v } }

// DecodePage decodes a whole list body as the client does, for the benchmark in package client_test.
func DecodePage(b []byte, keys []string) (*Page, error) { return decodePageFields(b, keys) }
