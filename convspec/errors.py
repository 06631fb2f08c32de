"""Every exception convspec raises, in one place.

Grouped by who raises them and what a caller does with them:

* **a failure of the implementation under test** -- :class:`Mismatch` (a claimed equality does not hold),
  :class:`ContractViolation` (the implementation broke the contract: raised, wrong shape or dtype, wrote
  into its input ...) and the :class:`Abort` family (:class:`Hang`, :class:`Nondeterministic`), which
  stops a search at once;
* **not a failure** -- :class:`Declined` (the implementation raised ``NotImplementedError``: it declines
  that problem) and :class:`RemoteDeclined`, the same refusal relayed from a worker process;
* **the user's input** -- :class:`DescriptorError`, :class:`MachineOverrideError`, :class:`InvalidClaim`,
  :class:`ImplError`, :class:`DatabaseError`;
* **the worker boundary** (:mod:`convspec.isolation`) -- :class:`ProtocolError`, :class:`PeerClosed` and
  :class:`Timeout` (the frames), :class:`WorkerError` (a worker that did not start) and
  :class:`TransportError` (convspec could not carry a call: the suite's own limitation, never the
  implementation's);
* :class:`DeadlineAlarm`, internal to the in-process time limit.

The pytest plugin's ``ConvspecWarning`` (:mod:`convspec.plugin`) is a pytest warning, not an error: it
stays with the plugin, where pytest's warning machinery is imported anyway.

This module imports nothing from convspec, so any module of the package can import it.
"""

from __future__ import annotations

from hypothesis.errors import InvalidArgument

# -- a failure of the implementation under test ----------------------------------------------------------


class Mismatch(AssertionError):
    """The two sides of a claimed equality differ (beyond the allowed error).  ``comparison`` is the
    :class:`convspec.truth.tolerance.Comparison` that failed (or None), ``sides`` arrays for the report."""

    def __init__(self, message: str, comparison=None, sides: dict | None = None):
        super().__init__(message)
        self.comparison = comparison
        self.sides = sides or {}


#: what kind of contract violation a :class:`ContractViolation` is (its ``fault``)
FAULTS = {
    "raised": "the implementation raised an exception on valid input (``exception`` names its type)",
    "crashed": "the process running the implementation died: a signal, an exit, a memory limit",
    "hung": "no result within the time limit (the worker was killed)",
    "protocol": "the worker broke the protocol (a malformed or unexpected reply)",
    "returned": "it returned something the contract forbids: wrong type, shape or dtype, a view of an input, "
                "non-finite values from finite input",
    "wrote": "it wrote into one of its inputs",
}


class ContractViolation(AssertionError):
    """The implementation under test broke the contract (raised, hung, wrong shape/dtype, ...).

    ``fault`` says which way (a key of :data:`FAULTS`; "returned" when not given) and ``exception`` the type name
    of what it raised (for "raised").  Readers classify failures with :func:`fault_of`, never by the message."""

    def __init__(self, message: str = "", *, fault: str = "returned", exception: str | None = None):
        if fault not in FAULTS:
            raise ValueError(f"fault={fault!r}: expected one of {', '.join(FAULTS)}")
        super().__init__(message)
        self.fault, self.exception = fault, exception


class Abort(BaseException):
    """A failure that stops the search at once (a BaseException: hypothesis neither catches it nor
    shrinks by re-running it).  ``case`` is the input, ``sides`` arrays for the report."""

    def __init__(self, message: str, case=None, sides: dict | None = None):
        super().__init__(message)
        self.case = case
        self.sides = sides or {}


class Hang(Abort):
    """A call ran past its time limit."""


class Nondeterministic(Abort):
    """The same inputs gave different results (or a failure that did not repeat on a rerun)."""


# -- not a failure: the implementation declines a problem --------------------------------------------------


class Declined(Exception):
    """The implementation raised ``NotImplementedError`` on a problem inside its declaration: it declines
    that problem.  Not a failure: the engine skips the example and reports the smallest declined problem
    as a region the run did not cover.  ``case`` is the declined input."""

    def __init__(self, message: str, case=None):
        super().__init__(message)
        self.case = case


class RemoteDeclined(Declined):
    """The implementation declined a problem in its worker process: it raised ``NotImplementedError`` (in
    the worker), or its server answered with an error naming ``NotImplementedError``.  Not a failure: the
    engine skips the example.  Any other exception stays the failure it is (a :class:`ContractViolation`).

    A :class:`Declined` whose message is ``"<impl>.<op> declined <descriptor>: NotImplementedError:
    <msg>"``.  A proxy does not know the problem, so it raises one that says ``declined the call``; the
    caller that knows the problem names it with :meth:`on`.
    """

    def __init__(self, what: str, exception: str = "NotImplementedError", message: str = "",
                 descriptor: str | None = None, traceback: str = "", case=None):
        self.what, self.exception, self.detail, self.descriptor = what, exception, message, descriptor
        self.remote_traceback = traceback
        super().__init__(f"{what} declined {descriptor or 'the call'}: {exception}: {message}", case)

    def on(self, descriptor: str, case=None) -> RemoteDeclined:
        """The same refusal, naming the problem (and carrying the case) it declined."""
        return RemoteDeclined(self.what, self.exception, self.detail, descriptor, self.remote_traceback, case)


# -- the user's input ----------------------------------------------------------------------------------------


class DescriptorError(ValueError):
    """A descriptor string that does not parse, or describes an invalid problem."""


class MachineOverrideError(ValueError):
    """A malformed CONVSPEC_CPU_FEATURES or CONVSPEC_MACHINE; the message names the variable and the item."""


class InvalidClaim(InvalidArgument, ValueError):
    """A claim declaration that cannot be right (an unknown word, a bad argument); names the argument."""


class ImplError(Exception):
    """An --impl target that cannot be loaded or defines none of the contract."""


class DatabaseError(ValueError):
    """A database setting that cannot be used (names the setting and what is wrong)."""


# -- the worker boundary --------------------------------------------------------------------------------------


class ProtocolError(Exception):
    """The peer sent bytes that are not a well-formed frame."""


class PeerClosed(Exception):
    """The peer closed its end (end of file) before a whole frame arrived."""


class Timeout(Exception):
    """No whole frame arrived before the deadline."""


class WorkerError(Exception):
    """A worker that could not be started or did not say hello (wrapped by the caller)."""


class TransportError(Exception):
    """convspec could not carry a call across the worker boundary (encoding it in the parent, or
    decoding it in the worker).  The suite's own limitation or bug, never the implementation's: the
    implementation was not called.  ``suite_error`` marks it for the in-process guard, which must let
    it through instead of reporting that the implementation raised it."""

    suite_error = True


# -- internal ------------------------------------------------------------------------------------------------


class DeadlineAlarm(Exception):
    """The in-process time limit fell due (raised by its SIGALRM handler inside the call); the guard
    (:func:`convspec.model.contract.guarded_call`) turns it into a :class:`Hang`.  Never leaves the guard."""


def fault_of(e: BaseException | None) -> str | None:
    """The one classification of a failure, shared by the engine's reports, the audit, the probe and the
    cross-library table: "declined", "mismatch", "nondeterministic", "hung", a :data:`FAULTS` key for a
    ContractViolation, "error" for anything else, None for no failure."""
    if e is None:
        return None
    if isinstance(e, Declined):
        return "declined"
    if isinstance(e, Mismatch):
        return "mismatch"
    if isinstance(e, Hang):
        return "hung"
    if isinstance(e, Nondeterministic):
        return "nondeterministic"
    if isinstance(e, ContractViolation):
        return e.fault
    return "error"

