package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/duban/duban/store"
)

// BenchRecord measures Record of one update, spread over 50 tasks so that
// chains grow the way they do in production.
func BenchRecord(b *testing.B, backend Backend) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		u := reply(i%50+1, "市教育局", fmt.Sprintf("进展 %d", i))
		if _, _, err := backend.Record(ctx, int64(i+1), []store.Update{u}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchLatest measures Latest over 50 tasks × 3 departments.
func BenchLatest(b *testing.B, backend Backend) {
	ctx := context.Background()
	var ups []store.Update
	for task := 1; task <= 50; task++ {
		for _, department := range []string{"市教育局", "市财政局", "市卫健委"} {
			ups = append(ups, withProgress(reply(task, department, "已完成第一阶段工作"), store.StatusInProgress, intp(task), nil))
		}
	}
	if _, _, err := backend.Record(ctx, 0, ups); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		states, err := backend.Latest(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(states) != 150 {
			b.Fatalf("latest: got %d states, want 150", len(states))
		}
	}
}
