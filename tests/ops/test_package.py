# SPDX-License-Identifier: MIT
"""ops/package: `cpack -G DEB` from the test's build tree gives a Debian
package with the right metadata, files and dependencies.

The package is made from the build tree under test (a Release build for
distribution is the same rules with other compiler flags; docs/operations.md
has the commands), uncompressed, into a temporary directory. Checked:
- `dpkg-deb --info`: Package bucketbridge, Version = the project's version
  (`bucketbridge --version`), Architecture = `dpkg --print-architecture`,
  Maintainer, Section, Description; control scripts postinst, prerm and
  postrm present, executable, and accepted by `sh -n`;
- Depends names, for every shared library the packaged programs load
  (readelf NEEDED, resolved with `ldconfig -p`), the Debian package that
  owns it (`dpkg -S`), so nothing the binaries link is missing; and the
  libraries of the project's design are among them by package name
  (libwebsockets, cjson, libinotifytools, libs3, sqlite3, turbojpeg, expat,
  libssl); every package named in Depends is installed here (the build
  linked against it);
- `dpkg-deb --contents`: the programs in /usr/bin, the five man pages
  gzipped in /usr/share/man/man1, the unit in /usr/lib/systemd/system and
  /usr/share/bucketbridge, config.example.json, the docs, changelog.gz and
  the copyright file in /usr/share/doc/bucketbridge; every path under /usr;
  nothing from the build tree (tests, objects);
- extracted with `dpkg-deb -x` into a temporary root (nothing is installed
  on this system): the unit's ExecStart names /usr/bin/bucketbridge, the
  packaged daemon prints the version, `man -l` renders its page, and the
  programs are stripped.
Installing into a clean Debian 12 root is scripts/check-deb.sh (debootstrap
and a chroot; run by hand, docs/operations.md).

Usage: test_package.py --cpack CPACK --build-dir DIR --expect-bin NAME ...
Standard library only.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

ARGS = None
DESIGN_LIBS = ("libwebsockets", "libcjson", "libinotifytools", "libs3-", "libsqlite3",
               "libturbojpeg", "libexpat", "libssl")
MAN_PAGES = ("bucketbridge.1", "bucketbridge-cli.1", "bucketbridge-thumbnail.1",
             "bucketbridge-logger.1", "bucketbridge-tail.1")


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=600, **kw)


def control_field(info, name):
    m = re.search(r"^ " + re.escape(name) + r": (.*)$", info, re.M)
    return m.group(1).strip() if m else None


def depends_names(depends):
    """Package names of a Depends field (alternatives flattened)."""
    names = set()
    for clause in depends.split(","):
        for alt in clause.split("|"):
            alt = alt.strip()
            if alt:
                names.add(re.split(r"[\s(:]", alt, 1)[0])
    return names


def needed_libs(path):
    r = run(["readelf", "-d", path])
    if r.returncode != 0:
        raise AssertionError(f"readelf -d {path}: {r.stderr}")
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", r.stdout)


def ldconfig_paths():
    """soname -> path from `ldconfig -p`, the 64-bit entry when there are two."""
    r = run(["/sbin/ldconfig", "-p"])
    paths = {}
    for line in r.stdout.splitlines():
        m = re.match(r"\s+(\S+) \(([^)]*)\) => (\S+)", line)
        if m and (m.group(1) not in paths or "64" in m.group(2)):
            paths[m.group(1)] = m.group(3)
    return paths


def owning_packages(paths):
    """{library path: the Debian package that owns it}, one dpkg -S call
    (each path also tried with /lib <-> /usr/lib, for merged-/usr systems)."""
    tries = {}
    for path in paths:
        for p in {path, os.path.realpath(path)}:
            tries[p] = path
            if p.startswith("/usr/lib/"):
                tries[p[len("/usr"):]] = path
            elif p.startswith("/lib/"):
                tries["/usr" + p] = path
    r = run(["dpkg", "-S"] + sorted(tries))
    owners = {}
    for line in r.stdout.splitlines():
        pkg, _, file = line.partition(": ")
        if file in tries and "," not in pkg:
            owners.setdefault(tries[file], pkg.split(":")[0].strip())
    return owners


class PackageTest(unittest.TestCase):
    tmp = deb = info = contents = root = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="bb-ops-package-")
        out = os.path.join(cls.tmp, "out")
        os.mkdir(out)
        # uncompressed: compressing a sanitizer build's 9 MB took most of a
        # minute on a loaded 2-core machine; the contents are the same
        r = run([ARGS.cpack, "-G", "DEB", "--config",
                 os.path.join(ARGS.build_dir, "CPackConfig.cmake"), "-B", out,
                 "-D", "CPACK_DEBIAN_COMPRESSION_TYPE=none"])
        print(r.stdout + r.stderr, flush=True)
        if r.returncode != 0:
            raise AssertionError(f"cpack failed with {r.returncode}")
        debs = [f for f in os.listdir(out) if f.endswith(".deb")]
        if len(debs) != 1:
            raise AssertionError(f"want one .deb, got {debs}")
        cls.deb = os.path.join(out, debs[0])
        cls.info = run(["dpkg-deb", "--info", cls.deb]).stdout
        cls.contents = run(["dpkg-deb", "--contents", cls.deb]).stdout
        print(cls.info + cls.contents, flush=True)
        cls.root = os.path.join(cls.tmp, "root")
        r = run(["dpkg-deb", "-x", cls.deb, cls.root])
        if r.returncode != 0:
            raise AssertionError(f"dpkg-deb -x: {r.stderr}")

    @classmethod
    def tearDownClass(cls):
        if cls.tmp and os.environ.get("BB_OPS_KEEP") != "1":
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def paths(self):
        # "-rw-r--r-- root/root  123 2026-11-26 10:28 ./usr/bin/x" -> "/usr/bin/x"
        out = []
        for line in self.contents.splitlines():
            p = line.split()[-1]
            if p.startswith("./"):
                out.append(p[1:])
        return out

    def test_1_control(self):
        self.assertEqual(control_field(self.info, "Package"), "bucketbridge")
        v = run([os.path.join(self.root, "usr/bin/bucketbridge"), "--version"])
        self.assertEqual(v.returncode, 0, v.stderr)
        self.assertEqual(control_field(self.info, "Version"), v.stdout.split()[-1])
        arch = run(["dpkg", "--print-architecture"]).stdout.strip()
        self.assertEqual(control_field(self.info, "Architecture"), arch)
        for f in ("Maintainer", "Section", "Description", "Installed-Size"):
            self.assertTrue(control_field(self.info, f), f"no {f} field")
        ctl = os.path.join(self.tmp, "control")
        r = run(["dpkg-deb", "-e", self.deb, ctl])
        self.assertEqual(r.returncode, 0, r.stderr)
        for script in ("postinst", "prerm", "postrm"):
            p = os.path.join(ctl, script)
            self.assertTrue(os.access(p, os.X_OK), f"{script} missing or not executable")
            r = run(["sh", "-n", p])
            self.assertEqual(r.returncode, 0, f"{script}: {r.stderr}")
        with open(os.path.join(ctl, "postinst")) as f:
            self.assertIn("useradd --system", f.read(), "postinst creates no system user")

    def test_2_depends(self):
        depends = control_field(self.info, "Depends")
        self.assertTrue(depends, "no Depends field")
        names = depends_names(depends)
        libpaths = ldconfig_paths()
        needs = {}  # library path -> programs that load it
        for name in ARGS.expect_bin:
            exe = os.path.join(self.root, "usr/bin", name)
            for lib in needed_libs(exe):
                path = libpaths.get(lib)
                self.assertIsNotNone(path, f"{name} needs {lib}, which ldconfig does not know")
                needs.setdefault(path, set()).add(f"{name}:{lib}")
        owners = owning_packages(needs)
        wanted = {}
        for path, who in needs.items():
            self.assertIn(path, owners, f"no Debian package owns {path} ({sorted(who)})")
            wanted.setdefault(owners[path], set()).update(who)
        for pkg, who in sorted(wanted.items()):
            self.assertIn(pkg, names, f"Depends lacks {pkg}, needed by {sorted(who)}")
        for prefix in DESIGN_LIBS:
            self.assertTrue(any(n.startswith(prefix) for n in names),
                            f"Depends has no {prefix}* package: {depends}")
        r = run(["dpkg-query", "-W", "-f=${Package} ${Status}\\n"] + sorted(names))
        installed = {ln.split()[0] for ln in r.stdout.splitlines()
                     if ln.endswith("install ok installed")}
        self.assertEqual(names - installed, set(), "Depends names packages not installed here")

    def test_3_contents(self):
        paths = self.paths()
        files = set(paths)
        for name in ARGS.expect_bin:
            self.assertIn(f"/usr/bin/{name}", files)
        for page in MAN_PAGES:  # gzipped, as Debian wants (BBPackagePreBuild.cmake)
            self.assertIn(f"/usr/share/man/man1/{page}.gz", files)
            self.assertNotIn(f"/usr/share/man/man1/{page}", files)
        for p in ("/usr/lib/systemd/system/bucketbridge.service",
                  "/usr/share/bucketbridge/bucketbridge.service",
                  "/usr/share/bucketbridge/config.example.json",
                  "/usr/share/doc/bucketbridge/copyright",
                  "/usr/share/doc/bucketbridge/changelog.gz",
                  "/usr/share/doc/bucketbridge/README.md",
                  "/usr/share/doc/bucketbridge/configuration.md",
                  "/usr/share/doc/bucketbridge/operations.md"):
            self.assertIn(p, files)
        for p in paths:
            self.assertTrue(p.startswith("/usr/"), f"{p} is outside /usr")
            self.assertNotIn("/usr/local", p)
            base = os.path.basename(p.rstrip("/"))
            self.assertFalse(p.endswith((".o", ".a")) or "/tests/" in p or base.startswith("test_"),
                             f"{p} does not belong")
        bins = [p for p in paths if p.startswith("/usr/bin/") and not p.endswith("/")]
        self.assertEqual(sorted(bins), sorted(f"/usr/bin/{n}" for n in ARGS.expect_bin))

    def test_4_extracted(self):
        unit = os.path.join(self.root, "usr/lib/systemd/system/bucketbridge.service")
        with open(unit) as f:
            text = f.read()
        exec_start = [ln for ln in text.splitlines() if ln.startswith("ExecStart=")]
        self.assertEqual(len(exec_start), 1)
        self.assertIn(" /usr/bin/bucketbridge ", exec_start[0])
        self.assertNotIn(self.tmp, text)
        self.assertNotIn(ARGS.build_dir, text)
        man = shutil.which("man")
        if man:
            page = os.path.join(self.root, "usr/share/man/man1/bucketbridge.1.gz")
            r = run([man, "-l", page], env=dict(os.environ, MANPAGER="cat", PAGER="cat",
                                                MANWIDTH="100", LC_ALL="C.UTF-8"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("local S3 and EventBridge emulator", r.stdout)
        # stripped (CPACK_STRIP_FILES): no symbol table left
        for name in ARGS.expect_bin:
            r = run(["readelf", "-S", os.path.join(self.root, "usr/bin", name)])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotIn(".symtab", r.stdout, f"{name} is not stripped")


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpack", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--expect-bin", nargs="+", required=True)
    ARGS, rest = ap.parse_known_args()
    for tool in ("dpkg-deb", "dpkg-shlibdeps", "readelf"):
        if shutil.which(tool) is None:
            print(f"SKIP: {tool} is not installed (apt-get install dpkg-dev binutils)")
            return 77
    prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    return 0 if prog.result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
