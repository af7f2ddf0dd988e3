package streams

// Progress is told how far each listing of a run has got, for a display
// or periodic log lines (internal/progress implements it). Listings are
// named as in log lines ("accounts+billing_info"). Its methods are called
// from several goroutines at once.
type Progress interface {
	Start(listing string)
	// ExpectMore says n more records are expected beyond those already
	// added (a count of the rest of the range).
	ExpectMore(listing string, n int)
	Add(listing string, records int)
	Finish(listing string)
}

// noProgress is the Progress of a run that reports none.
type noProgress struct{}

func (noProgress) Start(string)           {}
func (noProgress) ExpectMore(string, int) {}
func (noProgress) Add(string, int)        {}
func (noProgress) Finish(string)          {}

func (s *Syncer) progress() Progress {
	if s.Options.Progress != nil {
		return s.Options.Progress
	}
	return noProgress{}
}
