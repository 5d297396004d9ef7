package plantable

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

// ReadOptions choose what Open reads.
type ReadOptions struct {
	// Sheet picks one table: for xlsx the sheet of that name (an error names the sheets
	// that exist if it is missing); for docx "表2" picks the second table. "" reads all.
	Sheet string
}

// Open reads every table of the file at path, by its extension: .xlsx, .docx, .csv,
// .txt/.text or no extension (the flattened text form). Table.File is filepath.Base(path).
func Open(path string, opt ReadOptions) ([]*Table, error) {
	name := filepath.Base(path)
	// Refuse by extension before reading, so a wrong file type costs nothing.
	if _, err := readerFor(name); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return Read(name, data, opt)
}

// Read is Open for content already in memory (the bot receives files as bytes): name gives
// the extension and Table.File.
func Read(name string, data []byte, opt ReadOptions) ([]*Table, error) {
	name = filepath.Base(name)
	read, err := readerFor(name)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: the file is empty: %w", name, errEmpty)
	}
	tables, err := read(name, data, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for _, t := range tables {
		t.File = name
	}
	return tables, nil
}

var errEmpty = errors.New("nothing to import")

type readFunc func(name string, data []byte, opt ReadOptions) ([]*Table, error)

func readerFor(name string) (readFunc, error) {
	ext := strings.ToLower(filepath.Ext(name))
	switch ext {
	case ".xlsx", ".xlsm":
		return readXLSX, nil
	case ".docx":
		return readDOCX, nil
	case ".csv":
		return readCSV, nil
	case ".txt", ".text", "":
		return readText, nil
	case ".xls":
		return nil, fmt.Errorf("%s: .xls (Excel 97–2003) is not read: save as .xlsx", name)
	case ".doc":
		return nil, fmt.Errorf("%s: .doc (Word 97–2003) is not read: save as .docx", name)
	}
	return nil, fmt.Errorf("%s: unknown file type %s: want .xlsx, .docx, .csv or .txt", name, ext)
}

// pad gives every row of t as many cells as its widest row, so that a column index means
// the same column on every row. place names a padded cell.
func pad(t *Table, place func(line, col int) string) {
	width := 0
	for _, r := range t.Rows {
		width = max(width, len(r.Cells))
	}
	for i := range t.Rows {
		r := &t.Rows[i]
		for c := len(r.Cells); c < width; c++ {
			r.Cells = append(r.Cells, Cell{Place: place(r.Line, c+1)})
		}
	}
}

// rowColPlace is the Place of CSV and text cells: "第14行第5列".
func rowColPlace(line, col int) string {
	return fmt.Sprintf("第%d行第%d列", line, col)
}

// decodeText turns the bytes of a CSV or text file into UTF-8: a UTF-8 BOM is dropped, a
// UTF-16 BOM (Excel's "Unicode text" is UTF-16LE) decodes UTF-16, and bytes that are not
// valid UTF-8 are read as GB18030, the superset of the GBK that Excel on Chinese Windows
// writes.
func decodeText(data []byte) (string, error) {
	switch {
	case len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF:
		return string(data[3:]), nil
	case len(data) >= 2 && data[0] == 0xFF && data[1] == 0xFE:
		b, err := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(data)
		if err != nil {
			return "", fmt.Errorf("not valid UTF-16 text: %w", err)
		}
		return string(b), nil
	case len(data) >= 2 && data[0] == 0xFE && data[1] == 0xFF:
		b, err := unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder().Bytes(data)
		if err != nil {
			return "", fmt.Errorf("not valid UTF-16 text: %w", err)
		}
		return string(b), nil
	case utf8.Valid(data):
		return string(data), nil
	}
	b, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
	if err != nil {
		return "", fmt.Errorf("neither UTF-8 nor GBK/GB18030 text (%w): save it as UTF-8 and import again", err)
	}
	return string(b), nil
}
