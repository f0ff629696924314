#!/usr/bin/env python3
"""Fail when src/ calls libc's printf family, stdio or another function
that would bring them back into the static binary.

    python3 tests/unit/check_no_stdio.py [src]     (make unit runs it)

src/fmt.c replaces them (fmt_snprintf, fmt_print, fmt_write, fmt_strtoll
...): musl's printf costs ~10 KB (printf_core, fmt_fp for floats we never
print), its FILE code a few more, and these pull them in:

  printf family   printf_core, fmt_fp, the FILE writers
  stdio streams   FILE, fopen/fgets/fwrite..., stdout/stderr/stdin
  strto(u)l(l)    musl scans through a FILE (__intscan, __shgetc, __uflow)
  strtod/atof     the 6 KB float scanner on top
  inet_ntop       formats with snprintf (netaddr_peer instead)

Comments and string literals are skipped; each finding is printed as
file:line: name, and the exit status is 1 when there is one.
"""
import os
import re
import sys

BANNED = """
    printf fprintf sprintf snprintf vprintf vfprintf vsprintf vsnprintf
    dprintf vdprintf asprintf vasprintf
    puts fputs fputc putc putchar fwrite fread fflush fopen fdopen freopen
    fclose fgets fgetc getc getchar ungetc perror setvbuf setbuf fileno
    scanf fscanf sscanf vscanf vfscanf vsscanf getline getdelim popen
    tmpfile stdout stderr stdin FILE
    strtol strtoll strtoul strtoull strtoimax strtoumax strtod strtof
    strtold atof inet_ntop
""".split()

TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# comments, string and character literals (kept: their newlines)
SKIP = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|'
                  r"'(?:\\.|[^'\\\n])*'", re.S)


# the format attribute names printf as an archetype, not a call
ARCHETYPE = re.compile(r"(__)?format(__)?\s*\(\s*(__)?printf(__)?\b")


def blank(m):
    return re.sub(r"[^\n]", " ", m.group(0))


def check(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        text = ARCHETYPE.sub(blank, SKIP.sub(blank, f.read()))
    found = []
    for lineno, line in enumerate(text.split("\n"), 1):
        if line.lstrip().startswith("#include"):
            continue
        for m in TOKEN.finditer(line):
            if m.group(0) in BANNED:
                found.append("%s:%d: %s" % (path, lineno, m.group(0)))
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "src"
    found = []
    for name in sorted(os.listdir(root)):
        if name.endswith((".c", ".h")):
            found += check(os.path.join(root, name))
    for f in found:
        print(f)
    if found:
        print("check_no_stdio: %d use(s) of libc's printf/stdio in %s "
              "(use fmt.h)" % (len(found), root))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
