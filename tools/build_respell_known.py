"""Build ``src/shopguard/assistant/respell_known.txt``: the English words that round 17's
respelling (:mod:`shopguard.assistant._respell`) must keep as written.

They are the words of SCOWL's American and British lists (Debian's ``wamerican`` and
``wbritish``, Kevin Atkinson; the licence is quoted at the top of the output) within
:func:`~shopguard.assistant._respell.max_edits` of a target word, so the package ships a
few hundred words, not the 100,000. Rebuild after changing ``TARGETS``::

    apt-get install wamerican wbritish
    python3 tools/build_respell_known.py
"""

from __future__ import annotations

import re
from pathlib import Path

from rich.progress import track

from shopguard.assistant._respell import TARGETS, nearest_target

LISTS = (Path("/usr/share/dict/american-english"), Path("/usr/share/dict/british-english"))
OUT = Path(__file__).resolve().parents[1] / "src/shopguard/assistant/respell_known.txt"
HEADER = """\
# English words one or two edits from a word of shopguard.assistant._respell.TARGETS,
# kept as written by the respelling. Built by tools/build_respell_known.py from SCOWL
# (Spell Checker Oriented Word Lists, Debian wamerican and wbritish):
#
#   Copyright 2000-2011 by Kevin Atkinson
#
#   Permission to use, copy, modify, distribute and sell these word
#   lists, the associated scripts, the output created from the scripts,
#   and its documentation for any purpose is hereby granted without fee,
#   provided that the above copyright notice appears in all copies and
#   that both that copyright notice and this permission notice appear in
#   supporting documentation. Kevin Atkinson makes no representations
#   about the suitability of this array for any purpose. It is provided
#   "as is" without express or implied warranty.
"""
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def main() -> None:
    words = {w.strip().lower() for path in LISTS for w in path.read_text("utf-8").splitlines()}
    words = {w for w in words if _WORD.fullmatch(w) and len(w) >= 5} - set(TARGETS)
    near = {
        w
        for w in track(sorted(words), description="words near a target")
        if nearest_target(w) is not None
    }
    OUT.write_text(HEADER + "\n".join(sorted(near)) + "\n", "utf-8")
    print(f"{len(near)} words -> {OUT}")


if __name__ == "__main__":
    main()
