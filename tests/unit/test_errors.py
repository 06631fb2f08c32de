"""Every exception class of convspec (the engine and its built-in claims) lives in :mod:`convspec.errors`,
which imports nothing of convspec."""

from __future__ import annotations

import ast
import builtins
import subprocess
import sys
from pathlib import Path

import convspec.specs

import convspec
from convspec import errors

#: exception classes allowed outside convspec.errors: the plugin's pytest warning (not an error)
ALLOWED = {"convspec/plugin.py:ConvspecWarning"}

#: names that are exception classes wherever a module imports them from
_KNOWN = ({n for n, o in vars(builtins).items() if isinstance(o, type) and issubclass(o, BaseException)}
          | {n for n, o in vars(errors).items() if isinstance(o, type) and issubclass(o, BaseException)})


def _base_name(node) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def _is_exception_name(name: str, known: set) -> bool:
    return name in known or name.endswith(("Error", "Exception", "Warning"))


def _exception_classes(path: Path) -> list[str]:
    """The exception classes a source file defines, at any depth (read from its syntax, nothing imported:
    a class whose base is a builtin exception, one of convspec.errors, a name ending in Error, Exception or
    Warning, or another exception class of the same file)."""
    classes = [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, ast.ClassDef)]
    known, found = set(_KNOWN), set()
    grew = True
    while grew:
        grew = False
        for c in classes:
            if c.name not in found and any(_is_exception_name(_base_name(b), known) for b in c.bases):
                found.add(c.name)
                known.add(c.name)
                grew = True
    return sorted(found)


def test_every_exception_class_is_in_errors():
    root = Path(convspec.__file__).parent
    files = sorted(root.rglob("*.py")) + sorted(Path(convspec.specs.__path__[0]).rglob("*.py"))
    assert len(files) > 50
    outside = [f"{p.relative_to(root.parent).as_posix()}:{name}" for p in files if p != Path(errors.__file__)
               for name in _exception_classes(p)]
    outside = sorted(set(outside) - ALLOWED)
    assert not outside, f"exception classes defined outside convspec.errors: {outside}"


def test_the_walk_sees_an_exception_class():
    """The syntax walk finds the errors module's own classes, a subclass of a subclass among them."""
    assert {"Hang", "RemoteDeclined", "InvalidClaim", "DeadlineAlarm"} <= set(_exception_classes(Path(errors.__file__)))


def test_errors_defines_only_documented_exceptions():
    own = [obj for obj in vars(errors).values() if isinstance(obj, type) and obj.__module__ == "convspec.errors"]
    assert own and all(issubclass(c, BaseException) for c in own)
    assert all(c.__doc__ and c.__doc__.strip() for c in own), [c.__name__ for c in own if not c.__doc__]


def test_errors_imports_nothing_of_convspec():
    code = ("import sys; import convspec.errors; "
            "print(sorted(m for m in sys.modules if m.startswith('convspec') and m not in ('convspec', 'convspec.errors')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]", f"convspec.errors imports {out}"


def test_old_homes_still_hand_on_what_they_use():
    """A module that raises an error imports it from convspec.errors: the class is the same object."""
    from convspec.isolation import protocol, supervisor
    from convspec.truth import check

    assert check.Mismatch is errors.Mismatch
    assert protocol.ProtocolError is errors.ProtocolError
    assert supervisor.TransportError is errors.TransportError
    assert issubclass(errors.RemoteDeclined, errors.Declined)
    assert issubclass(errors.InvalidClaim, ValueError)


def test_fault_of_is_the_one_classification():
    """Every reader (audit, probe, cross-library table) classifies a failure by ``fault_of``, never by its
    message; a ContractViolation names its fault, and an unknown fault is refused."""
    import pytest
    assert errors.fault_of(None) is None
    assert errors.fault_of(errors.Mismatch("x")) == "mismatch"
    assert errors.fault_of(errors.Declined("x")) == "declined"
    assert errors.fault_of(errors.Hang("x")) == "hung"
    assert errors.fault_of(errors.Nondeterministic("x")) == "nondeterministic"
    assert errors.fault_of(errors.ContractViolation("shape")) == "returned"
    for f in errors.FAULTS:
        assert errors.fault_of(errors.ContractViolation("m", fault=f)) == f
    e = errors.ContractViolation("m", fault="raised", exception="TypeError")
    assert (e.fault, e.exception) == ("raised", "TypeError")
    assert errors.fault_of(ValueError("x")) == "error"
    with pytest.raises(ValueError, match="fault='segv'"):
        errors.ContractViolation("m", fault="segv")
