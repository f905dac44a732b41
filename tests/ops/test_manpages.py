# SPDX-License-Identifier: MIT
"""ops/manpages: the hand-written man pages in docs/man/ render without a
warning and document every option the programs' --help prints, so the two
cannot drift apart.

For each PAGE=PROGRAM pair:
- `groff -man -Tutf8 -ww -z PAGE` prints nothing and exits 0 (all warnings
  on, output discarded);
- the .TH line names the page's file (BUCKETBRIDGE-CLI for
  bucketbridge-cli.1, section 1) and its version string ends with the
  version `PROGRAM --version` prints (when the program has --version);
- every option in `PROGRAM --help` (and, for a program given with
  --subcommands, in `PROGRAM SUB --help` for each of them) appears as a
  whole word in the page rendered as text: every `--long-option` anywhere
  in the help, and a short `-x` that starts a line of the help.
The page is rendered with hyphenation off and a long line length, so an
option is never split across lines. With --config-doc, the page given by
--config-page must also name every top-level key of the "## Keys" table of
docs/configuration.md (its CONFIGURATION section).

Usage: test_manpages.py --groff GROFF --page PAGE=PROGRAM [...]
       [--subcommands PROGRAM_NAME "events wait" "dlq list" ...]
       [--config-doc docs/configuration.md --config-page bucketbridge.1]
Standard library only.
"""

import argparse
import os
import re
import subprocess
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*m")
LONG_OPT = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
SHORT_OPT_AT_LINE_START = re.compile(r"^\s+(-[A-Za-z])\b", re.M)


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, **kw)


def options_in(help_text):
    opts = set(LONG_OPT.findall(help_text))
    opts.update(SHORT_OPT_AT_LINE_START.findall(help_text))
    return opts


def check_page(groff, page, program, subcommands):
    problems = []
    name = os.path.basename(page)
    base, section = name.rsplit(".", 1)

    r = run([groff, "-man", "-Tutf8", "-ww", "-z", page])
    if r.returncode != 0 or r.stderr.strip() or r.stdout.strip():
        problems.append(f"{name}: groff -ww -z: rc={r.returncode} {r.stdout}{r.stderr}")

    with open(page, encoding="utf-8") as f:
        source = f.read()
    th = re.search(r'^\.TH\s+(\S+)\s+(\S+)\s+\S+\s+"([^"]*)"', source, re.M)
    if th is None:
        problems.append(f"{name}: no .TH line with a version string")
    else:
        want_title = base.upper().replace("-", "\\-")
        if th.group(1) != want_title or th.group(2) != section:
            problems.append(f"{name}: .TH {th.group(1)} {th.group(2)}, want {want_title} {section}")
        v = run([program, "--version"])
        if v.returncode == 0 and v.stdout.strip():
            if th.group(3).split()[-1] != v.stdout.split()[-1]:
                problems.append(f'{name}: .TH says "{th.group(3)}", '
                                f'{os.path.basename(program)} --version says "{v.stdout.strip()}"')

    r = run([groff, "-man", "-Tutf8", "-rHY=0", "-rLL=250n", "-P-cbou", page])
    if r.returncode != 0:
        problems.append(f"{name}: rendering failed: {r.stderr}")
        return problems, set()
    text = ANSI.sub("", r.stdout)

    helps = [[]] + [s.split() for s in subcommands]
    wanted = set()
    for sub in helps:
        h = run([program] + sub + ["--help"])
        if h.returncode != 0:
            problems.append(f"{' '.join([os.path.basename(program)] + sub)} --help: "
                            f"rc={h.returncode} {h.stderr}")
            continue
        opts = options_in(h.stdout + h.stderr)
        if not opts:
            problems.append(f"{' '.join([os.path.basename(program)] + sub)} --help: no options found")
        wanted |= opts
    for opt in sorted(wanted):
        if not re.search(r"(?<![\w-])" + re.escape(opt) + r"(?![\w-])", text):
            problems.append(f"{name}: {opt} (printed by --help) is not in the page")
    return problems, wanted


def config_keys(doc):
    """The first column of the table under "## Keys" in configuration.md."""
    keys = []
    with open(doc, encoding="utf-8") as f:
        section = False
        for line in f:
            if line.startswith("## "):
                section = line.strip() == "## Keys"
                continue
            if line.startswith("### "):
                section = False
            m = re.match(r"\|\s*`([a-z_]+)`\s*\|", line) if section else None
            if m:
                keys.append(m.group(1))
    return keys


def rendered(groff, page):
    r = run([groff, "-man", "-Tutf8", "-rHY=0", "-rLL=250n", "-P-cbou", page])
    return ANSI.sub("", r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--groff", required=True)
    ap.add_argument("--page", action="append", required=True, metavar="PAGE=PROGRAM")
    ap.add_argument("--subcommands", nargs="+", action="append", default=[],
                    metavar="ARG", help="PROGRAM_NAME then its subcommands")
    ap.add_argument("--config-doc")
    ap.add_argument("--config-page")
    args = ap.parse_args()
    subs = {s[0]: s[1:] for s in args.subcommands}

    failed = 0
    for spec in args.page:
        page, program = spec.split("=", 1)
        problems, opts = check_page(args.groff, page, program,
                                    subs.get(os.path.basename(program), []))
        if problems:
            failed += 1
            for p in problems:
                print("FAIL:", p)
        else:
            print(f"ok: {os.path.basename(page)}: renders cleanly, all {len(opts)} options "
                  f"of --help documented: {' '.join(sorted(opts))}")
    if args.config_doc:
        keys = config_keys(args.config_doc)
        text = rendered(args.groff, args.config_page)
        # the CONFIGURATION section: from its heading to the next one
        m = re.search(r"^CONFIGURATION\n(.*?)^[A-Z]", text, re.M | re.S)
        section = m.group(1) if m else ""
        missing = [k for k in keys
                   if not re.search(r"(?<![\w.])" + k + r"(?![\w:/])", section)]
        if len(keys) < 10:
            print(f"FAIL: only {len(keys)} keys found in {args.config_doc}'s Keys table")
            failed += 1
        elif missing:
            print(f"FAIL: {os.path.basename(args.config_page)} does not name the configuration "
                  f"keys {' '.join(missing)} (docs/configuration.md)")
            failed += 1
        else:
            print(f"ok: {os.path.basename(args.config_page)} names all {len(keys)} top-level "
                  f"configuration keys")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
