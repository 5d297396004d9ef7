package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	tgbot "github.com/go-telegram/bot"

	"github.com/duban/duban/config"
	"github.com/duban/duban/record"
	"github.com/duban/duban/sender"
	"github.com/duban/duban/store"
)

func cmdExport(ctx context.Context, env *cliEnv, args []string) error {
	fs, path := newFlags(env, "export", "")
	format := fs.String("format", "json", "json, csv (UTF-8 with BOM, opens cleanly in Excel) or xlsx (the 台账 workbook, with -o)")
	out := fs.String("o", "", "write to this file instead of standard output, whole or not at all (a temporary file,\n"+
		"then renamed); xlsx needs it")
	all := fs.Bool("all", false, "every update of every department, not only the latest")
	files := fs.String("files", "", "instead of the record, download every file attached to it into this folder\n"+
		"(via Telegram's getFile: needs telegram.token or $TELEGRAM_BOT_TOKEN)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case *format != "json" && *format != "csv" && *format != "xlsx":
		return usageError{fmt.Errorf("export: -format: want json or csv, got %q (xlsx too, with -o FILE)", *format)}
	case *format == "xlsx" && *out == "":
		return usageError{errors.New("export: -format xlsx writes a workbook, not text for a terminal: name the file with -o FILE")}
	}
	if *files != "" {
		var both []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "format" || f.Name == "all" || f.Name == "o" {
				both = append(both, "-"+f.Name)
			}
		})
		if len(both) > 0 {
			return usageError{fmt.Errorf("export: -files downloads the attached files and prints no record: drop %s", strings.Join(both, " and "))}
		}
		return exportFiles(ctx, env, *path, *files)
	}
	c, p, err := config.Load(*path)
	if err != nil {
		return err
	}
	// Read-only: export runs beside the daemon and must neither lock nor change anything.
	s, err := openStore(ctx, c, true)
	if err != nil {
		return err
	}
	defer s.Close()
	now := time.Now()
	if *format == "xlsx" {
		return exportXLSX(ctx, s, c, p, now, *out)
	}
	write := func(w io.Writer) error { return exportText(ctx, w, s, c, p, *format, *all, now) }
	if *out != "" {
		return writeFileAtomic(*out, write)
	}
	if err := write(env.stdout); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}

// exportText writes the record in format (json or csv) to w. With all it streams, a task's
// updates read and written before the next task's, so that memory stays flat however long
// the record grows; without, it holds one update per department, and collects.
func exportText(ctx context.Context, w io.Writer, s record.Reader, c *config.Config, p *config.Plan, format string, all bool, now time.Time) error {
	switch {
	case all && format == "csv":
		return record.StreamCSV(ctx, w, s, c, p, now)
	case all:
		return record.StreamJSON(ctx, w, s, c, p, now)
	}
	snap, err := record.Collect(ctx, s, c, p, false, now)
	if err != nil {
		return err
	}
	if format == "csv" {
		return record.WriteCSV(w, snap.Rows, c, all)
	}
	return record.WriteJSON(w, snap.Tasks, c)
}

// exportFiles is `duban export -files DIR`: every file attached to the record, fetched from
// Telegram (which keeps them; the record keeps their ids) into dir as <task>-<seq>-<name>.
func exportFiles(ctx context.Context, env *cliEnv, configPath, dir string) error {
	c, err := config.LoadConfig(configPath)
	if err != nil {
		return err
	}
	token := string(c.Telegram.Token)
	if token == "" {
		return usageError{fmt.Errorf("export -files: telegram.token is empty: set TELEGRAM_BOT_TOKEN (files are fetched from Telegram)")}
	}
	s, err := openStore(ctx, c, true)
	if err != nil {
		return err
	}
	defer s.Close()
	tg, err := sender.NewTelegram(token, c.APIURL(), nil) // errors are returned, scrubbed of the token
	if err != nil {
		return fmt.Errorf("export -files: telegram client: %w", err)
	}
	f := &fileFetcher{tg: tg, token: token, http: &http.Client{Timeout: 10 * time.Minute}}
	return downloadFiles(ctx, env.stdout, s, f, dir)
}

// downloadFiles fetches the attachment of every update in r into dir, printing one line per
// file and a count. A file that fails is reported with its update's id and the others go
// on; the error at the end says how many failed.
func downloadFiles(ctx context.Context, w io.Writer, r store.ChainReader, f *fileFetcher, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("export -files: %w", err)
	}
	tasks, err := r.Chains(ctx)
	if err != nil {
		return fmt.Errorf("export -files: %w", err)
	}
	var total, fetched, kept, failed int
	for _, task := range tasks {
		ups, err := r.Updates(ctx, task)
		if err != nil {
			return fmt.Errorf("export -files: %w", err)
		}
		for _, u := range ups {
			if u.Attachment == nil {
				continue
			}
			total++
			target := filepath.Join(dir, localFileName(u))
			n, downloaded, err := f.fetch(ctx, u.Attachment, target)
			switch {
			case errors.Is(err, sender.ErrTokenRefused), ctx.Err() != nil:
				return fmt.Errorf("export -files: update %s: %w", u.ID, err)
			case err != nil:
				failed++
				fmt.Fprintf(w, "%s: failed: %v\n", u.ID, err)
			case downloaded:
				fetched++
				fmt.Fprintf(w, "%s: %s (%d bytes)\n", u.ID, target, n)
			default:
				kept++
				fmt.Fprintf(w, "%s: %s already there (%d bytes)\n", u.ID, target, n)
			}
		}
	}
	fmt.Fprintf(w, "%d attached file(s): %d downloaded, %d already there, %d failed\n", total, fetched, kept, failed)
	if failed > 0 {
		return fmt.Errorf("export -files: %d of %d file(s) could not be downloaded: see the lines above; run it again to retry them", failed, total)
	}
	return nil
}

// fileFetcher gets files from the Bot API: getFile, then the file's download URL. That URL
// holds the token, and so do the HTTP client's errors: every error is scrubbed of it.
type fileFetcher struct {
	tg    *tgbot.Bot
	token string
	http  *http.Client
}

// fetch writes the file a describes to target and says how many bytes it has and whether it
// was downloaded. A file already at target with the size Telegram gives is kept as it is.
func (f *fileFetcher) fetch(ctx context.Context, a *store.Attachment, target string) (int64, bool, error) {
	// The recorded size spares a getFile for each file a run before fetched.
	if a.Size > 0 && sizeOf(target) == a.Size {
		return a.Size, false, nil
	}
	link, want, err := sender.FileLink(ctx, f.tg, f.token, a.FileID)
	if err != nil {
		return 0, false, err
	}
	if want == 0 {
		want = a.Size
	}
	if want > 0 && sizeOf(target) == want {
		return want, false, nil
	}
	n, err := f.download(ctx, link, target, want)
	if err != nil {
		return 0, false, fmt.Errorf("download: %w", f.scrub(err))
	}
	return n, true, nil
}

// download writes the body of link to target through a temporary file in the same folder,
// so that a download cut short never looks like a file already there.
func (f *fileFetcher) download(ctx context.Context, link, target string, want int64) (int64, error) {
	body, err := sender.OpenLink(ctx, f.http, f.token, link)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	tmp, err := os.CreateTemp(filepath.Dir(target), ".duban-download-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name()) // after the rename, a no-op
	n, err := io.Copy(tmp, body)
	if err == nil && want > 0 && n != want {
		err = fmt.Errorf("got %d bytes, Telegram said %d", n, want)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), target)
	}
	return n, err
}

// scrub removes the token from err's text: the one scrubber the daemon uses too.
func (f *fileFetcher) scrub(err error) error { return sender.Scrub(err, f.token) }

// sizeOf is the size of the regular file at path, -1 if there is none.
func sizeOf(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return -1
	}
	return fi.Size()
}

// kindExtensions name the files Telegram gives no name: photos are JPEG, voice messages
// OGG/Opus, video notes MP4.
var kindExtensions = map[string]string{"photo": ".jpg", "voice": ".ogg", "video_note": ".mp4", "video": ".mp4", "animation": ".mp4", "audio": ".mp3"}

// localFileName is where an update's attachment goes: "<task>-<seq>-<name>", the name made
// safe, or the kind for a file without one ("16-3-photo.jpg").
func localFileName(u store.Update) string {
	name := u.Attachment.FileName
	if name == "" {
		name = u.Attachment.Kind + kindExtensions[u.Attachment.Kind]
	}
	return fmt.Sprintf("%d-%d-%s", u.Task, u.Seq, safeFileName(name))
}

// maxNameBytes keeps "<task>-<seq>-<name>" within the 255 bytes file systems allow.
const maxNameBytes = 200

// safeFileName makes a sender's file name safe to create on any system: no path separators,
// no "..", no control characters or characters Windows refuses; at most maxNameBytes, the
// extension kept.
func safeFileName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || strings.ContainsRune(`/\<>:"|?*`, r) {
			return '_'
		}
		return r
	}, name)
	for strings.Contains(name, "..") {
		name = strings.ReplaceAll(name, "..", "_")
	}
	name = strings.TrimSpace(name)
	if name == "" || name == "." {
		name = "_"
	}
	if len(name) > maxNameBytes {
		ext := filepath.Ext(name)
		if len(ext) > 16 {
			ext = ""
		}
		base := name[:maxNameBytes-len(ext)]
		for !utf8.ValidString(base) { // cut on a character, not inside one
			base = base[:len(base)-1]
		}
		name = base + ext
	}
	return name
}
