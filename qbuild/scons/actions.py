"""How qbuild steps become SCons actions: one-line errors, stable signatures, code dependencies derived from imports.

Step actions are module-level functions: SCons puts a function action's code *and its closure's captured objects*
into the target signature, so closures over per-call objects would rebuild every time. What a step needs besides
its sources comes from construction variables listed in the action's `varlist` (part of the signature). Each action
imports its step module inside its body: `qbuild.deps.step_files` follows those imports to the modules and templates
the step runs, which become the step's file dependencies.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from qbuild.deps import step_files
from qbuild.errors import QbuildError, ReportedError, debug, internal_error_line

TF_LOCK = "#build/.tensorflow-lock"
_TREE_LOCK = []  # the open lock file, held until the process exits


def fail(e: Exception):
    """A mistake found while the build graph is declared: one line, exit status 2, before any step runs."""
    print(f"qbuild: error: {e}", file=sys.stderr, flush=True)
    raise SystemExit(2)


def _step(fn):
    """Wrap a step so a user mistake prints one line and fails the target (no traceback)."""
    def action(target, source, env):
        try:
            fn(target, source, env)
        except ReportedError:
            return 1
        except QbuildError as e:
            print(f"qbuild: error: {e}", file=sys.stderr, flush=True)
            return 1
        except Exception as e:  # noqa: BLE001 (a bug: one line with what to do, the traceback with QBUILD_DEBUG=1)
            if debug():
                raise
            print(internal_error_line(f"qbuild: {fn.__name__.lstrip('_')}", e), file=sys.stderr, flush=True)
            return 1
        return 0
    action.__name__ = fn.__name__
    return action


def node(env, p):
    """A file node for a path taken literally: SCons would substitute `$x` in a string given to env.File/Command."""
    return p if not isinstance(p, (str, Path)) else env.fs.File(str(p))


def command(env, targets, sources, fn, what: str, varlist=(), **overrides):
    """env.Command for a step: `fn`'s code and templates (derived from its imports) are among the sources. Every
    path is taken literally, every setting passed through `literal`/`as_json` (so `$` never reaches SCons'
    substitution)."""
    targets = [node(env, p) for p in (targets if isinstance(targets, list) else [targets])]
    sources = [node(env, p) for p in sources] + [node(env, p) for p in step_files(fn)]
    action = env.Action(_step(fn), lambda target, source, env: f"qbuild: {what} -> {target[0]}", varlist=list(varlist))
    return env.Command(targets, sources, action, **overrides)


# Construction variables are substituted by SCons when it signs an action (varlist) and when it builds a command
# line: a `$` in a user's path or setting would be read as a variable there. Every value qbuild stores escapes `$` as
# `$$` (which SCons substitutes back to `$` in the signature); the steps read them back with `setting`/`text`.
def literal(s) -> str:
    return str(s).replace("$", "$$")


def as_json(obj) -> str:
    return literal(json.dumps(obj, sort_keys=True, default=str))


def text(env, key: str) -> str:
    return env[key].replace("$$", "$")


def setting(env, key: str):
    return json.loads(text(env, key))


def path(node) -> Path:
    return Path(node.abspath)


# Paths inside the project go into action signatures relative to its top directory, so a build cache (cache=DIR) made
# in one checkout serves another at a different path; `in_project` turns them back into absolute paths in the step.
def project_path(env, p) -> str:
    """`p` relative to the project's top directory when inside it, else absolute (for action signatures)."""
    root = Path(env.Dir("#").abspath).resolve()  # both resolved: a symlinked checkout still gives relative paths
    p = Path(p).resolve()
    return p.relative_to(root).as_posix() if p.is_relative_to(root) else str(p)


def in_project(env, key: str) -> Path:
    """The path a construction variable set from `project_path` names (absolute)."""
    return Path(env.Dir("#").abspath) / text(env, key)


def unsigned(flags) -> list[str]:
    """Flags kept out of the action's signature (SCons `$( ... $)`): absolute paths of the checkout that do not change
    the output (-ffile-prefix-map, the map file's name), so two checkouts sign the same command."""
    return ["$(", *flags, "$)"] if flags else []


def hold_tree_lock(env) -> None:
    """One SCons build per build tree at a time: a second `scons` in the same tree waits (and says so) instead of
    racing the first for the same files and `.sconsign`. The lock is released when the process exits."""
    if _TREE_LOCK:
        return
    import fcntl

    build = Path(env.Dir(env.get("QBUILD_BUILD_DIR", "#build")).abspath)
    build.mkdir(parents=True, exist_ok=True)
    f = open(build / ".qbuild-lock", "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"qbuild: another build is running in {build.parent}; waiting for it to finish", file=sys.stderr,
              flush=True)
        fcntl.flock(f, fcntl.LOCK_EX)
    _TREE_LOCK.append(f)
