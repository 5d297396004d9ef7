// Command duban follows up a work plan in Telegram: it nudges each responsible department
// before and after its deadlines, records their replies as progress and sends digests.
//
// main only owns the process: signals, arguments and the exit code. Everything else is in
// the packages it wires together.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	_ "time/tzdata" // the zone database inside the binary, for images without /usr/share/zoneinfo
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
