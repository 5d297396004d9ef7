package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/duban/duban/store"
)

// v1Updates is the updates table as version 1 of the schema created it, before attachments
// were kept: the file every deployment has until it runs this build.
const v1Updates = `CREATE TABLE IF NOT EXISTS updates (
		namespace       TEXT    NOT NULL,
		task            INTEGER NOT NULL,
		seq             INTEGER NOT NULL,
		id              TEXT    NOT NULL,
		department      TEXT    NOT NULL,
		at              TEXT    NOT NULL,
		chat_id         INTEGER NOT NULL,
		message_id      INTEGER NOT NULL,
		user_id         INTEGER NOT NULL,
		user_name       TEXT    NOT NULL,
		text            TEXT    NOT NULL,
		status          TEXT    NOT NULL,
		percent         INTEGER,
		value           REAL,
		source          TEXT    NOT NULL,
		corrects        TEXT    NOT NULL,
		telegram_update INTEGER NOT NULL,
		prev_hash       TEXT    NOT NULL,
		hash            TEXT    NOT NULL,
		PRIMARY KEY (namespace, task, seq)
	)`

// makeV1File writes a version 1 store file at path the way version 1 wrote it: the schema of
// the time, and updates, heads, latest states and a seen Telegram update written with the
// columns it had. It returns the updates as recorded.
func makeV1File(tb testing.TB, path, prefix string) []store.Update {
	tb.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`PRAGMA journal_mode=WAL`); err != nil { // as Open set it
		tb.Fatal(err)
	}
	for _, stmt := range schema {
		if strings.Contains(stmt, "TABLE IF NOT EXISTS updates (") {
			stmt = v1Updates
		}
		if _, err := db.Exec(stmt); err != nil {
			tb.Fatalf("v1 schema: %v", err)
		}
	}
	if _, err := db.Exec(`INSERT INTO schema_version (version) VALUES (1)`); err != nil {
		tb.Fatal(err)
	}
	pct := 60
	ups, err := store.Normalize([]store.Update{
		{Task: 16, Department: "市教育局", At: time.Date(2026, 12, 1, 1, 0, 0, 0, time.UTC), ChatID: -1001, MessageID: 7,
			UserID: 2001, UserName: "王五", Text: "进行中 60% 招生计划已下达", Status: store.StatusInProgress, Percent: &pct,
			Source: store.SourceReply, TelegramUpdate: 77},
		{Task: 16, Department: "市财政局", At: time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC), ChatID: -1002, MessageID: 3,
			Text: "资金已拨付", Status: store.StatusDone, Source: store.SourceCommand, TelegramUpdate: 78},
	}, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	appended, err := store.Append(ups, nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for _, u := range appended.Updates {
		_, err := db.Exec(`INSERT INTO updates (namespace, task, seq, id, department, at, chat_id, message_id, user_id,
				user_name, text, status, percent, value, source, corrects, telegram_update, prev_hash, hash)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			prefix, u.Task, u.Seq, u.ID, u.Department, store.FormatTime(u.At), u.ChatID, u.MessageID,
			u.UserID, u.UserName, u.Text, string(u.Status), nullInt(u.Percent), nullFloat(u.Value),
			string(u.Source), u.Corrects, u.TelegramUpdate, u.PrevHash, u.Hash)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO telegram_seen (namespace, update_id, recorded, seen_at) VALUES (?, ?, ?, ?)`,
			prefix, u.TelegramUpdate, u.ID, time.Now().Unix()); err != nil {
			tb.Fatal(err)
		}
	}
	for task, head := range appended.Heads {
		if _, err := db.Exec(`INSERT INTO heads (namespace, task, seq, hash) VALUES (?, ?, ?, ?)`,
			prefix, task, head.Seq, head.Hash); err != nil {
			tb.Fatal(err)
		}
	}
	for k, st := range appended.States {
		if _, err := db.Exec(`INSERT INTO latest (namespace, task, department, status, status_at, percent, value, updates, last_seq)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			prefix, k.Task, k.Department, string(st.Status), formatOptionalTime(st.StatusAt), nullInt(st.Percent),
			nullFloat(st.Value), st.Updates, st.Last.Seq); err != nil {
			tb.Fatal(err)
		}
	}
	return appended.Updates
}

// fileSchema reads a file's schema version and whether its updates have the attachment
// columns, without the store.
func fileSchema(tb testing.TB, path string) (version int64, attachments bool) {
	tb.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT MAX(version) FROM schema_version`).Scan(&version); err != nil {
		tb.Fatal(err)
	}
	missing, err := missingColumns(context.Background(), db)
	if err != nil {
		tb.Fatal(err)
	}
	if len(missing) != 0 && len(missing) != len(addedColumns) {
		tb.Fatalf("got %d of %d attachment columns missing, want all or none", len(missing), len(addedColumns))
	}
	return version, len(missing) == 0
}

func checkStoredUpdates(tb testing.TB, what string, got, want []store.Update) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("%s: got %d updates, want %d", what, len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			tb.Errorf("%s[%d]: got %+v, want %+v", what, i, got[i], want[i])
		}
	}
}

// A file written before attachments were kept opens with this build: the daemon's Open adds
// the columns and goes on recording on the same chains; a read-only open (export beside a
// daemon not yet upgraded) reads it as it is and leaves it so.
func TestVersion1File(t *testing.T) {
	tests := []struct {
		name            string
		open            func(ctx context.Context, path, prefix string) (*Store, error)
		wantVersion     int64
		wantAttachments bool
	}{
		{"open upgrades it", Open, 2, true},
		{"read-only reads it as it is", OpenReadOnly, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "duban.db")
			old := makeV1File(t, path, "duban:")
			if v, cols := fileSchema(t, path); v != 1 || cols {
				t.Fatalf("the v1 file: got version %d, attachment columns %v; want 1, false", v, cols)
			}

			s, err := tt.open(ctx, path, "duban:")
			if err != nil {
				t.Fatalf("open: got %v, want nil", err)
			}
			checkStoredUpdates(t, "updates of task 16", mustUpdatesOf(t, s, 16), old)
			states, err := s.Latest(ctx)
			if err != nil || len(states) != 2 || states[0].Department != "市教育局" || states[0].Status != store.StatusInProgress ||
				states[1].Status != store.StatusDone || !reflect.DeepEqual(states[1].Last, old[1]) {
				t.Errorf("latest: got %+v, %v; want the two states with their last updates", states, err)
			}
			if problems, err := store.Verify(ctx, s); err != nil || len(problems) != 0 {
				t.Errorf("verify: got %v, %v; want no problems", problems, err)
			}
			if v, cols := fileSchema(t, path); v != tt.wantVersion || cols != tt.wantAttachments {
				t.Errorf("after open: got version %d, attachment columns %v; want %d, %v", v, cols, tt.wantVersion, tt.wantAttachments)
			}
			if s.readOnly {
				s.Close()
				return
			}

			// The upgraded file takes new updates, attachments included, on the old chains;
			// a Telegram update seen before the upgrade is still recognised.
			doc := &store.Attachment{Kind: "document", FileID: "BQACAgUAAxkBAAIB", FileUniqueID: "AgADbw8A",
				FileName: "用地指标批复.pdf", MimeType: "application/pdf", Size: 48213}
			recorded, fresh, err := s.Record(ctx, 79, []store.Update{{Task: 16, Department: "市教育局", Text: "批复见附件",
				Source: store.SourceReply, Attachment: doc}})
			if err != nil || !fresh || recorded[0].ID != "16-3" || recorded[0].PrevHash != old[1].Hash {
				t.Fatalf("record after the upgrade: got %+v, fresh=%v, %v; want 16-3 after %s", recorded, fresh, err, old[1].ID)
			}
			again, fresh, err := s.Record(ctx, 77, []store.Update{{Task: 16, Department: "市教育局", Source: store.SourceReply}})
			if err != nil || fresh {
				t.Errorf("record a Telegram update seen before the upgrade: got fresh=%v, %v; want false, nil", fresh, err)
			}
			checkStoredUpdates(t, "dedup result", again, old[:1])
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			// Opening the upgraded file again changes nothing.
			s, err = Open(ctx, path, "duban:")
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			defer s.Close()
			checkStoredUpdates(t, "updates after reopening", mustUpdatesOf(t, s, 16), append(old, recorded[0]))
			if got := mustUpdatesOf(t, s, 16)[2].Attachment; !reflect.DeepEqual(got, doc) {
				t.Errorf("attachment after reopening: got %+v, want %+v", got, doc)
			}
			if problems, err := store.Verify(ctx, s); err != nil || len(problems) != 0 {
				t.Errorf("verify after reopening: got %v, %v; want no problems", problems, err)
			}
		})
	}
}

func mustUpdatesOf(tb testing.TB, s *Store, task int) []store.Update {
	tb.Helper()
	ups, err := s.Updates(context.Background(), task)
	if err != nil {
		tb.Fatalf("updates of task %d: %v", task, err)
	}
	return ups
}
