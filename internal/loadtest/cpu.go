package main

import (
	"context"
	"strconv"
	"strings"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// cpuUse is CPU time spent so far (user and system) by this process (the daemon in process,
// the fake, the load generator) and by the Redis server, to tell what one reply costs: the
// machine's cores are shared by all three, so CPU a reply is what bounds the rate.
type cpuUse struct {
	proc, redis time.Duration
}

func (e *env) cpuNow(ctx context.Context) cpuUse {
	var u cpuUse
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.proc = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if opts, err := goredis.ParseURL(e.redisURL); err == nil {
		c := goredis.NewClient(opts)
		defer c.Close()
		if info, err := c.Info(ctx, "cpu").Result(); err == nil {
			u.redis = redisCPU(info)
		}
	}
	return u
}

// redisCPU is used_cpu_sys + used_cpu_user (seconds) of an INFO cpu reply.
func redisCPU(info string) time.Duration {
	var total float64
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				total += f
			}
		}
	}
	return time.Duration(total * float64(time.Second))
}

// perReply is the CPU spent from a to b divided over n replies.
func perReply(a, b cpuUse, n int) cpuUse {
	if n == 0 {
		return cpuUse{}
	}
	return cpuUse{proc: (b.proc - a.proc) / time.Duration(n), redis: (b.redis - a.redis) / time.Duration(n)}
}

func (c cpuUse) String() string {
	return "CPU a reply " + fmtMicros(c.proc) + " in process + " + fmtMicros(c.redis) + " Redis"
}

func fmtMicros(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 0, 64) + " µs"
}
