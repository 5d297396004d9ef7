#!/bin/sh
# subset.sh regenerates chart/font/cjk-subset.otf, the font the digest chart draws with:
# Noto Sans CJK SC Regular (SIL OFL 1.1, Debian's fonts-noto-cjk) cut down to GB2312 (the
# 6,763 common hanzi and its symbols), ASCII, CJK and full-width punctuation, and every
# character of tasks.yaml, config.yaml and the chart's own words, so that plans imported later
# still render. Needs Debian's fonts-noto-cjk and python3-fonttools (installed when missing,
# as root). Run from anywhere: sh chart/font/subset.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
src=/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
py=/usr/bin/python3 # Debian's, which has python3-fonttools; not a pyenv one
if [ ! -f "$src" ] || ! "$py" -c 'import fontTools' 2>/dev/null; then
	apt-get update && apt-get install -y fonts-noto-cjk python3-fonttools
fi
chars=$(mktemp)
trap 'rm -f "$chars"' EXIT
"$py" - "$root" >"$chars" <<'PY'
import glob, os, sys
root = sys.argv[1]
cs = set()
# GB2312: rows 0xA1-0xF7, cells 0xA1-0xFE; the holes do not decode.
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            cs.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
cs.update(chr(c) for c in range(0x20, 0x7F))             # ASCII
cs.update(chr(c) for c in range(0x3000, 0x3040))         # CJK punctuation
cs.update(chr(c) for c in range(0xFF01, 0xFF5F))         # full-width forms
cs.update(chr(c) for c in range(0x2010, 0x2040))         # dashes, quotes, …, ‰
cs.update(chr(c) for c in range(0x2460, 0x2474))         # ①-⑳
cs.update("·×÷°±№€¥￥")
files = [os.path.join(root, f) for f in ("tasks.yaml", "config.yaml", "config.example.yaml")]
files += [f for f in glob.glob(os.path.join(root, "chart", "*.go")) if not f.endswith("_test.go")]
for f in files:
    if os.path.exists(f):
        with open(f, encoding="utf-8") as fh:
            cs.update(c for c in fh.read() if c.isprintable())
sys.stdout.write("".join(sorted(cs)))
PY
"$py" -m fontTools.subset "$src" --font-number=2 --text-file="$chars" \
	--layout-features='kern,palt,vert' --no-hinting \
	--name-IDs='*' --name-languages='*' --output-file="$here/cjk-subset.otf"
# The licence travels with the font (OFL condition 2): the font's own copyright and licence
# notices, then the licence text as Debian ships it with the font.
"$py" - "$here/cjk-subset.otf" /usr/share/doc/fonts-noto-cjk/copyright >"$here/OFL.txt" <<'PY'
import re, sys
from fontTools.ttLib import TTFont
name = TTFont(sys.argv[1])["name"]
for i in (0, 7, 13):
    print(name.getDebugName(i))
print()
print("chart/font/cjk-subset.otf is a Modified Version: a subset of Noto Sans CJK SC Regular")
print("(Debian's fonts-noto-cjk), made by chart/font/subset.sh.")
print()
# The stand-alone "License: SIL-1.1" paragraph of the Debian copyright file, unfolded.
text = open(sys.argv[2], encoding="utf-8").read()
m = re.search(r"^License: SIL-1\.1\n((?: .*\n)+)", text, re.M)
for line in m.group(1).splitlines():
    line = line[1:]
    print("" if line == "." else line)
PY
ls -l "$here/cjk-subset.otf"
