"""Issue 20, the frameworks' part: the claim of specs/libraries/zoo_frameworks.py (holds on torch, rejects its wrong
twin, named in its declaration), the findings page generator (convspec/reporting/findings.py: reads DEPARTURES without
importing, reports every problem), and the zoo modules' DEPARTURES records (literal, complete, repro present)."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from convspec.backends import registry as backends
from convspec.backends.zoo import resolve
from convspec.claims import REGISTRY, load_builtin
from convspec.reporting import findings
from convspec.search.engine import run_claim, run_once
from tests.conftest import twin_backend

load_builtin()
GROUPS = "grouped-conv-groups-are-independent"
ROOT = Path(__file__).resolve().parents[2]
MINE = ("jax_lax", "onnxruntime", "onnx_reference", "openvino", "torch_compile")


# -- the claim and its wrong twin (tests/gallery/twins/dense_grouped.py, named in the claim's declaration) ----------

def dense_grouped_twin():
    return twin_backend(REGISTRY[GROUPS].twin)


def test_groups_claim_holds_on_torch():
    out = run_claim(REGISTRY[GROUPS], backends.get("torch"))
    assert out.ok and out.found == "holds", out.message


def test_groups_claim_rejects_the_dense_twin_on_its_pinned_example():
    c = REGISTRY[GROUPS]
    status, msg = run_once(c, dense_grouped_twin(), c.examples[0])
    assert status == "mismatch" and "reached output" in msg, (status, msg)


def test_groups_claim_search_rejects_the_dense_twin():
    from hypothesis import Phase, settings
    out = run_claim(REGISTRY[GROUPS], dense_grouped_twin(),
                    settings(settings.default, phases=[Phase.generate], max_examples=60))
    assert not out.ok, out


def test_groups_claim_refutes_jax_float64():
    """The departure recorded in jax_lax.DEPARTURES, on the pinned example (JAX installed only)."""
    pytest.importorskip("jax")
    from convspec.backends.base import load_impl
    be = load_impl("convspec.backends.zoo.jax_lax")
    c = REGISTRY[GROUPS]
    f64 = next(e for e in c.examples if e.problem.dtype == "f64")
    f32 = next(e for e in c.examples if e.problem.dtype == "f32")
    assert run_once(c, be, f64)[0] == "mismatch"
    assert run_once(c, be, f32)[0] == "holds"


# -- the findings page -----------------------------------------------------------------------------------

FAKE = '''
raise RuntimeError("imported: the findings page must read DEPARTURES without importing")
import somelib
DEPARTURES = {
    "claim-a": {"statement": "does X instead", "source": "found by convspec", "upstream": "none found: searched",
                "observed": "nan", "expected": "0.0", "counterexample": "n1c1h1w1_o1k1x1",
                "repro": "docs/repros/fake_a.py", "version": "9.9"},
    "claim-b": {"statement": "documented Y", "source": "https://example.org/docs#y", "upstream": "x/y#1 (open)",
                "observed": "1", "expected": "2", "counterexample": "n1c1h1w2_o1k1x1", "repro": "docs/repros/fake_b.py"},
}
'''


def _tree(tmp_path, text=FAKE, repros=("fake_a.py", "fake_b.py")):
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    (zoo / "fakelib.py").write_text(text)
    (zoo / "_private.py").write_text("DEPARTURES = {'x': {}}\n")
    (zoo / "nodeps.py").write_text("import os\n")
    (tmp_path / "docs" / "repros").mkdir(parents=True)
    for r in repros:
        (tmp_path / "docs" / "repros" / r).write_text(f"print('repro {r}')\n")
    return zoo


def test_findings_page_from_a_module_never_imported(tmp_path):
    zoo = _tree(tmp_path)
    page = tmp_path / "findings.md"
    f = findings.write(page, zoo, tmp_path)
    text = page.read_text()
    assert not f.problems, f.problems
    assert [d.claim for d in f.departures] == ["claim-a", "claim-b"]
    assert "### somelib 9.9: `claim-a`" in text
    assert "print('repro fake_a.py')" in text                       # the repro inline
    assert "observed: `nan`; expected: `0.0`" in text
    assert "none found: searched" in text
    found, sourced = text.split("## Documented or reported upstream")
    assert "claim-b" not in found and "| somelib | not installed here | `claim-b` | documented Y" in sourced
    assert "fake_b.py')" not in text                                 # sourced ones list, no inline repro


def test_findings_reports_every_problem(tmp_path):
    bad = FAKE.replace('"repro": "docs/repros/fake_a.py", ', '').replace('"observed": "1", ', '')
    zoo = _tree(tmp_path, bad, repros=())
    (zoo / "notliteral.py").write_text("import x\nDEPARTURES = dict(a=1)\n")
    f = findings.collect(zoo, tmp_path)
    joined = "\n".join(f.problems)
    assert "fakelib: DEPARTURES['claim-a'] lacks repro" in joined
    assert "fakelib: DEPARTURES['claim-b'] lacks observed" in joined
    assert "fakelib: DEPARTURES['claim-b'] repro docs/repros/fake_b.py is not there" in joined
    assert "notliteral: DEPARTURES is not a literal dict" in joined
    assert "## Problems in the records" in findings.render(f)


def test_findings_command_line(tmp_path):
    out = tmp_path / "page.md"
    r = subprocess.run([sys.executable, "-m", "convspec.reporting.findings", str(out)], capture_output=True, text=True,
                       cwd=ROOT, timeout=120)
    assert out.is_file() and r.returncode in (0, 1), r.stderr
    assert out.read_text().startswith("# Findings")


# -- the zoo modules' records ----------------------------------------------------------------------------

@pytest.mark.parametrize("module", MINE)
def test_departures_are_complete_literals_with_repros(module):
    path = ROOT / "convspec" / "backends" / "zoo" / f"{module}.py"
    raw = findings._module_literal(ast.parse(path.read_text()), "DEPARTURES")
    deps = resolve(raw, module)          # an alias (a claim id holding the record) is checked through its record
    for cid, e in deps.items():
        assert cid in REGISTRY, f"{module}: {cid} is no claim id"
        if isinstance(raw[cid], str):
            continue
        missing = [k for k in findings.REQUIRED if not e.get(k)]
        assert not missing, f"{module}: {cid} lacks {missing}"
        assert (ROOT / e["repro"]).is_file(), f"{module}: {cid}: {e['repro']} is not there"
        assert "convspec" not in (ROOT / e["repro"]).read_text().replace("found by convspec", ""), \
            f"{e['repro']} must use the library alone"


@pytest.mark.parametrize("module", MINE)
def test_zoo_module_declares_name_version_capabilities(module):
    lib = {"jax_lax": "jax", "onnx_reference": "onnx", "torch_compile": "torch"}.get(module, module)
    if importlib.util.find_spec(lib) is None:
        pytest.skip(f"{lib} is not installed")
    from convspec.backends.base import load_impl
    be = load_impl(f"convspec.backends.zoo.{module}")
    assert be.ops and be.caps.dtypes
