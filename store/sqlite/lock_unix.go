//go:build unix

package sqlite

import (
	"errors"
	"os"
	"syscall"
)

var errLockHeld = errors.New("lock held by another process")

// lockFile takes an exclusive advisory lock on path without waiting. The
// kernel drops the lock when the process dies, so a crash never leaves a
// stale lock behind.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errLockHeld
		}
		return nil, err
	}
	return f, nil
}

func unlockFile(f *os.File) error {
	// Closing the descriptor releases the lock; the file stays, since
	// removing it would race with a process about to lock it.
	return f.Close()
}
