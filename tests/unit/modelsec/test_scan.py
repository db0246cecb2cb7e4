from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np
import pytest

from shopguard.modelsec.scan import scan_bytes, scan_path
from shopguard.redteam.artifacts import CorpusItem, build_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[CorpusItem]:
    return build_corpus(tmp_path_factory.mktemp("corpus"))


def test_scan_when_corpus_scanned_then_every_malicious_flagged_and_no_benign(
    corpus: list[CorpusItem],
) -> None:
    missed = [i.description for i in corpus if i.malicious and scan_path(i.path).safe]
    false_alarms = [i.description for i in corpus if not i.malicious and not scan_path(i.path).safe]
    assert len([i for i in corpus if i.malicious]) >= 40
    assert missed == []
    assert false_alarms == []


@pytest.mark.parametrize(
    ("name", "construct"),
    [
        ("stack_global_memo.pkl", "global os.system"),
        ("global_timeit.timeit.pkl", "global timeit.timeit"),
        ("getattr_import.pkl", "global builtins.getattr"),
        ("ext_registry.pkl", "extension-registry"),
        ("partial_call.pkl", "functools.partial"),
        ("concatenated.pkl", "global "),
        ("joblib_object_array.joblib", "system"),
        ("torch_renamed_root.pt", "global os.system"),
        ("lambda.keras", "Keras Lambda layer"),
        ("lambda.h5", "Keras Lambda layer"),
        ("object_array.npz", "system"),
    ],
)
def test_scan_when_obfuscated_payload_then_names_the_construct(
    corpus: list[CorpusItem], name: str, construct: str
) -> None:
    item = next(i for i in corpus if i.description == name)
    report = scan_path(item.path)
    assert not report.safe
    assert any(construct in str(f) for f in report.findings), report.findings


def test_scan_when_stack_global_name_computed_then_unsafe() -> None:
    # The module name comes from a call result: it cannot be resolved without running it.
    data = b"\x80\x04cbuiltins\nstr\n\x8c\x02os\x85R\x8c\x06system\x93\x8c\x02id\x85R."
    report = scan_bytes(data, "computed.pkl")
    assert not report.safe
    assert any("STACK_GLOBAL" in str(f) for f in report.findings)


def test_scan_when_unknown_binary_then_unsafe_and_plain_arrays_safe() -> None:
    assert not scan_bytes(b"\x01\x02\x03garbage\x00\xff", "blob.bin").safe
    buf = io.BytesIO()
    np.save(buf, np.arange(5.0))
    assert scan_bytes(buf.getvalue(), "a.npy").safe
    assert scan_bytes(pickle.dumps({"a": [1, 2.0, "x", None]}, protocol=0), "p0.pkl").safe


def test_scan_when_truncated_pickle_then_unsafe() -> None:
    data = pickle.dumps({"a": list(range(100))}, protocol=4)[:-10]
    report = scan_bytes(data, "cut.pkl")
    assert not report.safe


def test_scan_when_directory_then_reports_every_file(tmp_path: Path) -> None:
    (tmp_path / "ok.json").write_text("{}")
    (tmp_path / "bad.pkl").write_bytes(b"\x80\x02cos\nsystem\n(X\x02\x00\x00\x00idtR.")
    report = scan_path(tmp_path)
    assert not report.safe and "bad.pkl" in str(report.findings[0])
