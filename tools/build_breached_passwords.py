"""Build ``src/shopguard/governance/data/breached_passwords.bin`` from zxcvbn's password list.

The list is the 30,000 most common passwords of zxcvbn's frequency lists
(https://github.com/dwolverton/zxcvbn-python, MIT licence; derived from
Mark Burnett's 10 million password set). It is shipped as sorted 5-byte
SHA-256 prefixes of each lower-cased password (150 kB; a false match for an
unrelated password has probability about 30,000 / 2**40 = 3e-8), so no
password appears in clear in the package.

Run once (needs ``pip download zxcvbn==4.5.0`` unpacked on ``sys.path``)::

    python3 -m pip install 'zxcvbn==4.5.0' --target /tmp/zx
    PYTHONPATH=/tmp/zx python3 tools/build_breached_passwords.py
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from zxcvbn.frequency_lists import FREQUENCY_LISTS

PREFIX = 5
OUT = Path(__file__).resolve().parents[1] / "src/shopguard/governance/data/breached_passwords.bin"


def main() -> None:
    words = {w.strip().lower() for w in FREQUENCY_LISTS["passwords"] if w.strip()}
    prefixes = sorted({hashlib.sha256(w.encode()).digest()[:PREFIX] for w in words})
    OUT.write_bytes(b"".join(prefixes))
    print(f"{len(prefixes)} prefixes -> {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
