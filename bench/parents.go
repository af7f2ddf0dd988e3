package main

import (
	"encoding/json"
	"os"
	"path"

	"github.com/tap-recurly/tap-recurly/cli"
	"github.com/tap-recurly/tap-recurly/recurlytest"
	"github.com/tap-recurly/tap-recurly/singer"
	"github.com/tap-recurly/tap-recurly/streams"
)

// Per-parent streams cost requests by parents, not by records: one request
// per parent (bulk coupon, account) on every run, whatever changed, plus a
// page per 200 of their records, plus the parent ids. This file works out
// what a run selecting them may spend.

// selectedStreams is what a scenario's run syncs: with Catalog every
// stream, else the default selection (the opt-in streams left out).
func selectedStreams(sc scenario) []streams.Stream {
	var out []streams.Stream
	for _, st := range streams.All() {
		if sc.Catalog || !st.OptIn {
			out = append(out, st)
		}
	}
	return out
}

// childRecords counts each per-parent stream's records on the site.
func childRecords(site *recurlytest.Site, st streams.Stream) int {
	return len(site.Keys(path.Base(st.Source)))
}

// parentsOf counts the parents a per-parent stream reads one child list
// for: the records of its parent list that pass its ParentWhere.
func parentsOf(site *recurlytest.Site, st streams.Stream) int {
	keys := site.Keys(st.Parent)
	if st.ParentWhere.Field == "" {
		return len(keys)
	}
	n := 0
	for _, k := range keys {
		rec, _ := site.Record(st.Parent, k.ID)
		var fields map[string]any
		if json.Unmarshal(rec, &fields) == nil && fields[st.ParentWhere.Field] == st.ParentWhere.Value {
			n++
		}
	}
	return n
}

// parentCost is the requests the per-parent streams of a run add to what
// one request per listing (no changes) or a page per 200 records (a full
// run) cost: one per parent per per-parent stream, plus, per parent list,
// its pages (the parent ids), one more (the parents changed after the
// signpost, or a count) and a partial page per extra window. With records,
// the pages of the child records are added too (a full run).
func parentCost(site *recurlytest.Site, selected []streams.Stream, maxWorkers int, records bool) int {
	n := 0
	lists := map[string]bool{}
	for _, st := range selected {
		if !st.PerParent() {
			continue
		}
		n += parentsOf(site, st)
		if records {
			n += (childRecords(site, st) + streams.PageSize - 1) / streams.PageSize
		}
		if !lists[st.Parent] {
			lists[st.Parent] = true
			n += (len(site.Keys(st.Parent))+streams.PageSize-1)/streams.PageSize + 1 + max(0, maxWorkers-1)
		}
	}
	return n
}

// writeCatalogSelectingAll writes the tap's discovered catalog with every
// stream selected to path.
func writeCatalogSelectingAll(path string) error {
	cat, err := cli.Discover()
	if err != nil {
		return err
	}
	for i := range cat.Streams {
		cat.Streams[i].SetSelected(true)
	}
	b, err := singer.MarshalCatalog(cat)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
