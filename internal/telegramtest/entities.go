package telegramtest

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// This file ports the text-formatting parsers of TDLib (td/telegram/MessageEntity.cpp:
// parse_html, parse_markdown_v2, parse_markdown), which is what the Bot API server
// runs on the "text" of sendMessage/editMessageText when parse_mode is set. The error
// strings are TDLib's; the Bot API prefixes them with "Bad Request: can't parse
// entities: ". Entity offsets and lengths are in UTF-16 code units, like Telegram's.

// entityParseError is a parse failure; its message is TDLib's text.
type entityParseError struct{ msg string }

func (e *entityParseError) Error() string { return e.msg }

func parseErrorf(format string, args ...any) error {
	return &entityParseError{msg: fmt.Sprintf(format, args...)}
}

// formatText applies parse_mode to text and returns the text a Telegram client
// displays and its entities. mode is compared case-insensitively, like the Bot API.
func formatText(text, mode string) (string, []models.MessageEntity, *apiError) {
	var (
		plain    string
		entities []models.MessageEntity
		err      error
	)
	switch strings.ToLower(mode) {
	case "":
		plain = text
	case "html":
		plain, entities, err = parseHTML(text)
	case "markdownv2":
		plain, entities, err = parseMarkdownV2(text)
	case "markdown":
		plain, entities, err = parseMarkdown(text)
	default:
		return "", nil, badRequest("unsupported parse_mode")
	}
	if err != nil {
		return "", nil, badRequest("can't parse entities: %s", err.Error())
	}
	plain, entities = trimFormatted(plain, entities)
	return plain, entities, nil
}

// at returns s[i], or 0 past the end, emulating the NUL-terminated C string
// TDLib's parsers walk.
func at(s string, i int) byte {
	if i >= 0 && i < len(s) {
		return s[i]
	}
	return 0
}

// isSpace is TDLib's is_space, which also treats NUL (the end of the string) as space.
func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', 0, '\v', '\f':
		return true
	}
	return false
}

func isAlpha(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }
func isHexDigit(c byte) bool {
	return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// utf16Step is how many UTF-16 code units the UTF-8 sequence starting with byte c
// adds; continuation bytes add none.
func utf16Step(c byte) int {
	if c&0xc0 == 0x80 {
		return 0
	}
	if c >= 0xf0 {
		return 2
	}
	return 1
}

// utf16Len is the length of s in UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xffff {
			n++ // surrogate pair
		}
	}
	return n
}

func decodeHTMLEntity(s string, pos int) (code uint32, next int) {
	end := pos + 1
	var res uint64
	if at(s, pos+1) == '#' {
		end++
		if at(s, pos+2) == 'x' {
			end++
			for isHexDigit(at(s, end)) {
				d, _ := strconv.ParseUint(string(at(s, end)), 16, 8)
				if res < 1<<32 {
					res = res*16 + d
				}
				end++
			}
		} else {
			for isDigit(at(s, end)) {
				if res < 1<<32 {
					res = res*10 + uint64(at(s, end)-'0')
				}
				end++
			}
		}
		if res == 0 || res >= 0x10ffff || end-pos >= 10 {
			return 0, pos
		}
	} else {
		for isAlpha(at(s, end)) {
			end++
		}
		switch s[pos+1 : end] {
		case "lt":
			res = '<'
		case "gt":
			res = '>'
		case "amp":
			res = '&'
		case "quot":
			res = '"'
		default:
			return 0, pos
		}
	}
	if at(s, end) == ';' {
		end++
	}
	return uint32(res), end
}

type htmlTag struct {
	name       string
	argument   string
	expandable bool
	offset     int // UTF-16 offset in the output
	beginPos   int // byte offset in the output
}

var htmlTags = map[string]bool{
	"a": true, "b": true, "strong": true, "i": true, "em": true, "s": true, "strike": true,
	"del": true, "u": true, "ins": true, "tg-spoiler": true, "tg-emoji": true, "span": true,
	"pre": true, "code": true, "blockquote": true,
}

// parseHTML is TDLib's parse_html.
func parseHTML(str string) (string, []models.MessageEntity, error) {
	var (
		out      []byte
		entities []models.MessageEntity
		offset   int
		nested   []htmlTag
	)
	for i := 0; i < len(str); i++ {
		c := str[i]
		if c == '&' {
			if code, next := decodeHTMLEntity(str, i); code != 0 {
				if code >= 0xd800 && code <= 0xdfff {
					return "", nil, parseErrorf("Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units")
				}
				offset++
				if code > 0xffff {
					offset++
				}
				out = utf8.AppendRune(out, rune(code))
				i = next - 1
				continue
			}
		}
		if c != '<' {
			offset += utf16Step(c)
			out = append(out, c)
			continue
		}

		beginPos := i
		i++
		if at(str, i) != '/' {
			// start tag
			for !isSpace(at(str, i)) && at(str, i) != '>' {
				i++
			}
			if at(str, i) == 0 {
				return "", nil, parseErrorf("Unclosed start tag at byte offset %d", beginPos)
			}
			tagName := strings.ToLower(str[beginPos+1 : i])
			if !htmlTags[tagName] {
				return "", nil, parseErrorf("Unsupported start tag \"%s\" at byte offset %d", tagName, beginPos)
			}
			tag := htmlTag{name: tagName, offset: offset, beginPos: len(out)}
			for at(str, i) != '>' {
				for at(str, i) != 0 && isSpace(at(str, i)) {
					i++
				}
				if at(str, i) == '>' {
					break
				}
				attrBegin := i
				for !isSpace(at(str, i)) && at(str, i) != '=' && at(str, i) != '>' {
					i++
				}
				attrName := str[attrBegin:i]
				if attrName == "" {
					return "", nil, parseErrorf("Empty attribute name in the tag \"%s\" at byte offset %d", tagName, beginPos)
				}
				j := i
				for at(str, j) != 0 && isSpace(at(str, j)) {
					j++
				}
				if at(str, j) != '=' {
					// Current Telegram accepts the value-less <blockquote expandable>.
					if tagName == "blockquote" && attrName == "expandable" && at(str, j) != 0 {
						tag.expandable = true
						i = j
						continue
					}
					return "", nil, parseErrorf("Expected equal sign in declaration of an attribute of the tag \"%s\" at byte offset %d", tagName, beginPos)
				}
				i = j + 1
				for at(str, i) != 0 && isSpace(at(str, i)) {
					i++
				}
				if at(str, i) == 0 {
					return "", nil, parseErrorf("Unclosed start tag \"%s\" at byte offset %d", tagName, beginPos)
				}
				var value string
				if q := at(str, i); q != '\'' && q != '"' {
					tokenBegin := i
					for isAlnum(at(str, i)) || at(str, i) == '.' || at(str, i) == '-' {
						i++
					}
					value = strings.ToLower(str[tokenBegin:i])
					if !isSpace(at(str, i)) && at(str, i) != '>' {
						return "", nil, parseErrorf("Unexpected end of name token at byte offset %d", tokenBegin)
					}
				} else {
					i++
					var v []byte
					for at(str, i) != q && at(str, i) != 0 {
						if at(str, i) == '&' {
							if code, next := decodeHTMLEntity(str, i); code != 0 {
								v = utf8.AppendRune(v, rune(code))
								i = next
								continue
							}
						}
						v = append(v, str[i])
						i++
					}
					if at(str, i) == q {
						i++
					}
					value = string(v)
				}
				if at(str, i) == 0 {
					return "", nil, parseErrorf("Unclosed start tag at byte offset %d", beginPos)
				}
				switch {
				case tagName == "a" && attrName == "href":
					tag.argument = value
				case tagName == "code" && attrName == "class" && strings.HasPrefix(value, "language-"):
					tag.argument = value[len("language-"):]
				case tagName == "span" && attrName == "class" && strings.HasPrefix(value, "tg-"):
					tag.argument = value[len("tg-"):]
				case tagName == "tg-emoji" && attrName == "emoji-id":
					tag.argument = value
				}
			}
			if tagName == "span" && tag.argument != "spoiler" {
				return "", nil, parseErrorf("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", beginPos)
			}
			nested = append(nested, tag)
			continue
		}

		// end tag
		if len(nested) == 0 {
			return "", nil, parseErrorf("Unexpected end tag at byte offset %d", beginPos)
		}
		for !isSpace(at(str, i)) && at(str, i) != '>' {
			i++
		}
		endTagName := strings.ToLower(str[beginPos+2 : i])
		for isSpace(at(str, i)) && at(str, i) != 0 {
			i++
		}
		if at(str, i) != '>' {
			return "", nil, parseErrorf("Unclosed end tag at byte offset %d", beginPos)
		}
		top := nested[len(nested)-1]
		if endTagName != "" && endTagName != top.name {
			return "", nil, parseErrorf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", beginPos, top.name, endTagName)
		}
		if offset > top.offset {
			e := models.MessageEntity{Offset: top.offset, Length: offset - top.offset}
			last := func() *models.MessageEntity {
				if len(entities) == 0 {
					return nil
				}
				l := &entities[len(entities)-1]
				if l.Offset == e.Offset && l.Length == e.Length {
					return l
				}
				return nil
			}
			switch top.name {
			case "i", "em":
				e.Type = models.MessageEntityTypeItalic
			case "b", "strong":
				e.Type = models.MessageEntityTypeBold
			case "s", "strike", "del":
				e.Type = models.MessageEntityTypeStrikethrough
			case "u", "ins":
				e.Type = models.MessageEntityTypeUnderline
			case "tg-spoiler", "span":
				e.Type = models.MessageEntityTypeSpoiler
			case "tg-emoji":
				id, err := strconv.ParseInt(top.argument, 10, 64)
				if err != nil || id == 0 {
					return "", nil, parseErrorf("Invalid custom emoji identifier specified")
				}
				e.Type = models.MessageEntityTypeCustomEmoji
				e.CustomEmojiID = top.argument
			case "a":
				url := top.argument
				if url == "" {
					url = string(out[top.beginPos:])
				}
				if id, ok := linkUserID(url); ok {
					e.Type = models.MessageEntityTypeTextMention
					e.User = &models.User{ID: id}
				} else if url = checkedLink(url); url != "" {
					e.Type = models.MessageEntityTypeTextLink
					e.URL = url
				}
			case "pre":
				if l := last(); l != nil && l.Type == models.MessageEntityTypeCode && l.Language != "" {
					l.Type = models.MessageEntityTypePre
				} else {
					e.Type = models.MessageEntityTypePre
				}
			case "code":
				if l := last(); l != nil && l.Type == models.MessageEntityTypePre && top.argument != "" {
					l.Language = top.argument
				} else {
					e.Type = models.MessageEntityTypeCode
					e.Language = top.argument
				}
			case "blockquote":
				e.Type = models.MessageEntityTypeBlockquote
				if top.expandable {
					e.Type = models.MessageEntityTypeExpandableBlockquote
				}
			}
			if e.Type != "" {
				entities = append(entities, e)
			}
		}
		nested = nested[:len(nested)-1]
	}
	if len(nested) > 0 {
		return "", nil, parseErrorf("Can't find end tag corresponding to start tag \"%s\"", nested[len(nested)-1].name)
	}
	for i := range entities {
		if entities[i].Type == models.MessageEntityTypeCode {
			entities[i].Language = ""
		}
	}
	sortEntities(entities)
	return string(out), entities, nil
}

// linkUserID recognises tg://user?id=N links, which become text_mention entities.
func linkUserID(url string) (int64, bool) {
	const prefix = "tg://user?id="
	if !strings.HasPrefix(strings.ToLower(url), prefix) {
		return 0, false
	}
	id, err := strconv.ParseInt(url[len(prefix):], 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// checkedLink is a much simplified LinkManager::get_checked_link: it only trims
// the URL and adds "http://" to scheme-less ones.
func checkedLink(url string) string {
	url = strings.TrimSpace(url)
	if url == "" {
		return ""
	}
	if !strings.Contains(url, "://") && !strings.HasPrefix(strings.ToLower(url), "tg:") && !strings.HasPrefix(strings.ToLower(url), "mailto:") {
		url = "http://" + url
	}
	return url
}

// TDLib's internal entity type names, used in MarkdownV2 error messages.
const (
	mdBold          = "Bold"
	mdItalic        = "Italic"
	mdUnderline     = "Underline"
	mdStrikethrough = "Strikethrough"
	mdSpoiler       = "Spoiler"
	mdTextURL       = "TextUrl"
	mdCode          = "Code"
	mdPre           = "Pre"
	mdPreCode       = "PreCode"
	mdCustomEmoji   = "CustomEmoji"
	mdBlockQuote    = "BlockQuote"
)

type mdEntity struct {
	typ        string
	argument   string
	offset     int // UTF-16 offset in the output
	byteOffset int // byte offset in the input
	beginPos   int // byte offset in the output
}

func reservedError(c byte) error {
	return parseErrorf("Character '%c' is reserved and must be escaped with the preceding '\\'", c)
}

// parseMarkdownV2 is TDLib's parse_markdown_v2.
func parseMarkdownV2(text string) (string, []models.MessageEntity, error) {
	var (
		out            []byte
		entities       []models.MessageEntity
		offset         int
		nested         []mdEntity
		haveBlockquote bool
	)
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\\' && at(text, i+1) > 0 && at(text, i+1) <= 126 {
			i++
			offset++
			out = append(out, text[i])
			continue
		}
		reserved := "_*[]()~`>#+-=|{}.!\n"
		if len(nested) > 0 {
			switch nested[len(nested)-1].typ {
			case mdCode, mdPre, mdPreCode:
				reserved = "`"
			}
		}
		if strings.IndexByte(reserved, c) < 0 {
			offset += utf16Step(c)
			out = append(out, c)
			continue
		}

		isEnd := false
		if len(nested) > 0 {
			if haveBlockquote && c == '\n' && (i+1 == len(text) || text[i+1] != '>') {
				isEnd = true
			} else {
				switch nested[len(nested)-1].typ {
				case mdBold:
					isEnd = c == '*'
				case mdItalic:
					isEnd = c == '_' && at(text, i+1) != '_'
				case mdCode:
					isEnd = c == '`'
				case mdPre, mdPreCode:
					isEnd = c == '`' && at(text, i+1) == '`' && at(text, i+2) == '`'
				case mdTextURL, mdCustomEmoji:
					isEnd = c == ']'
				case mdUnderline:
					isEnd = c == '_' && at(text, i+1) == '_'
				case mdStrikethrough:
					isEnd = c == '~'
				case mdSpoiler:
					isEnd = c == '|' && at(text, i+1) == '|'
				}
			}
		}

		if !isEnd {
			typ, argument := "", ""
			byteOffset := i
			switch c {
			case '_':
				if at(text, i+1) == '_' {
					typ = mdUnderline
					i++
				} else {
					typ = mdItalic
				}
			case '*':
				typ = mdBold
			case '~':
				typ = mdStrikethrough
			case '|':
				if at(text, i+1) != '|' {
					return "", nil, reservedError(c)
				}
				i++
				typ = mdSpoiler
			case '[':
				typ = mdTextURL
			case '`':
				if at(text, i+1) == '`' && at(text, i+2) == '`' {
					i += 3
					typ = mdPre
					languageEnd := i
					for !isSpace(at(text, languageEnd)) && at(text, languageEnd) != '`' {
						languageEnd++
					}
					if i != languageEnd && languageEnd < len(text) && at(text, languageEnd) != '`' {
						typ = mdPreCode
						argument = text[i:languageEnd]
						i = languageEnd
					}
					if at(text, i) == '\n' || at(text, i) == '\r' {
						if (at(text, i+1) == '\n' || at(text, i+1) == '\r') && at(text, i) != at(text, i+1) {
							i += 2
						} else {
							i++
						}
					}
					i--
				} else {
					typ = mdCode
				}
			case '!':
				if at(text, i+1) != '[' {
					return "", nil, reservedError(c)
				}
				i++
				typ = mdCustomEmoji
			case '\n':
				offset++
				out = append(out, '\n')
				if i+1 < len(text) && text[i+1] == '>' {
					i++
					if !haveBlockquote {
						typ = mdBlockQuote
						haveBlockquote = true
					}
				}
			case '>':
				if i != 0 {
					return "", nil, reservedError(c)
				}
				typ = mdBlockQuote
				haveBlockquote = true
			default:
				return "", nil, reservedError(c)
			}
			if typ == "" {
				continue
			}
			nested = append(nested, mdEntity{typ: typ, argument: argument, offset: offset, byteOffset: byteOffset, beginPos: len(out)})
			continue
		}

		// end of an entity
		top := nested[len(nested)-1]
		if c == '\n' && top.typ != mdBlockQuote {
			return "", nil, parseErrorf("Can't find end of %s entity at byte offset %d", top.typ, top.byteOffset)
		}
		e := models.MessageEntity{Offset: top.offset}
		skip := offset == top.offset
		switch top.typ {
		case mdBold:
			e.Type = models.MessageEntityTypeBold
		case mdItalic:
			e.Type = models.MessageEntityTypeItalic
		case mdCode:
			e.Type = models.MessageEntityTypeCode
		case mdStrikethrough:
			e.Type = models.MessageEntityTypeStrikethrough
		case mdUnderline:
			e.Type = models.MessageEntityTypeUnderline
			i++
		case mdSpoiler:
			e.Type = models.MessageEntityTypeSpoiler
			i++
		case mdPre, mdPreCode:
			e.Type = models.MessageEntityTypePre
			e.Language = top.argument
			i += 2
		case mdTextURL:
			var url string
			if at(text, i+1) != '(' {
				url = string(out[top.beginPos:])
			} else {
				i += 2
				urlBegin := i
				var u []byte
				for i < len(text) && text[i] != ')' {
					if text[i] == '\\' && at(text, i+1) > 0 && at(text, i+1) <= 126 {
						u = append(u, text[i+1])
						i += 2
						continue
					}
					u = append(u, text[i])
					i++
				}
				if at(text, i) != ')' {
					return "", nil, parseErrorf("Can't find end of a URL at byte offset %d", urlBegin)
				}
				url = string(u)
			}
			if id, ok := linkUserID(url); ok {
				e.Type = models.MessageEntityTypeTextMention
				e.User = &models.User{ID: id}
			} else if url = checkedLink(url); url != "" {
				e.Type = models.MessageEntityTypeTextLink
				e.URL = url
			} else {
				skip = true
			}
		case mdCustomEmoji:
			if at(text, i+1) != '(' {
				return "", nil, parseErrorf("Custom emoji entity must contain a tg://emoji URL")
			}
			i += 2
			urlBegin := i
			var u []byte
			for i < len(text) && text[i] != ')' {
				if text[i] == '\\' && at(text, i+1) > 0 && at(text, i+1) <= 126 {
					u = append(u, text[i+1])
					i += 2
					continue
				}
				u = append(u, text[i])
				i++
			}
			if at(text, i) != ')' {
				return "", nil, parseErrorf("Can't find end of a custom emoji URL at byte offset %d", urlBegin)
			}
			const prefix = "tg://emoji?id="
			id := strings.TrimPrefix(string(u), prefix)
			if n, err := strconv.ParseInt(id, 10, 64); err != nil || n == 0 || !strings.HasPrefix(string(u), prefix) {
				return "", nil, parseErrorf("Invalid custom emoji identifier specified")
			}
			e.Type = models.MessageEntityTypeCustomEmoji
			e.CustomEmojiID = id
		case mdBlockQuote:
			haveBlockquote = false
			out = append(out, text[i])
			offset++
			e.Type = models.MessageEntityTypeBlockquote
		}
		if !skip {
			e.Length = offset - top.offset
			entities = append(entities, e)
		}
		nested = nested[:len(nested)-1]
	}
	if haveBlockquote && len(nested) > 0 && nested[len(nested)-1].typ == mdBlockQuote {
		top := nested[len(nested)-1]
		if l := offset - top.offset; l != 0 {
			entities = append(entities, models.MessageEntity{Type: models.MessageEntityTypeBlockquote, Offset: top.offset, Length: l})
		}
		nested = nested[:len(nested)-1]
	}
	if len(nested) > 0 {
		top := nested[len(nested)-1]
		return "", nil, parseErrorf("Can't find end of %s entity at byte offset %d", top.typ, top.byteOffset)
	}
	sortEntities(entities)
	return string(out), entities, nil
}

// parseMarkdown is TDLib's parse_markdown (the legacy "Markdown" parse mode).
func parseMarkdown(text string) (string, []models.MessageEntity, error) {
	var (
		out      []byte
		entities []models.MessageEntity
		offset   int
	)
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\\' && (at(text, i+1) == '_' || at(text, i+1) == '*' || at(text, i+1) == '`' || at(text, i+1) == '[') {
			i++
			out = append(out, text[i])
			offset++
			continue
		}
		if c != '_' && c != '*' && c != '`' && c != '[' {
			offset += utf16Step(c)
			out = append(out, c)
			continue
		}
		beginPos := i
		endChar := c
		if c == '[' {
			endChar = ']'
		}
		i++
		isPre := false
		language := ""
		if c == '`' && at(text, i) == '`' && at(text, i+1) == '`' {
			i += 2
			isPre = true
			languageEnd := i
			for !isSpace(at(text, languageEnd)) && at(text, languageEnd) != '`' {
				languageEnd++
			}
			if i != languageEnd && languageEnd < len(text) && at(text, languageEnd) != '`' {
				language = text[i:languageEnd]
				i = languageEnd
			}
			if at(text, i) == '\n' || at(text, i) == '\r' {
				if (at(text, i+1) == '\n' || at(text, i+1) == '\r') && at(text, i) != at(text, i+1) {
					i += 2
				} else {
					i++
				}
			}
		}
		entityOffset := offset
		for i < len(text) && (text[i] != endChar || (isPre && !(at(text, i+1) == '`' && at(text, i+2) == '`'))) {
			offset += utf16Step(text[i])
			out = append(out, text[i])
			i++
		}
		if i == len(text) {
			return "", nil, parseErrorf("Can't find end of the entity starting at byte offset %d", beginPos)
		}
		if entityOffset != offset {
			e := models.MessageEntity{Offset: entityOffset, Length: offset - entityOffset}
			switch c {
			case '_':
				e.Type = models.MessageEntityTypeItalic
			case '*':
				e.Type = models.MessageEntityTypeBold
			case '[':
				var url string
				if at(text, i+1) != '(' {
					url = text[beginPos+1 : i]
				} else {
					i += 2
					var u []byte
					for i < len(text) && text[i] != ')' {
						u = append(u, text[i])
						i++
					}
					url = string(u)
				}
				if id, ok := linkUserID(url); ok {
					e.Type = models.MessageEntityTypeTextMention
					e.User = &models.User{ID: id}
				} else if url = checkedLink(url); url != "" {
					e.Type = models.MessageEntityTypeTextLink
					e.URL = url
				}
			case '`':
				if isPre {
					e.Type = models.MessageEntityTypePre
					e.Language = language
				} else {
					e.Type = models.MessageEntityTypeCode
				}
			}
			if e.Type != "" {
				entities = append(entities, e)
			}
		}
		if isPre {
			i += 2
		}
	}
	sortEntities(entities)
	return string(out), entities, nil
}

func sortEntities(entities []models.MessageEntity) {
	sort.SliceStable(entities, func(i, j int) bool {
		if entities[i].Offset != entities[j].Offset {
			return entities[i].Offset < entities[j].Offset
		}
		return entities[i].Length > entities[j].Length
	})
}

// trimFormatted strips leading and trailing white space like Telegram does,
// shifting and clipping the entities.
func trimFormatted(text string, entities []models.MessageEntity) (string, []models.MessageEntity) {
	trimmed := strings.TrimLeftFunc(text, unicode.IsSpace)
	lead := utf16Len(text[:len(text)-len(trimmed)])
	trimmed = strings.TrimRightFunc(trimmed, unicode.IsSpace)
	total := utf16Len(trimmed)
	var res []models.MessageEntity
	for _, e := range entities {
		start, end := e.Offset-lead, e.Offset+e.Length-lead
		start = max(start, 0)
		end = min(end, total)
		if end <= start {
			continue
		}
		e.Offset, e.Length = start, end-start
		res = append(res, e)
	}
	return trimmed, res
}

// isWordChar approximates TDLib's is_word_character.
func isWordChar(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsNumber(r)
}

func isASCIIWord(c byte) bool { return isAlnum(c) || c == '_' }

// detectEntities finds the bot_command and mention entities Telegram adds to a
// user's plain-text message (TDLib's match_bot_commands and match_mentions).
func detectEntities(text string) []models.MessageEntity {
	var entities []models.MessageEntity
	// offsetAt converts byte offsets to UTF-16 offsets; calls come in
	// increasing order, so it walks the text once.
	pos, off := 0, 0
	offsetAt := func(i int) int {
		off += utf16Len(text[pos:i])
		pos = i
		return off
	}
	prevRune := func(i int) rune {
		if i == 0 {
			return 0
		}
		r, _ := utf8.DecodeLastRuneInString(text[:i])
		return r
	}
	nextRune := func(i int) rune {
		if i >= len(text) {
			return 0
		}
		r, _ := utf8.DecodeRuneInString(text[i:])
		return r
	}
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '/':
			if p := prevRune(i); i > 0 && (isWordChar(p) || p == '/' || p == '<' || p == '>') {
				continue
			}
			j := i + 1
			for j < len(text) && isASCIIWord(text[j]) {
				j++
			}
			if n := j - i - 1; n < 1 || n > 64 {
				continue
			}
			end := j
			if j < len(text) && text[j] == '@' {
				k := j + 1
				for k < len(text) && isASCIIWord(text[k]) {
					k++
				}
				if n := k - j - 1; n < 3 || n > 32 {
					continue
				}
				end = k
			}
			if nr := nextRune(end); isWordChar(nr) || nr == '/' || nr == '<' || nr == '>' {
				continue
			}
			start := offsetAt(i)
			entities = append(entities, models.MessageEntity{
				Type: models.MessageEntityTypeBotCommand, Offset: start, Length: offsetAt(end) - start,
			})
			i = end - 1
		case '@':
			if i > 0 && isWordChar(prevRune(i)) {
				continue
			}
			j := i + 1
			for j < len(text) && isASCIIWord(text[j]) {
				j++
			}
			if n := j - i - 1; n < 2 || n > 32 || isWordChar(nextRune(j)) {
				continue
			}
			start := offsetAt(i)
			entities = append(entities, models.MessageEntity{
				Type: models.MessageEntityTypeMention, Offset: start, Length: offsetAt(j) - start,
			})
			i = j - 1
		}
	}
	return entities
}
