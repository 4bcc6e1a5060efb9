package pagerduty

// SetMaxOffset lowers the end of offset paging for a test and returns the
// function that restores it.
func SetMaxOffset(n int) func() {
	prev := maxOffset
	maxOffset = n
	return func() { maxOffset = prev }
}
