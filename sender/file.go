package sender

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	tgbot "github.com/go-telegram/bot"
)

// ErrTokenRefused is Telegram refusing the bot token (401) while a file was being fetched:
// with that token no file will come.
var ErrTokenRefused = errors.New("telegram refused telegram.token (401 Unauthorized)")

// FileLink asks Telegram (getFile) where the file a user sent can be downloaded, and its size
// (0 when Telegram gives none). The link holds the token: keep it out of every message.
func FileLink(ctx context.Context, tg *tgbot.Bot, token, fileID string) (link string, size int64, err error) {
	f, err := tg.GetFile(ctx, &tgbot.GetFileParams{FileID: fileID})
	switch {
	case errors.Is(err, tgbot.ErrorUnauthorized):
		return "", 0, ErrTokenRefused
	case err != nil:
		return "", 0, fmt.Errorf("getFile: %w", Scrub(err, token))
	}
	return tg.FileDownloadLink(f), f.FileSize, nil
}

// OpenLink starts the download of a FileLink: the body, to read and close. Errors are
// scrubbed of the token (the caller says "download: …"); Telegram's JSON error answer gives
// its description.
func OpenLink(ctx context.Context, httpc *http.Client, token, link string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return nil, Scrub(err, token)
	}
	resp, err := httpc.Do(req)
	if err != nil {
		return nil, Scrub(err, token)
	}
	if resp.StatusCode == http.StatusOK {
		return resp.Body, nil
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		return nil, ErrTokenRefused
	}
	var answer struct {
		Description string `json:"description"`
	}
	_ = json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&answer)
	return nil, fmt.Errorf("%s %s", resp.Status, ScrubText(answer.Description, token))
}
