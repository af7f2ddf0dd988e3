package streams

// Progress is told how far each listing of a run has got, for a display
// or periodic log lines (internal/progress implements it). Listings are
// named as in log lines ("accounts+billing_info"). Its methods are called
// from several goroutines at once.
type Progress interface {
	Start(listing string)
	// Expect says the listing holds total records in all (the site's count
	// of its range); until it is called the total is not known.
	Expect(listing string, total int)
	Add(listing string, records int)
	Finish(listing string)
}

// noProgress is the Progress of a run that reports none.
type noProgress struct{}

func (noProgress) Start(string)       {}
func (noProgress) Expect(string, int) {}
func (noProgress) Add(string, int)    {}
func (noProgress) Finish(string)      {}

func (s *Syncer) progress() Progress {
	if s.Options.Progress != nil {
		return s.Options.Progress
	}
	return noProgress{}
}
