// Package plantable turns a work plan written as a table — a sheet of an .xlsx workbook, a
// table of a .docx document, a CSV file, or the flattened text the shipped plan came from —
// into the tasks of tasks.yaml, and takes in the next revision of the same table without
// moving recorded updates off their tasks.
//
// It works in three steps, one file each:
//   - the readers (xlsx.go, docx.go, csv.go, text.go) turn a file into Tables of Cells, as
//     written, with merges marked;
//   - Interpret (interpret.go) finds the header row by its words, reads every row below it
//     into a Task, and reports every problem at once with its place;
//   - Revise (revise.go) matches the imported tasks against an existing tasks.yaml and keeps
//     their ids, and Write (write.go) writes tasks.yaml.
package plantable

// A Table is one table of a source file, row by row, as the reader found it.
type Table struct {
	File  string // the file's base name, as problems name it: "plan.xlsx"
	Sheet string // the xlsx sheet ("任务清单"), "表1" for a docx's first table, "" for CSV and text
	Rows  []Row
}

// A Row is one row of a table.
type Row struct {
	Line  int // 1-based: the sheet's row number, the CSV record's line, the text file's line
	Cells []Cell
}

// A Cell is one cell of a row, before any normalisation.
type Cell struct {
	Text string
	// Merged marks a cell that a merge covers: an xlsx merged range or a docx w:vMerge
	// continuation below its first row (Text is then empty and the value is the one above),
	// or a docx w:gridSpan / an xlsx range to the right of its first column (Text empty, the
	// value is the one to the left; Spanned is set too).
	Merged  bool
	Spanned bool
	// Place names the cell in problems, without the file name: "任务清单!E14" for xlsx,
	// "表1 第14行第5列" for docx, "第14行第5列" for CSV and text.
	Place string
}

// A Task is one task read from a table, in the terms of tasks.yaml.
type Task struct {
	ID          int      // 序号
	Area        string   // 重点工作
	Goal        string   // 任务目标
	Metric      string   // 量化指标
	Departments []string // 责任部门, the lead first, each name as written (after splitting)
	Deadline    string   // 完成时限 in a form tasks.yaml reads: 2022年, 2022年6月, 2022年6月30日
	Recurrence  string   // "" or "yearly" (每年…); for a standing task, see Options.StandingReview
	Note        string   // 备注 and note rows attached to the task, "" if none
	Place       string   // where the task's row is: "plan.xlsx 任务清单!A14"
}
