package singer

import "slices"

// Metadata keys. The tap writes the discoverable ones (Inclusion,
// SelectedByDefault, TableKeyProperties, ValidReplicationKeys,
// ForcedReplicationMethod); the user writes Selected, ReplicationMethod and
// ReplicationKey. Use these constants rather than string literals so a typo
// cannot silently make a key unreadable.
const (
	Inclusion               string = "inclusion"
	SelectedByDefault       string = "selected-by-default"
	Selected                string = "selected"
	TableKeyProperties      string = "table-key-properties"
	ValidReplicationKeys    string = "valid-replication-keys"
	ForcedReplicationMethod string = "forced-replication-method"
	ReplicationMethod       string = "replication-method"
	ReplicationKey          string = "replication-key"
)

// Values of the Inclusion metadata key. They are plain strings, as stored
// in a MetadataEntry's map.
const (
	// InclusionAutomatic marks a field that is always synced (key
	// properties, replication keys), whatever the user selected.
	InclusionAutomatic string = "automatic"
	// InclusionAvailable marks a field the user may select or deselect.
	InclusionAvailable string = "available"
	// InclusionUnsupported marks a field that is never synced.
	InclusionUnsupported string = "unsupported"
)

// Replication methods, as used in replication_method and the
// forced-replication-method and replication-method metadata.
const (
	ReplicationIncremental string = "INCREMENTAL"
	ReplicationFullTable   string = "FULL_TABLE"
	ReplicationLogBased    string = "LOG_BASED"
)

// Metadata is a catalog entry's metadata list: one MetadataEntry per
// breadcrumb. The breadcrumb [] describes the stream; ["properties", name]
// a top-level field; ["properties", a, "properties", b] a nested field.
// A nil Metadata is an empty list.
type Metadata []MetadataEntry

// MetadataEntry is the metadata of one breadcrumb. Values read by
// ParseCatalog are normalised: booleans are bool, strings are string,
// table-key-properties and valid-replication-keys are []string, other
// numbers are json.Number. A nil Metadata map means no metadata.
type MetadataEntry struct {
	Breadcrumb []string       `json:"breadcrumb"`
	Metadata   map[string]any `json:"metadata"`
}

// MarshalJSON writes breadcrumb as [] and metadata as {} when they are nil.
func (m MetadataEntry) MarshalJSON() ([]byte, error) {
	type plain MetadataEntry
	if m.Breadcrumb == nil {
		m.Breadcrumb = []string{}
	}
	if m.Metadata == nil {
		m.Metadata = map[string]any{}
	}
	return marshalCompact(plain(m))
}

// Lookup returns the metadata map at breadcrumb, or nil if the list has no
// entry for it. With several entries for one breadcrumb (ParseCatalog
// rejects that) the first wins. The map is shared, not copied.
func (m Metadata) Lookup(breadcrumb ...string) map[string]any {
	for _, e := range m {
		if slices.Equal(e.Breadcrumb, breadcrumb) {
			return e.Metadata
		}
	}
	return nil
}

// Root returns the stream-level metadata (breadcrumb []), or nil.
func (m Metadata) Root() map[string]any {
	return m.Lookup()
}

// Set sets key to value at breadcrumb, adding an entry (at the end) or a
// map when needed.
func (m *Metadata) Set(breadcrumb []string, key string, value any) {
	for i := range *m {
		e := &(*m)[i]
		if slices.Equal(e.Breadcrumb, breadcrumb) {
			if e.Metadata == nil {
				e.Metadata = map[string]any{}
			}
			e.Metadata[key] = value
			return
		}
	}
	*m = append(*m, MetadataEntry{
		Breadcrumb: append([]string{}, breadcrumb...),
		Metadata:   map[string]any{key: value},
	})
}

// boolValue returns md[key] if it is a bool.
func boolValue(md map[string]any, key string) (value, ok bool) {
	value, ok = md[key].(bool)
	return value, ok
}

// stringValue returns md[key] if it is a string, else "".
func stringValue(md map[string]any, key string) string {
	s, _ := md[key].(string)
	return s
}
