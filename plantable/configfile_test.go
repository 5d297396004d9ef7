package plantable

import (
	"os"
	"strings"
	"testing"
)

func noEnv(string) (string, bool) { return "", false }

// TestAddDepartmentsShipped: the shipped config.yaml with two new names is the same file byte
// for byte but for two lines after the last department.
func TestAddDepartmentsShipped(t *testing.T) {
	data, err := os.ReadFile("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := AddDepartments("config.yaml", data, []string{"市文旅局", "九江学院"}, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	last := "  九江市高级技工学校:       { chat: 0 }\n"
	want := strings.Replace(string(data), last, last+"  市文旅局: { chat: 0 }\n  九江学院: { chat: 0 }\n", 1)
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestAddDepartments(t *testing.T) {
	tests := []struct {
		name, in, want, wantErr string
	}{
		{"block with comments",
			"timezone: Asia/Shanghai\n# 部门\ndepartments:\n  # 市直\n  市教育局: { chat: 0 }   # 牵头\n\n  # 县区\n  湖口县人民政府:\n    chat: 12\n\n# 分组\ngroups: {}\n",
			"timezone: Asia/Shanghai\n# 部门\ndepartments:\n  # 市直\n  市教育局: { chat: 0 }   # 牵头\n\n  # 县区\n  湖口县人民政府:\n    chat: 12\n  新部门: { chat: 0 }\n\n# 分组\ngroups: {}\n", ""},
		{"four-space indent, last in file, no final newline",
			"departments:\n    市教育局: { chat: 0 }",
			"departments:\n    市教育局: { chat: 0 }\n    新部门: { chat: 0 }\n", ""},
		{"CRLF",
			"departments:\r\n  市教育局: { chat: 0 }\r\n",
			"departments:\r\n  市教育局: { chat: 0 }\r\n  新部门: { chat: 0 }\r\n", ""},
		{"no departments key",
			"timezone: Asia/Shanghai\n",
			"timezone: Asia/Shanghai\n\ndepartments:\n  新部门: { chat: 0 }\n", ""},
		{"flow style refused",
			"departments: {市教育局: {chat: 0}}\n", "",
			"config.yaml:1: departments is written in flow style ({…}): add 新部门 by hand, one per line, or write the mapping as a block"},
		{"invalid config refused",
			"timezone: Mars/Olympus\ndepartments:\n  市教育局: { chat: 0 }\n", "",
			"config.yaml would not be valid with 新部门 added: config.yaml:1: timezone: unknown time zone \"Mars/Olympus\" (want an IANA name such as Asia/Shanghai)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AddDepartments("config.yaml", []byte(tt.in), []string{"新部门"}, noEnv)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("got error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}
