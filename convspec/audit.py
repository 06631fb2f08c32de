"""The claim audit: every claim on every backend, gathered into one result and rendered as a text
report (fits 100 columns: one row per claim, one mark per backend, a legend), a Markdown table (the
full matrix), a versioned JSON document (schema ``convspec-audit/2``, cells from
:func:`convspec.reporting.results.outcome_dict`) or a self-contained HTML page.

Reports hold no timestamps or timings, so two runs with the same seed give identical reports.
Progress lines go to stderr.
"""

from __future__ import annotations

import html
import json
import platform
import sys
import textwrap
from dataclasses import dataclass, field

import numpy as np
from hypothesis import settings

from convspec import __version__
from convspec.claims import all_claims, applicable
from convspec.errors import fault_of
from convspec.reporting import behaviours as B
from convspec.reporting.report import LEGEND, ratio_words, verdict_cell, verdict_mark
from convspec.reporting.results import AUDIT_SCHEMA, describe_error, not_applicable_dict, number, outcome_dict
from convspec.search.engine import run_claim

SCHEMA = AUDIT_SCHEMA
WIDTH = 100             # the text report fits this many columns


@dataclass
class AuditResult:
    backends: list
    claims: list
    cells: dict = field(default_factory=dict)      # (claim id, backend name) -> Outcome | skip reason
    seed: int = 0
    profile: str = ""
    behaviours: dict = field(default_factory=dict)   # backend -> cross-library behaviour row (convspec.reporting.behaviours)

    def summary(self) -> dict:
        outs = [v for v in self.cells.values() if not isinstance(v, str)]
        return {"total": len(outs), "matched": sum(o.ok for o in outs), "mismatched": sum(not o.ok for o in outs),
                "not_applicable": sum(isinstance(v, str) for v in self.cells.values())}

    def worst(self, claim_id: str) -> float:
        rs = [v.worst_ratio for (cid, _), v in self.cells.items() if cid == claim_id and not isinstance(v, str)]
        return max(rs) if rs else 0.0


def run(bes, claims_pattern=None, base=None, seed=0, impl_arg=None, progress=True, profile: str = "",
        behaviours: bool | None = None) -> AuditResult:
    """Run every claim on every backend; ``base`` is the settings profile named ``profile``.  ``behaviours``
    (default: when a zoo backend is among ``bes``) adds the cross-library table (:mod:`convspec.reporting.behaviours`)."""
    claims = all_claims(claims_pattern)
    res = AuditResult(bes, claims, seed=seed, profile=profile)
    if behaviours is None:
        behaviours = any(b.origin == "zoo" for b in bes)
    if behaviours:
        res.behaviours = B.table(bes)
    todo = [(c, be) for c in claims for be in bes]
    for i, (c, be) in enumerate(todo, 1):
        ok, why = applicable(c, be)
        if not ok:
            res.cells[(c.id, be.name)] = why
            continue
        o = run_claim(c, be, base or settings.default, seed=seed,
                      impl_arg=impl_arg if be.origin != "builtin" else None)
        res.cells[(c.id, be.name)] = o
        if progress:
            mark = "ok " if o.ok else "!! "
            print(f"[{i:4d}/{len(todo)}] {mark}{c.id} on {be.name}: {o.found} ({o.examples} examples, "
                  f"{o.seconds:.1f}s)", file=sys.stderr, flush=True)
    return res


# -- rendering ------------------------------------------------------------------------------------

def _cell(v) -> str:
    if isinstance(v, str):
        return "—"
    s = verdict_cell(v)
    return s if v.ok else s + " (!)"


def _cex_lines(res: AuditResult):
    for c in res.claims:
        for be in res.backends:
            v = res.cells.get((c.id, be.name))
            if v is None or isinstance(v, str) or v.case is None:
                continue
            first = v.message.splitlines()[0] if v.message else ""
            yield c, be, v, first


#: the failures that are faults of a library's own code rather than wrong values: the process died or hung
#: (:func:`convspec.errors.fault_of`)
LIBRARY_FAULTS = ("crashed", "hung")


def faults(res: AuditResult) -> list:
    """Every crash and hang of a backend on valid input, as findings: [(claim, backend, outcome)].  A backend
    that runs behind the worker boundary (every zoo backend, every --impl) that crashes or hangs is reported
    with the shrunk problem and a repro command that reruns it in a child process; the audit goes on."""
    return [(c, be, v) for c in res.claims for be in res.backends
            if not isinstance(v := res.cells.get((c.id, be.name), ""), str)
            and fault_of(v.failure) in LIBRARY_FAULTS]


def fault_dict(c, be, v) -> dict:
    return {"claim": c.id, "backend": be.name, "library": be.library or None, "version": be.version or None,
            "fault": fault_of(v.failure), "descriptor": str(v.case.problem) if v.case is not None else None,
            "message": v.message.splitlines()[0][:500] if v.message else "", "repro": v.repro or None}


def _fault_lines(res: AuditResult) -> list:
    out = []
    for c, be, v in faults(res):
        d = fault_dict(c, be, v)
        lib = f" ({' '.join(filter(None, (d['library'], d['version'])))})" if d["library"] else ""
        out.append((f"{be.name}{lib} {d['fault']} on valid input {d['descriptor']} (claim {c.id}): {d['message']}",
                    d["repro"]))
    return out


def render(res: AuditResult, fmt: str) -> str:
    return {"text": render_text, "markdown": render_markdown, "json": render_json, "html": render_html}[fmt](res)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_long_words=True, break_on_hyphens=False) or [indent]


def render_text(res: AuditResult) -> str:
    """The terminal report: fits :data:`WIDTH` columns.  Backends are lettered in a key; each claim is
    one row of two-character marks (:data:`convspec.reporting.report.LEGEND`); then every unexpected verdict and
    every counterexample, its error said in words."""
    names = [b.name for b in res.backends]
    letters = [_LETTERS[i] if i < len(_LETTERS) else "#" for i in range(len(names))]
    lines = ["backends:"]
    key = [f"{letters[i]} {n}" for i, n in enumerate(names)]
    colw = max([len(k) for k in key] + [1]) + 2
    per = max(1, WIDTH // colw)
    for i in range(0, len(key), per):
        lines.append("".join(k.ljust(colw) for k in key[i:i + per]).rstrip())
    head_nums = "".join(f"{x} " for x in letters)
    idw = max([len(c.id) for c in res.claims] + [5])
    fixed = 2 + 13 + 2 + 2 * len(names) + 1 + 10
    idw = max(12, min(idw, WIDTH - fixed))
    lines += ["", f"{'claim':{idw}}  {'expected':13}  {head_nums} worst"]
    group = None
    for c in res.claims:
        if c.group != group:
            group = c.group
            lines.append(f"[{group}]")
        marks = "".join(verdict_mark(res.cells.get((c.id, n))) for n in names)
        exp = "conditional" if c.expected == "conditional" else c.expected
        cid = c.id if len(c.id) <= idw else c.id[:idw - 1] + "…"
        lines.append(f"{cid:{idw}}  {exp:13}  {marks} {_worst_short(res, c.id)}".rstrip())
    unexpected = [(c, be, v) for c in res.claims for be in res.backends
                  if not isinstance(v := res.cells.get((c.id, be.name), ""), str) and not v.ok]
    if unexpected:
        lines += ["", "unexpected verdicts:"]
        for c, be, v in unexpected:
            lines += _wrap(f"{c.id} on {be.name}: expected {c.describe_expected()}, found {v.found}"
                           + (f" on {v.case.problem}" if v.case is not None else ""), "  ")
            if v.case is not None:
                lines += _wrap(describe_error(v), "    ")
            if v.repro:
                lines += _wrap("reproduce: " + v.repro, "    ")
    cex = [(c, be, v) for c, be, v, _ in _cex_lines(res) if v.ok]
    if cex:
        lines += ["", "counterexamples found (shrunk), as the claims expect:"]
        for c, be, v in cex:
            lines += _wrap(f"{c.id} on {be.name}: {v.case.problem}: {describe_error(v)}", "  ")
    fl = _fault_lines(res)
    if fl:
        lines += ["", "library faults (findings: a crash or a hang on valid input; the audit went on):"]
        for text, repro in fl:
            lines += _wrap(text, "  ") + (_wrap("reproduce: " + repro, "    ") if repro else [])
    if res.behaviours:
        lines += ["", B.render_text(res.behaviours, WIDTH)]
    s = res.summary()
    lines += [""] + _wrap(LEGEND + "; worst: largest error/allowed where the claim held", "") + _wrap(
        f"{s['matched']}/{s['total']} verdicts match the expected ones ({s['not_applicable']} not applicable). "
        "The full matrix with statements and sources: --format markdown or html.", "")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _worst_short(res: AuditResult, claim_id: str) -> str:
    """Largest error/allowed ratio over the backends where the claim held (how close correct results came
    to the bound); '-' when it held nowhere.  A counterexample's error is said in words, never as a ratio."""
    rs = [v.worst_ratio for (cid, _), v in res.cells.items()
          if cid == claim_id and not isinstance(v, str) and v.found == "holds" and v.worst_ratio is not None
          and np.isfinite(v.worst_ratio)]
    return f"{max(rs):.3g}" if rs else "-"


def _md(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def render_markdown(res: AuditResult) -> str:
    names = [b.name for b in res.backends]
    out = ["| claim | statement | source | expected | " + " | ".join(names) + " | worst err/allowed where it held |",
           "|---|---|---|---|" + "---|" * len(names) + "---|"]
    for c in res.claims:
        cells = " | ".join(_cell(res.cells.get((c.id, n), "—")) for n in names)
        out.append(f"| `{c.id}` | {_md(c.statement)} | {_md(c.source)} | {_md(c.describe_expected())} | {cells} | "
                   f"{_worst_short(res, c.id)} |")
    s = res.summary()
    out += ["", f"**{s['matched']}/{s['total']} verdicts match the expected ones** ({s['not_applicable']} not "
                "applicable). ✓ holds, ✗ refuted (a shrunk counterexample exists), — not applicable, (!) a verdict "
                "that differs from the expected one.", "", "<details><summary>Counterexamples</summary>", ""]
    for c, be, v, _first in _cex_lines(res):
        out.append(f"- `{c.id}` on `{be.name}`: `{v.case.problem}` — {_md(describe_error(v)[:300])}")
    out += ["", "</details>", ""]
    fl = _fault_lines(res)
    if fl:
        out += ["### Library faults", "", "A crash or a hang on valid input, found by the audit (which went on):", ""]
        out += [f"- {_md(text)}" + (f"<br>reproduce: `{repro}`" if repro else "") for text, repro in fl]
        out.append("")
    if res.behaviours:
        out += ["### Cross-library behaviour", "", B.render_markdown(res.behaviours), "",
                "Departures found by convspec with no upstream report: [docs/findings.md](docs/findings.md).", ""]
    return "\n".join(out)


def to_dict(res: AuditResult) -> dict:
    """The audit as a ``convspec-audit/2`` document (cells from :func:`convspec.reporting.results.outcome_dict`)."""
    vers = {"convspec": __version__, "python": platform.python_version()}
    for mod in ("numpy", "scipy", "torch", "hypothesis", "numba"):
        m = sys.modules.get(mod)
        if m is not None:
            vers[mod] = str(getattr(m, "__version__", "?"))
    claims = []
    for c in res.claims:
        results = {}
        for be in res.backends:
            v = res.cells.get((c.id, be.name))
            if v is None:
                continue
            d = not_applicable_dict(c.id, be.name, v) if isinstance(v, str) else outcome_dict(v, timings=False)
            d.pop("claim")
            d.pop("backend")
            results[be.name] = d
        claims.append({"id": c.id, "statement": c.statement, "source": c.source, "group": c.group,
                       "expected": c.expected, "expected_text": c.describe_expected(),
                       "condition": c.condition or None, "version_note": c.version_note or None,
                       "needs": sorted(c.needs), "requires": sorted(c.requires),
                       "worst_error_ratio": number(res.worst(c.id)), "results": results})
    return {"schema": SCHEMA, "seed": res.seed, "profile": res.profile or None, "versions": vers,
            "backends": [{"name": b.name, "library": b.library, "version": b.version, "origin": b.origin,
                          "gpu": bool(getattr(b.caps, "gpu", False)), "capabilities": b.caps.summary()}
                         for b in res.backends],
            "summary": res.summary(), "claims": claims,
            "faults": [fault_dict(c, be, v) for c, be, v in faults(res)],
            **({"behaviours": res.behaviours} if res.behaviours else {})}


def render_json(res: AuditResult) -> str:
    return json.dumps(to_dict(res), indent=1, sort_keys=False) + "\n"


# -- HTML -------------------------------------------------------------------------------------------

def _planes(a):
    """Split an array into labelled 2-D planes (at most 4) for display."""
    a = np.asarray(a)
    if a.ndim == 0:
        return [("", a.reshape(1, 1))]
    if a.ndim == 1:
        return [("", a.reshape(1, -1))]
    if a.ndim == 2:
        return [("", a)]
    lead = a.reshape(-1, *a.shape[-2:])
    idx = list(np.ndindex(*a.shape[:-2]))
    return [(str(list(i)), lead[j]) for j, i in enumerate(idx[:4])]


def _heat(name, a) -> str:
    parts = [f"<div class=arr><div class=nm>{html.escape(name)} <span>{tuple(np.shape(a))}</span></div>"]
    for label, p in _planes(a):
        p = np.asarray(p)
        if p.dtype.kind == "c":
            p = p.real
        if p.size > 400:
            parts.append(f"<div class=big>{p.shape} plane (not shown)</div>")
            continue
        finite = p[np.isfinite(p)] if p.dtype.kind == "f" else p
        m = float(np.max(np.abs(finite))) if np.size(finite) else 1.0
        m = m or 1.0
        rows = []
        for r in p:
            tds = []
            for v in r:
                f = float(v)
                t = max(-1.0, min(1.0, f / m)) if np.isfinite(f) else 0
                col = f"rgba(214,39,40,{abs(t):.2f})" if t > 0 else f"rgba(31,119,180,{abs(t):.2f})"
                tds.append(f"<td style='background:{col}'>{f:.4g}</td>")
            rows.append("<tr>" + "".join(tds) + "</tr>")
        parts.append((f"<div class=pl>{html.escape(label)}</div>" if label else "") + "<table class=h>" +
                     "".join(rows) + "</table>")
    return "".join(parts) + "</div>"


CSS = """body{font:14px system-ui,sans-serif;margin:24px;color:#222}h1{font-size:22px}
table.v{border-collapse:collapse;margin:12px 0}table.v td,table.v th{border:1px solid #ccc;padding:4px 8px;
vertical-align:top}table.v th{background:#f3f3f3}.ok{color:#1a7f37}.bad{color:#b42318;font-weight:bold}
.na{color:#999}.st{max-width:420px}.src{font-size:12px;color:#555}
.cex{border:1px solid #ddd;border-radius:6px;margin:14px 0;padding:10px}.cex h3{margin:0 0 6px;font-size:15px}
.arrs{display:flex;flex-wrap:wrap;gap:14px}.arr .nm{font-weight:bold;font-size:12px}.arr .nm span{color:#777}
table.h{border-collapse:collapse;font:11px monospace}table.h td{border:1px solid #eee;padding:2px 4px;
text-align:right;min-width:22px}.pl{font-size:11px;color:#777}pre{white-space:pre-wrap;font-size:12px;
background:#f7f7f7;padding:6px}"""


def render_html(res: AuditResult) -> str:
    d = to_dict(res)
    names = [b.name for b in res.backends]
    h = [f"<!doctype html><html><head><meta charset=utf-8><title>convspec audit</title><style>{CSS}</style></head><body>",
         "<h1>convspec claim audit</h1>",
         f"<p>seed {res.seed}; " + ", ".join(f"{k} {html.escape(v)}" for k, v in d["versions"].items()) + "</p>",
         f"<p><b>{d['summary']['matched']}/{d['summary']['total']}</b> verdicts match the expected ones "
         f"({d['summary']['not_applicable']} not applicable).</p>",
         "<table class=v><tr><th>claim</th><th>statement / source</th><th>expected</th>" +
         "".join(f"<th>{html.escape(n)}</th>" for n in names) + "<th>worst err/allowed</th></tr>"]
    for c in res.claims:
        tds = []
        for n in names:
            v = res.cells.get((c.id, n), "—")
            cls = "na" if isinstance(v, str) else ("ok" if v.ok else "bad")
            title = html.escape(v if isinstance(v, str) else v.message[:300])
            link = f"<a href='#{c.id}--{n}'>" if not isinstance(v, str) and v.case is not None else ""
            tds.append(f"<td class={cls} title='{title}'>{link}{html.escape(_cell(v))}{'</a>' if link else ''}</td>")
        h.append(f"<tr><td><code>{html.escape(c.id)}</code></td><td class=st>{html.escape(c.statement)}"
                 f"<div class=src>{html.escape(c.source)}</div></td><td>{html.escape(c.describe_expected())}</td>"
                 + "".join(tds) + f"<td>{html.escape(ratio_words(res.worst(c.id)))}</td></tr>")
    h.append("</table>")
    fl = _fault_lines(res)
    if fl:
        h.append("<h2>Library faults</h2><p>A crash or a hang on valid input, found by the audit (which went on):</p><ul>"
                 + "".join(f"<li>{html.escape(text)}" + (f"<pre>{html.escape(repro)}</pre>" if repro else "") + "</li>"
                           for text, repro in fl) + "</ul>")
    if res.behaviours:
        h.append("<h2>Cross-library behaviour</h2>" + B.render_html(res.behaviours)
                 + "<p>Departures found by convspec with no upstream report: <a href='findings.md'>findings</a> "
                 "(docs/findings.md).</p>")
    h.append("<h2>Counterexamples</h2>")
    for c, be, v, _first in _cex_lines(res):
        arrays = dict(v.case.arrays)
        for k, a in (v.sides or {}).items():
            if a is not None and k not in arrays:
                arrays[k] = a
        if "observed" in arrays and "expected" in arrays and "difference" not in arrays:
            try:
                arrays["difference"] = np.asarray(arrays["observed"], dtype=np.float64) - np.asarray(
                    arrays["expected"], dtype=np.float64)
            except (ValueError, TypeError):
                pass
        h.append(f"<div class=cex id='{c.id}--{be.name}'><h3>{html.escape(c.id)} on {html.escape(be.name)}: "
                 f"<code>{html.escape(str(v.case.problem))}</code></h3><pre>{html.escape(v.message[:1500])}</pre>"
                 "<div class=arrs>" + "".join(_heat(k, a) for k, a in arrays.items() if a is not None) + "</div>"
                 f"<pre>{html.escape(v.repro)}</pre></div>")
    h.append("</body></html>\n")
    return "\n".join(h)


BEGIN, END = "<!-- audit:begin -->", "<!-- audit:end -->"


def update_readme(path: str, markdown: str, command: str) -> None:
    """Replace the text between the audit markers of ``path`` with the generated table."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise ValueError(f"{path} has no {BEGIN} ... {END} section")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    body = f"{BEGIN}\n_Generated by `{command}`; do not edit by hand._\n\n{markdown}\n{END}"
    with open(path, "w", encoding="utf-8") as f:
        f.write(head + body + tail)
