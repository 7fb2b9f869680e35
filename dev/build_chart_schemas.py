#!/usr/bin/env python3
"""Build each chart's values.schema.json from its own part and the shared definitions.

Sources (charts/README.md):
  charts/schema/<chart>.json          the chart's own part: everything but "definitions"
  charts/schema/definitions/<x>.json  one shared definition, used as {"$ref": "#/definitions/<x>"}
Output: charts/<chart>/values.schema.json with the part, a "$comment" naming the sources, and
"definitions" holding exactly the definitions the part uses (directly or through another
definition). The built files are committed because Helm reads them from the chart directory.

  dev/build_chart_schemas.py           rebuild every chart's schema
  dev/build_chart_schemas.py --check   exit 1 naming every built file that is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

CHARTS_DIR = Path(__file__).resolve().parents[1] / "charts"
REF_PREFIX = "#/definitions/"


def _refs(node) -> set[str]:
    """Names of the definitions a JSON node refers to with "$ref"."""
    if isinstance(node, dict):
        found = {node["$ref"].removeprefix(REF_PREFIX)} if "$ref" in node else set()
        return found.union(*(_refs(value) for key, value in node.items() if key != "$ref"))
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node))
    return set()


def _load(path: Path):
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise SystemExit(f"{path}: not JSON: {error}") from None


def build(charts_dir: Path, chart: str) -> str:
    """The text of charts/<chart>/values.schema.json as built from its sources."""
    source = charts_dir / "schema"
    part = _load(source / f"{chart}.json")
    if "definitions" in part:
        raise SystemExit(f"{source / chart}.json: shared definitions belong in {source / 'definitions'}/")
    definitions: dict = {}
    wanted = _refs(part)
    while wanted:
        name = wanted.pop()
        path = source / "definitions" / f"{name}.json"
        if not path.is_file():
            raise SystemExit(f"{chart}: $ref {REF_PREFIX}{name} has no {path}")
        definitions[name] = _load(path)
        wanted |= _refs(definitions[name]) - definitions.keys()
    comment = (
        f"Built by dev/build_chart_schemas.py from charts/schema/{chart}.json and "
        "charts/schema/definitions/: edit those, then run the script."
    )
    schema = {"$schema": part.pop("$schema"), "$comment": comment, **part}
    schema["definitions"] = dict(sorted(definitions.items()))
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def charts(charts_dir: Path) -> list[str]:
    return sorted(p.stem for p in (charts_dir / "schema").glob("*.json"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale built files")
    parser.add_argument("--charts-dir", type=Path, default=CHARTS_DIR, help="default: the repository's")
    args = parser.parse_args(argv)
    stale = []
    for chart in charts(args.charts_dir):
        target = args.charts_dir / chart / "values.schema.json"
        text = build(args.charts_dir, chart)
        if target.is_file() and target.read_text() == text:
            continue
        if args.check:
            stale.append(str(target))
        else:
            target.write_text(text)
            print(f"built {target}")
    if stale:
        print("stale (run dev/build_chart_schemas.py):\n  " + "\n  ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
