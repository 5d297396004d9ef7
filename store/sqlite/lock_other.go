//go:build !unix

package sqlite

import (
	"errors"
	"os"
)

var errLockHeld = errors.New("lock held by another process")

// lockFile only creates the lock file: advisory locking is implemented for
// unix systems, where duban runs; elsewhere two daemons are not prevented.
func lockFile(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
}

func unlockFile(f *os.File) error {
	return f.Close()
}
