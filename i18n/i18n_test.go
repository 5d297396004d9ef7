package i18n

import (
	"reflect"
	"testing"

	"github.com/duban/duban/store"
)

// TestComplete fails when a language leaves a text out, so no user ever sees an empty message.
func TestComplete(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		v := reflect.ValueOf(*For(lang))
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.IsZero() || (f.Kind() == reflect.Slice || f.Kind() == reflect.Map) && f.Len() == 0 {
				t.Errorf("%s: %s is empty", lang, v.Type().Field(i).Name)
			}
		}
		for _, s := range []store.Status{store.StatusNotStarted, store.StatusInProgress, store.StatusDone, store.StatusBlocked} {
			if For(lang).StatusNames[s] == "" {
				t.Errorf("%s: no name for status %s", lang, s)
			}
		}
		if got, want := len(For(lang).CSVHeader), len(For("zh").CSVHeader); got != want {
			t.Errorf("%s: got %d CSV columns, want %d", lang, got, want)
		}
	}
	if For("fr") != For("zh") {
		t.Error("For(fr): got a language of its own, want the default zh")
	}
}
