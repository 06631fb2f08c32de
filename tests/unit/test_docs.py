"""The docs stay true: the generated pages equal what the code generates now, every page the README
links exists, the README stays a front door (at most about 200 lines), and every relative link of the
docs names a file of the checkout."""

from __future__ import annotations

import os
import re

from convspec import docs_gen

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_generated_pages_are_current():
    for rel, make in docs_gen.PAGES.items():
        with open(os.path.join(ROOT, rel)) as f:
            assert f.read() == make(), f"{rel} is stale: run python -m convspec.docs_gen"


def test_readme_is_a_front_door():
    with open(os.path.join(ROOT, "README.md")) as f:
        lines = f.read().splitlines()
    assert len(lines) <= 210, f"README.md has {len(lines)} lines; subjects belong in docs/"


def test_relative_links_resolve():
    pages = ["README.md"] + [os.path.join("docs", f) for f in os.listdir(os.path.join(ROOT, "docs")) if f.endswith(".md")]
    for page in pages:
        with open(os.path.join(ROOT, page)) as f:
            text = f.read()
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if "://" in target:
                continue
            path = os.path.normpath(os.path.join(ROOT, os.path.dirname(page), target))
            assert os.path.exists(path), f"{page}: link to {target} names no file"
