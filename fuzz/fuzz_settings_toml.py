"""Settings from ``shopguard.toml`` (and the data-map TOML): ConfigError, never a traceback."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import _harness
import atheris

with atheris.instrument_imports(include=["shopguard"]):
    from shopguard.core.errors import ConfigError
    from shopguard.core.settings import load_settings
    from shopguard.privacy.datamap import load_declarations

_HOME = Path(tempfile.mkdtemp(prefix="sg-fuzz-toml-"))
_TOML = _HOME / "shopguard.toml"


def test_one_input(data: bytes) -> None:
    _TOML.write_bytes(data)
    with contextlib.suppress(ConfigError):
        load_settings(home=_HOME)
    with contextlib.suppress(ConfigError):
        load_declarations(_TOML)


if __name__ == "__main__":
    _harness.fuzz(test_one_input)
