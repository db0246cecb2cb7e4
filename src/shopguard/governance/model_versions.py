"""Versions of the model artifacts under ``settings.models_dir``, and roll-back.

A minimal stand-in for the model vault: :meth:`ModelVersions.snapshot` copies
``models_dir/<name>/`` into ``models_dir/.versions/<name>/v<NNNN>/`` with a
manifest of SHA-256 digests; :meth:`ModelVersions.rollback` restores the
version before the current one after checking every digest, swapping the
directory in with a rename so a reader never sees half a model.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from shopguard.core.errors import DataValidationError, ModelError, NotFoundError

__all__ = ["ModelVersion", "ModelVersions"]

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_VERSIONS = ".versions"


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    created_at: str
    files: dict[str, str]


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): _digest(p) for p in sorted(root.rglob("*")) if p.is_file()
    }


class ModelVersions:
    """Snapshots and roll-back of the model directories in ``models_dir``."""

    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir

    def _check(self, name: str) -> None:
        if not _NAME_RE.match(name) or name == _VERSIONS:
            raise DataValidationError(
                "model name must be letters, digits, '.', '_' or '-'", column="model"
            )

    def _root(self, name: str) -> Path:
        return self.models_dir / _VERSIONS / name

    def _current_file(self, name: str) -> Path:
        return self._root(name) / "CURRENT"

    def current(self, name: str) -> int | None:
        f = self._current_file(name)
        return int(f.read_text("utf-8").strip()) if f.exists() else None

    def versions(self, name: str) -> list[ModelVersion]:
        self._check(name)
        root = self._root(name)
        out = []
        if root.is_dir():
            for d in sorted(root.glob("v[0-9][0-9][0-9][0-9]")):
                manifest = json.loads((d / "manifest.json").read_text("utf-8"))
                out.append(
                    ModelVersion(
                        name,
                        int(manifest["version"]),
                        manifest["created_at"],
                        dict(manifest["files"]),
                    )
                )
        return out

    def snapshot(self, name: str) -> ModelVersion:
        """Record the live ``models_dir/<name>`` as a new version (and make it current)."""
        self._check(name)
        live = self.models_dir / name
        if not live.is_dir():
            raise NotFoundError(f"no model directory {name}")
        files = _tree(live)
        existing = self.versions(name)
        current = self.current(name)
        if current is not None:
            same = next((v for v in existing if v.version == current), None)
            if same is not None and same.files == files:
                return same
        version = (existing[-1].version + 1) if existing else 1
        dest = self._root(name) / f"v{version:04d}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(live, dest / "files")
        created = datetime.now(UTC).isoformat(timespec="seconds")
        (dest / "manifest.json").write_text(
            json.dumps({"version": version, "created_at": created, "files": files}, indent=2),
            "utf-8",
        )
        self._set_current(name, version)
        return ModelVersion(name, version, created, files)

    def _set_current(self, name: str, version: int) -> None:
        f = self._current_file(name)
        tmp = f.with_suffix(".tmp")
        tmp.write_text(str(version), "utf-8")
        tmp.replace(f)

    def rollback(self, name: str, *, to: int | None = None) -> ModelVersion:
        """Restore version ``to`` (default: the one before the current) into ``models_dir/<name>``.

        The live directory is snapshotted first if it is not a recorded version, so a
        roll-back can itself be rolled forward.

        Raises
        ------
        NotFoundError
            No earlier version exists.
        ModelError
            The stored version does not match its manifest (tampered or corrupt).
        """
        self.snapshot(name)
        current = self.current(name)
        versions = {v.version: v for v in self.versions(name)}
        target = (
            to
            if to is not None
            else max((v for v in versions if current is None or v < current), default=None)
        )
        if target is None or target not in versions:
            raise NotFoundError(f"no earlier version of model {name} to roll back to")
        chosen = versions[target]
        src = self._root(name) / f"v{target:04d}" / "files"
        if _tree(src) != chosen.files:
            raise ModelError(f"stored version {target} of model {name} does not match its manifest")
        live = self.models_dir / name
        staging = self.models_dir / f".{name}.rollback"
        old = self.models_dir / f".{name}.previous"
        for p in (staging, old):
            if p.exists():
                shutil.rmtree(p)
        shutil.copytree(src, staging)
        os.replace(live, old)
        os.replace(staging, live)
        shutil.rmtree(old)
        self._set_current(name, target)
        return chosen
