//go:build unix

package daemon

import (
	"errors"
	"os"
	"syscall"
)

// lockIdentity takes an exclusive advisory lock on f without waiting; held is true when
// another open file (another live daemon) has it. The kernel drops the lock when the process
// dies, kill -9 included, so a dead daemon never holds its identity.
func lockIdentity(f *os.File) (held bool, err error) {
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true, nil
	}
	return false, err
}
