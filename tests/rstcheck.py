#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check reStructuredText documents as the kernel's Sphinx build would.

Usage: [KERNELDOC=SRCTREE/scripts/kernel-doc] tests/rstcheck.py FILE.rst...

Each file is parsed with docutils; every message of level WARNING or above
is a finding. The two Sphinx directives that pcipass's documents use are
replaced by stand-ins:

  kernel-doc  With KERNELDOC set, runs that kernel-doc script on the source
              file the directive names (relative to the top of the tree)
              for the identifiers or DOC: section it names, and reports
              the script's warnings and the identifiers it did not
              document. Without KERNELDOC, only checks that the source
              file exists.
  toctree     Checks that every entry names an existing document.

Every file is checked, even after a finding. Exit status: 0 when no file
has a finding, 1 when one has, 2 for a usage error.
"""

import glob
import io
import os
import re
import subprocess
import sys

from docutils.core import publish_doctree
from docutils.parsers.rst import Directive, directives

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC_ROOT = os.path.join(TOP, "Documentation")
KERNELDOC = os.environ.get("KERNELDOC")


class KernelDoc(Directive):
    """The kernel-doc directive, without its output."""

    required_arguments = 1
    optional_arguments = 4
    option_spec = {name: directives.unchanged for name in (
        "doc", "export", "internal", "identifiers", "no-identifiers",
        "functions")}

    def identifiers(self):
        opts = self.options
        return opts.get("identifiers", opts.get("functions", "")).split()

    def kerneldoc_args(self):
        opts = self.options
        if "doc" in opts:
            return ["-function", opts["doc"]]
        args = []
        if "export" in opts:
            args.append("-export")
        if "internal" in opts:
            args.append("-internal")
        for name in self.identifiers():
            args += ["-function", name]
        for name in opts.get("no-identifiers", "").split():
            args += ["-nosymbol", name]
        return args

    def run(self):
        source = self.arguments[0]
        if not os.path.isfile(os.path.join(TOP, source)):
            raise self.error("kernel-doc: no such file: " + source)
        if not KERNELDOC:
            return []
        result = subprocess.run(
            [KERNELDOC, "-rst"] + self.kerneldoc_args() + [source],
            cwd=TOP, capture_output=True, text=True, check=False)
        problems = [line for line in result.stderr.splitlines()
                    if "warning:" in line or "error:" in line]
        if result.returncode and not problems:
            problems.append("kernel-doc exited with status %d"
                            % result.returncode)
        # kernel-doc warns only when none of the identifiers is found.
        for name in self.identifiers():
            if not re.search(r"\b%s\b" % re.escape(name), result.stdout):
                problems.append("kernel-doc: %s: '%s' not documented"
                                % (source, name))
        if problems:
            raise self.warning("\n".join(problems))
        return []


class TocTree(Directive):
    """The toctree directive: its entries must exist."""

    has_content = True
    option_spec = {name: directives.unchanged for name in (
        "maxdepth", "caption", "name", "numbered", "hidden", "glob",
        "titlesonly", "includehidden", "reversed")}

    def entry_path(self, entry):
        # "Title <target>" names target; "/x" is relative to Documentation/.
        if entry.endswith(">") and "<" in entry:
            entry = entry[entry.rindex("<") + 1:-1]
        if entry.startswith("/"):
            return os.path.join(DOC_ROOT, entry[1:])
        source = self.state.document.current_source
        return os.path.join(os.path.dirname(os.path.abspath(source)), entry)

    def run(self):
        missing = []
        for entry in (line.strip() for line in self.content):
            if not entry or entry == "self" or "://" in entry:
                continue
            path = self.entry_path(entry) + ".rst"
            if "glob" in self.options and glob.has_magic(path):
                found = glob.glob(path)
            else:
                found = os.path.isfile(path)
            if not found:
                missing.append(entry)
        if missing:
            raise self.warning("toctree contains reference to nonexisting "
                               "document(s): " + ", ".join(missing))
        return []


def check(path):
    """Parse one document; return its findings as text ("" when none)."""
    stream = io.StringIO()
    settings = {
        "report_level": 2,      # report warnings and above...
        "halt_level": 5,        # ...and never stop at one
        "warning_stream": stream,
    }
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        publish_doctree(text, source_path=path, settings_overrides=settings)
    except (OSError, UnicodeDecodeError) as err:
        stream.write("%s: %s\n" % (path, err))
    return stream.getvalue()


def main(paths):
    if not paths:
        sys.stderr.write(__doc__)
        return 2
    if KERNELDOC and not os.access(KERNELDOC, os.X_OK):
        sys.stderr.write("rstcheck: KERNELDOC=%s is not executable\n"
                         % KERNELDOC)
        return 2
    directives.register_directive("kernel-doc", KernelDoc)
    directives.register_directive("toctree", TocTree)
    status = 0
    for path in paths:
        findings = check(path)
        if findings:
            sys.stdout.write(findings)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
