//go:build !linux

package export

// exchangeFolders is atomic on Linux only; elsewhere swapIn renames the previous
// export aside first (see files.go).
func exchangeFolders(a, b string) error { return errNoExchange }
