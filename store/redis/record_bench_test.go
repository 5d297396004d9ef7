package redis

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duban/duban/store"
	"github.com/duban/duban/store/storetest"
)

// BenchmarkRepliesSideBySide is the store's part of a reply as the daemon handles a flood:
// 100 chats' lanes side by side, each recording updates on a task of its own and writing
// its acknowledgement to the outbox in the same write (RecordAnswered). "bare" is the load
// tool's baseline, one HSET a reply.
func BenchmarkRepliesSideBySide(b *testing.B) {
	const lanes = 100
	url := redisURL(b)
	for _, kind := range []string{"duban", "bare"} {
		b.Run(kind, func(b *testing.B) {
			s := opener(url)(b, storetest.NewPrefix(b, "bench")).(*Store)
			ctx := context.Background()
			var next, lane atomic.Int64
			b.SetParallelism((lanes + 1) / 2) // RunParallel runs this × GOMAXPROCS goroutines
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				// A lane's task is its own, as a chat's department's is: no two lanes race
				// on one task, as the daemon's don't.
				task := int(lane.Add(1))
				for pb.Next() {
					id := next.Add(1)
					if kind == "bare" {
						if err := s.client.HSet(ctx, s.base+"bare", strconv.FormatInt(id, 10), "/report").Err(); err != nil {
							b.Error(err)
							return
						}
						continue
					}
					u := store.Update{Task: task, Department: "部门" + strconv.Itoa(task), ChatID: -200000 - int64(task),
						MessageID: int(id), UserID: 5000, UserName: "办事员", Text: "/report 进行中", Source: store.SourceReply}
					answer := func(recorded []store.Update) store.Answer {
						return store.Answer{ChatID: u.ChatID, Update: id, ReplyTo: u.MessageID, Text: "已记录 " + recorded[0].ID, Department: u.Department, Tasks: []int{task}, At: time.Now()}
					}
					if _, _, _, err := s.RecordAnswered(ctx, id, []store.Update{u}, answer); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
