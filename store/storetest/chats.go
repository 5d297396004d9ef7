package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/duban/duban/store"
)

func testBindingCodes(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "codes")
	ctx := testContext(t)
	expires := t0.Add(10 * time.Minute)
	for _, code := range []string{"ABC123", "EXPIRED", "LATE"} {
		if err := b.CreateCode(ctx, code, "市教育局", expires); err != nil {
			t.Fatalf("create code %s: %v", code, err)
		}
	}
	if err := b.CreateCode(ctx, "ABC123", "市财政局", expires); !errors.Is(err, store.ErrExists) {
		t.Errorf("create an existing code: got %v, want store.ErrExists", err)
	}
	steps := []struct {
		name    string
		code    string
		at      time.Time
		want    string
		wantErr error
	}{
		{"valid code", "ABC123", t0, "市教育局", nil},
		{"used code", "ABC123", t0, "", store.ErrCodeInvalid},
		{"unknown code", "NOPE", t0, "", store.ErrCodeInvalid},
		{"at the expiry instant", "EXPIRED", expires, "", store.ErrCodeInvalid},
		{"just before expiry", "LATE", expires.Add(-time.Nanosecond), "市教育局", nil},
	}
	for _, step := range steps {
		got, err := b.RedeemCode(ctx, step.code, step.at)
		if !errors.Is(err, step.wantErr) || got != step.want {
			t.Errorf("%s: redeem %s: got %q, %v; want %q, %v", step.name, step.code, got, err, step.want, step.wantErr)
		}
	}
}

func testBindingCodeRace(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "coderace")
	if err := b.CreateCode(testContext(t), "RACE", "市教育局", t0.Add(time.Hour)); err != nil {
		t.Fatalf("create code: %v", err)
	}
	const n = 30
	results := make([]error, n)
	departments := make([]string, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			departments[i], results[i] = b.RedeemCode(testContext(t), "RACE", t0)
		}()
	}
	close(start)
	wg.Wait()
	winners := 0
	for i, err := range results {
		switch {
		case err == nil && departments[i] == "市教育局":
			winners++
		case errors.Is(err, store.ErrCodeInvalid):
		default:
			t.Errorf("redeem %d: got %q, %v; want the department or store.ErrCodeInvalid", i, departments[i], err)
		}
	}
	if winners != 1 {
		t.Errorf("%d concurrent redeems: got %d winners, want 1", n, winners)
	}
}

func testBindings(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "bindings")
	ctx := testContext(t)
	const edu, fin, health = "市教育局", "市财政局", "市卫健委"
	bind := func(department string, chat int64) store.Binding {
		t.Helper()
		binding := store.Binding{Department: department, ChatID: chat, Title: department + "工作群", BoundAt: t0.In(shanghai), BoundBy: 42}
		if err := b.Bind(ctx, binding); err != nil {
			t.Fatalf("bind %s to %d: %v", department, chat, err)
		}
		binding.BoundAt = binding.BoundAt.UTC()
		return binding
	}
	eduOn1 := bind(edu, 1)
	finOn2 := bind(fin, 2)
	checkBindings(t, b, eduOn1, finOn2)

	// Binding a chat that another department has moves it.
	finOn1 := bind(fin, 1)
	checkBindings(t, b, finOn1)

	// Rebinding a department to another chat frees its old chat.
	eduOn3 := bind(edu, 3)
	eduOn4 := bind(edu, 4)
	healthOn3 := bind(health, 3)
	checkBindings(t, b, finOn1, eduOn4, healthOn3)

	// A group upgraded to a supergroup keeps its binding.
	if err := b.MigrateChat(ctx, 4, -1004); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	eduOn1004 := eduOn4
	eduOn1004.ChatID = -1004
	checkBindings(t, b, finOn1, eduOn1004, healthOn3)
	if err := b.MigrateChat(ctx, 999, 1000); err != nil {
		t.Errorf("migrate an unbound chat: got %v, want nil", err)
	}
	checkBindings(t, b, finOn1, eduOn1004, healthOn3)
	if err := b.Bind(ctx, store.Binding{Department: fin, ChatID: 4}); err != nil {
		t.Fatalf("bind the migrated chat's old id: %v", err)
	}
	finOn4 := store.Binding{Department: fin, ChatID: 4}
	checkBindings(t, b, finOn4, eduOn1004, healthOn3)

	if err := b.MarkBroken(ctx, health, "bot was removed from the chat"); err != nil {
		t.Fatalf("mark broken: %v", err)
	}
	healthBroken := healthOn3
	healthBroken.Broken = "bot was removed from the chat"
	checkBindings(t, b, finOn4, eduOn1004, healthBroken)
	if err := b.MarkBroken(ctx, "市公安局", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("mark broken an unbound department: got %v, want store.ErrNotFound", err)
	}

	// Migrating onto a chat bound elsewhere leaves that chat to one department.
	if err := b.MigrateChat(ctx, -1004, 3); err != nil {
		t.Fatalf("migrate onto a bound chat: %v", err)
	}
	eduOn3Again := eduOn3
	eduOn3Again.ChatID = 3
	eduOn3Again.Title = eduOn4.Title
	checkBindings(t, b, finOn4, eduOn3Again)

	if err := b.Unbind(ctx, fin); err != nil {
		t.Fatalf("unbind: %v", err)
	}
	checkBindings(t, b, eduOn3Again)
	if err := b.Unbind(ctx, fin); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unbind twice: got %v, want store.ErrNotFound", err)
	}
	// The unbound department's chat is free again.
	healthOn4 := bind(health, 4)
	checkBindings(t, b, eduOn3Again, healthOn4)
}

func testSnoozes(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "snoozes")
	ctx := testContext(t)
	steps := []struct {
		task       int
		department string
		until      time.Time
		want       map[string]time.Time
	}{
		{1, "市教育局", t0.Add(time.Hour).In(shanghai), map[string]time.Time{"1|市教育局": t0.Add(time.Hour)}},
		{2, "市教育局", t0.Add(2 * time.Hour), map[string]time.Time{"1|市教育局": t0.Add(time.Hour), "2|市教育局": t0.Add(2 * time.Hour)}},
		{1, "市财政局", t0.Add(time.Nanosecond), map[string]time.Time{"1|市教育局": t0.Add(time.Hour), "2|市教育局": t0.Add(2 * time.Hour), "1|市财政局": t0.Add(time.Nanosecond)}},
		{1, "市教育局", t0.Add(3 * time.Hour), map[string]time.Time{"1|市教育局": t0.Add(3 * time.Hour), "2|市教育局": t0.Add(2 * time.Hour), "1|市财政局": t0.Add(time.Nanosecond)}},
		// The zero time lifts a snooze.
		{2, "市教育局", time.Time{}, map[string]time.Time{"1|市教育局": t0.Add(3 * time.Hour), "1|市财政局": t0.Add(time.Nanosecond)}},
	}
	for _, step := range steps {
		if err := b.Snooze(ctx, step.task, step.department, step.until); err != nil {
			t.Fatalf("snooze %d %s: %v", step.task, step.department, err)
		}
		got, err := b.Snoozes(ctx)
		if err != nil {
			t.Fatalf("snoozes: %v", err)
		}
		checkTimes(t, "snoozes", got, step.want)
	}
}

func testOffset(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "offset")
	ctx := testContext(t)
	steps := []struct {
		set, want int64
		reset     bool // ResetOffset: Telegram renumbered its updates, the offset goes down
	}{
		{0, 0, false},
		{100, 100, false},
		{50, 100, false},
		{100, 100, false},
		{101, 101, false},
		{1 << 40, 1 << 40, false},
		{1, 1 << 40, false},
		{7, 7, true},
		{5, 7, false},
		{8, 8, false},
	}
	for _, step := range steps {
		set := b.SetOffset
		if step.reset {
			set = b.ResetOffset
		}
		if err := set(ctx, step.set); err != nil {
			t.Fatalf("set offset %d: %v", step.set, err)
		}
		got, err := b.Offset(ctx)
		if err != nil {
			t.Fatalf("offset: %v", err)
		}
		if got != step.want {
			t.Errorf("after set offset %d: got %d, want %d", step.set, got, step.want)
		}
	}
}

func testInvalidArguments(t *testing.T, s suite) {
	b, _ := s.openFresh(t, "invalid")
	ctx := testContext(t)
	calls := []struct {
		name string
		call func() error
	}{
		{"claim empty key", func() error { _, err := b.Claim(ctx, "", "a", t0, time.Minute); return err }},
		{"claim empty owner", func() error { _, err := b.Claim(ctx, "k", "", t0, time.Minute); return err }},
		{"claim zero lease", func() error { _, err := b.Claim(ctx, "k", "a", t0, 0); return err }},
		{"confirm no keys", func() error { return b.Confirm(ctx, store.Sent{At: t0}) }},
		{"confirm no time", func() error { return b.Confirm(ctx, store.Sent{Keys: []string{"k"}}) }},
		{"bind no department", func() error { return b.Bind(ctx, store.Binding{ChatID: 1}) }},
		{"bind no chat", func() error { return b.Bind(ctx, store.Binding{Department: "市教育局"}) }},
		{"create empty code", func() error { return b.CreateCode(ctx, "", "市教育局", t0) }},
		{"create code without department", func() error { return b.CreateCode(ctx, "C", "", t0) }},
		{"snooze task 0", func() error { return b.Snooze(ctx, 0, "市教育局", t0) }},
		{"snooze no department", func() error { return b.Snooze(ctx, 1, "", t0) }},
		{"record negative telegram update", func() error { _, _, err := b.Record(ctx, -1, nil); return err }},
	}
	for _, c := range calls {
		if err := c.call(); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: got %v, want an error wrapping store.ErrInvalid", c.name, err)
		}
	}
	if got, err := b.Ledger(ctx); err != nil || len(got) != 0 {
		t.Errorf("ledger after invalid calls: got %v, %v; want empty", got, err)
	}
}
