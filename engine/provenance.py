"""Where a result came from: versions, git commit, host, command, times."""

from __future__ import annotations

import datetime as _dt
import functools
import json
import platform
import socket
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import yaml

import engine

_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when PyYAML has it (faster)

#: The CF version the files follow (``Conventions``); ``compliance-checker --test cf:1.8`` checks them.
CONVENTIONS = "CF-1.8"

PACKAGES = ("numpy", "scipy", "numba", "torch", "xarray", "netCDF4", "pydantic", "PyYAML")


def utc_now() -> str:
    """The current time, ISO 8601 in UTC, to the second."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def package_versions() -> dict[str, str]:
    """Installed versions of python and the numerical packages (read without importing them)."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit() -> str:
    """``<sha>`` (with ``-dirty`` if the tree has changes) of the engine's source tree, or ``unknown``."""
    root = Path(engine.__file__).resolve().parent.parent
    try:
        sha = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if sha.returncode != 0:
            return "unknown"
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5)
        return sha.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


@functools.cache
def environment() -> dict[str, str]:
    """Global attributes shared by every file this process writes (computed once)."""
    return {
        "engine_version": engine.__version__,
        "engine_packages": json.dumps(package_versions(), sort_keys=True),
        "engine_git_commit": git_commit(),
        "engine_host": socket.gethostname(),
        "engine_command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
    }


def spec_yaml(spec: dict) -> str:
    """A resolved spec (JSON mode) as YAML text (kept in the results)."""
    return yaml.dump(spec, Dumper=_DUMPER, sort_keys=False, default_flow_style=None)


def attributes(kind, spec: dict, title: str, env: dict[str, str] | None = None) -> dict:
    """The CF and ``engine_`` global attributes of a file that ``kind`` (a :class:`engine.kind.Kind`)
    wrote from ``spec`` (the resolved spec, JSON mode): conventions, title, source, the spec as YAML,
    seed, creation time and :func:`environment` (or ``env``, the client's, for a worker's file).

    ``Conventions`` is :data:`CONVENTIONS`, the version the files are checked against
    (``compliance-checker --test cf:1.8``); ``history`` is the creation time and the command; ``comment``
    (the spec's description) is left out when empty, as CF asks of it."""
    env = env or environment()
    created = utc_now()
    return {
        "Conventions": CONVENTIONS,
        "title": title,
        "history": f"{created.replace('+00:00', 'Z')} {env['engine_command']}",
        "source": f"specengine {env['engine_version']}, kind {kind.kind} {kind.version}",
        "comment": spec.get("description") or None,
        **env,
        "engine_kind": kind.kind,
        "engine_kind_version": kind.version,
        "engine_spec": spec_yaml(spec),
        "engine_seed": spec.get("seed"),
        "engine_created": created,
    }
