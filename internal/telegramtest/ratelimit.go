package telegramtest

import (
	"math"
	"time"
)

// limiter enforces Limits. Windows are in wall-clock time (Telegram time times
// scale); retry_after is reported in Telegram seconds, rounded up so that waiting
// retry_after*scale always frees the window that caused the 429.
type limiter struct {
	lim   Limits
	scale float64
	tat   map[int64]time.Time   // per chat: GCRA theoretical arrival time
	group map[int64][]time.Time // per group: accepted message times in the sliding minute
	all   []time.Time           // accepted message times in the sliding second
}

func newLimiter(l Limits, scale float64) limiter {
	return limiter{lim: l, scale: scale, tat: map[int64]time.Time{}, group: map[int64][]time.Time{}}
}

func (l *limiter) scaled(d time.Duration) time.Duration { return time.Duration(float64(d) * l.scale) }

func prune(ts []time.Time, now time.Time, window time.Duration) []time.Time {
	cut := now.Add(-window)
	i := 0
	for i < len(ts) && !ts[i].After(cut) {
		i++
	}
	return ts[i:]
}

// allow reports whether a message to chatID may be sent now; if so it is
// counted, otherwise retryAfter is the number of Telegram seconds to wait.
func (l *limiter) allow(now time.Time, chatID int64, isGroup bool) (retryAfter int, ok bool) {
	var wait time.Duration
	period := l.scaled(l.lim.PerChat)
	if period > 0 {
		burst := max(l.lim.PerChatBurst, 1)
		tolerance := time.Duration(burst-1) * period
		tat := l.tat[chatID]
		if tat.Before(now) {
			tat = now
		}
		if d := tat.Sub(now) - tolerance; d > 0 {
			wait = max(wait, d)
		}
	}
	groupWindow := l.scaled(time.Minute)
	if isGroup && l.lim.PerGroupPerMinute > 0 && groupWindow > 0 {
		ts := prune(l.group[chatID], now, groupWindow)
		l.group[chatID] = ts
		if n := l.lim.PerGroupPerMinute; len(ts) >= n {
			wait = max(wait, ts[len(ts)-n].Add(groupWindow).Sub(now))
		}
	}
	globalWindow := l.scaled(time.Second)
	if l.lim.GlobalPerSecond > 0 && globalWindow > 0 {
		l.all = prune(l.all, now, globalWindow)
		if n := l.lim.GlobalPerSecond; len(l.all) >= n {
			wait = max(wait, l.all[len(l.all)-n].Add(globalWindow).Sub(now))
		}
	}
	if wait > 0 {
		secs := int(math.Ceil(wait.Seconds()/l.scale - 1e-9))
		return max(secs, 1), false
	}
	if period > 0 {
		tat := l.tat[chatID]
		if tat.Before(now) {
			tat = now
		}
		l.tat[chatID] = tat.Add(period)
	}
	if isGroup && l.lim.PerGroupPerMinute > 0 && groupWindow > 0 {
		l.group[chatID] = append(l.group[chatID], now)
	}
	if l.lim.GlobalPerSecond > 0 && globalWindow > 0 {
		l.all = append(l.all, now)
	}
	return 0, true
}
