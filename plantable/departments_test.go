package plantable

import (
	"slices"
	"strings"
	"testing"
)

func TestSplitDepartments(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"市教育局", []string{"市教育局"}},
		{"各县（市、区）人民政府", []string{"各县（市、区）人民政府"}},
		{"市教育局，各县（市、区）人民政府", []string{"市教育局", "各县（市、区）人民政府"}},
		{"湖口县、德安县、共青城市、柴桑区人民政府", []string{"湖口县人民政府", "德安县人民政府", "共青城市人民政府", "柴桑区人民政府"}},
		{"庐山市、都昌县人民政府", []string{"庐山市人民政府", "都昌县人民政府"}},
		{"市教育局、市人社局，各有关学校", []string{"市教育局", "市人社局", "各有关学校"}},
		// each separator
		{"市教育局,市人社局;市财政局；市国资委/市商务局\n市工商联\r\n市总工会", []string{"市教育局", "市人社局", "市财政局", "市国资委", "市商务局", "市工商联", "市总工会"}},
		{" 市教育局 、  市人社局 ", []string{"市教育局", "市人社局"}},
		// never inside brackets, of any kind
		{"市教育局(牵头,负总责)、市人社局【配合；协助】", []string{"市教育局(牵头,负总责)", "市人社局【配合；协助】"}},
		// no distributing onto names with a suffix of their own, only onto the bare places
		// right before the name that has one
		{"市教育局、湖口县、德安县人民政府", []string{"市教育局", "湖口县人民政府", "德安县人民政府"}},
		{"湖口县人民政府、德安县教育局", []string{"湖口县人民政府", "德安县教育局"}},
		{"湖口县、市教育局、德安县人民政府", []string{"湖口县", "市教育局", "德安县人民政府"}},
		{"湖口县、德安县住房和城乡建设局", []string{"湖口县住房和城乡建设局", "德安县住房和城乡建设局"}},
		{"湖口县、德安县", []string{"湖口县", "德安县"}},
		{"湖口县、各县（市、区）人民政府", []string{"湖口县", "各县（市、区）人民政府"}},
		// duplicates removed, the first kept first
		{"市教育局、市人社局、市教育局", []string{"市教育局", "市人社局"}},
		{"湖口县、湖口县人民政府", []string{"湖口县人民政府"}},
		// stray brackets
		{"市教育局）、市人社局", []string{"市教育局）", "市人社局"}},
		{"市教育局（牵头、市人社局", []string{"市教育局（牵头、市人社局"}},
		// a suffix that ends as a place would make a bare place again (found by FuzzDepartments)
		{"城市、桑区县", []string{"城市", "桑区县"}},
		{"、，；", nil},
		{"", nil},
	}
	for _, tt := range tests {
		got := splitDepartments(tt.in)
		if !slices.Equal(got, tt.want) {
			t.Errorf("splitDepartments(%q): got %q, want %q", tt.in, got, tt.want)
		}
		if again := splitDepartments(strings.Join(got, "、")); !slices.Equal(again, got) {
			t.Errorf("splitDepartments(%q) is not stable: %q split again is %q", tt.in, got, again)
		}
	}
}
