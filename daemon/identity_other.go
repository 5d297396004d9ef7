//go:build !unix

package daemon

import (
	"errors"
	"os"
)

// lockIdentity cannot lock here (advisory locking is implemented for unix, where duban
// runs), so it never claims an identity: every start is a new instance, as it always was.
func lockIdentity(*os.File) (held bool, err error) {
	return false, errors.New("no file locking on this system")
}
