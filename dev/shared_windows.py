#!/usr/bin/env python3
"""Count identical runs of N lines that two or more files share (the `duplicates` tool skips
YAML and Helm templates). Lines are compared stripped; blank lines are dropped.

  dev/shared_windows.py 'charts/*/templates/*'                 # charts' templates, N=5
  dev/shared_windows.py --normalize '"(postgres|synapse|well-known)\\.' 'charts/*/templates/*'
      (--normalize: text matching the regex counts as the same, e.g. per-chart helper prefixes)

Prints the number of distinct windows found in more than one file, then per pair of files how
many windows they share.
"""

from __future__ import annotations

import argparse
import itertools
import re
from collections import defaultdict
from pathlib import Path


def shared_windows(paths, size=5, normalize=None):
    """{window (tuple of lines): set of files holding it} for windows in more than one file."""
    seen = defaultdict(set)
    for path in paths:
        text = path.read_text()
        if normalize:
            text = re.sub(normalize, "\0", text)
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        for i in range(len(lines) - size + 1):
            seen[tuple(lines[i : i + size])].add(str(path))
    return {window: files for window, files in seen.items() if len(files) > 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("globs", nargs="+", help="file patterns, relative to the current directory")
    parser.add_argument("--size", type=int, default=5)
    parser.add_argument("--normalize", help="regex whose matches count as the same text")
    args = parser.parse_args()
    paths = sorted({p for g in args.globs for p in Path().glob(g) if p.is_file()})
    shared = shared_windows(paths, args.size, args.normalize)
    pairs = defaultdict(int)
    for files in shared.values():
        for a, b in itertools.combinations(sorted(files), 2):
            pairs[a, b] += 1
    print(f"{len(paths)} files, {len(shared)} windows of {args.size} lines shared by two or more")
    for (a, b), count in sorted(pairs.items(), key=lambda item: (-item[1], item[0])):
        print(f"{count:5d}  {a}  {b}")


if __name__ == "__main__":
    main()
