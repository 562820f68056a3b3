#!/usr/bin/env python3
"""Copy GOV.UK Frontend from node_modules into build/govuk/govuk, where Django serves it as /static/govuk/.

Plain Python, no Django: `npm ci` first, then `python scripts/build_assets.py` (or `make assets`).

The stylesheet asks for its fonts and images at /assets/...; the copy points those URLs at the
assets folder beside it, so they resolve under /static/govuk/assets/.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "node_modules" / "govuk-frontend"
SOURCE = PACKAGE / "dist" / "govuk"
TARGET = ROOT / "build" / "govuk" / "govuk"
FILES = ["govuk-frontend.min.css", "govuk-frontend.min.js"]


def fail(message: str) -> None:
    print(f"build_assets: {message}", file=sys.stderr)
    raise SystemExit(1)


def main() -> int:
    if not (ROOT / "node_modules").is_dir():
        fail("node_modules is missing: run npm ci (in the project root) first")
    if not SOURCE.is_dir():
        fail(f"{SOURCE.relative_to(ROOT)} is missing: govuk-frontend is not installed; run npm ci")
    missing = [name for name in FILES + ["assets"] if not (SOURCE / name).exists()]
    if missing:
        fail(f"govuk-frontend has no {', '.join(missing)} under {SOURCE.relative_to(ROOT)}; run npm ci")

    if TARGET.exists():
        shutil.rmtree(TARGET)
    TARGET.mkdir(parents=True)
    for name in FILES:
        shutil.copy2(SOURCE / name, TARGET / name)
    # fonts/, images/ and, from govuk-frontend 5.10, rebrand/
    shutil.copytree(SOURCE / "assets", TARGET / "assets")

    css = TARGET / "govuk-frontend.min.css"
    text = css.read_text(encoding="utf-8")
    css.write_text(text.replace("url(/assets/", "url(assets/"), encoding="utf-8")

    version = "unknown"
    package_json = PACKAGE / "package.json"
    if package_json.exists():
        import json

        version = json.loads(package_json.read_text(encoding="utf-8")).get("version", version)
    count = sum(1 for p in TARGET.rglob("*") if p.is_file())
    print(f"build_assets: GOV.UK Frontend {version}: {count} files in {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
