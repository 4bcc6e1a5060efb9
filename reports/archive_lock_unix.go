//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package reports

import (
	"fmt"
	"os"
	"syscall"
)

// lockDir takes an exclusive advisory lock on the archive folder for one
// archive run, so that two runs cannot both append to the same manifest.
// The kernel drops the lock when the process dies.
func lockDir(dir string) (func(), error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("another archive run is writing to it (%v)", err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
