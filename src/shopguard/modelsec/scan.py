"""Static, allow-list based scanning of model artifacts: nothing is ever loaded.

Deny-lists of "dangerous" globals keep being bypassed (``timeit.timeit``,
``pydoc.pipepager``, ``numpy.testing`` helpers, ``operator.attrgetter`` chains,
... see protectai/modelscan's issue tracker). This scanner decides the other way
round: a pickle may only name globals from :data:`SAFE_CALLABLES` (which may be
called) or construct classes of trusted libraries with no arguments
(:data:`TRUSTED_CLASS_PREFIXES`, the ``NEWOBJ`` form scikit-learn and torch
modules pickle to). Anything else -- an unknown global, a ``STACK_GLOBAL``
whose name cannot be resolved statically, an extension-registry code, a
persistent id outside a PyTorch archive, an opcode it does not know, a format
it does not recognise -- is unsafe.

Formats: pickle (protocols 0-5, several pickles in one stream), joblib (raw
array bytes between pickle frames are skipped using the wrapper's shape and
dtype; object arrays are scanned as the nested pickles they are), PyTorch zip
archives (every ``*.pkl`` member), NumPy ``.npy``/``.npz`` (object arrays hold
pickles), Keras 3 ``.keras`` zips and HDF5 ``.h5`` (``Lambda`` layers and
custom modules carry code), skops, safetensors, JSON and plain text.

References
----------
Python ``pickletools`` (opcode definitions); joblib ``numpy_pickle`` (array
layout); Trail of Bits, "Never a dill moment: exploiting ML pickle files"
(2021); protectai/modelscan (the deny-list approach this replaces).
"""

from __future__ import annotations

import io
import json
import math
import pickletools
import struct
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "SAFE_CALLABLES",
    "TRUSTED_CLASS_PREFIXES",
    "Finding",
    "ScanReport",
    "Verdict",
    "scan_bytes",
    "scan_path",
    "scan_paths",
]

#: Globals a pickle may call (``REDUCE``) or reference in any way.
SAFE_CALLABLES: frozenset[str] = frozenset(
    {
        # containers and plain values
        "builtins.set",
        "builtins.frozenset",
        "builtins.complex",
        "builtins.bytearray",
        "builtins.slice",
        "builtins.range",
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
        "builtins.int",
        "builtins.float",
        "builtins.str",
        "builtins.bytes",
        "builtins.bool",
        "builtins.object",
        "__builtin__.set",
        "__builtin__.frozenset",
        "__builtin__.object",
        "__builtin__.bytes",
        "collections.OrderedDict",
        "collections.defaultdict",
        "collections.deque",
        "copyreg._reconstructor",
        "copy_reg._reconstructor",
        "datetime.datetime",
        "datetime.date",
        "datetime.timedelta",
        "datetime.timezone",
        "decimal.Decimal",
        "_codecs.encode",
        "fractions.Fraction",
        "uuid.UUID",
        # numpy arrays, dtypes and scalars
        "numpy.core.multiarray._reconstruct",
        "numpy._core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar",
        "numpy._core.multiarray.scalar",
        "numpy.core.numeric._frombuffer",
        "numpy._core.numeric._frombuffer",
        "numpy.ndarray",
        "numpy.dtype",
        "numpy.random._pickle.__randomstate_ctor",
        "numpy.random._pickle.__bit_generator_ctor",
        "numpy.random._pickle.__generator_ctor",
        "numpy.random.mtrand._RandomState",
        "numpy.random._mt19937.MT19937",
        "numpy.random._pcg64.PCG64",
        "numpy.random.bit_generator.__pyx_unpickle_SeedSequence",
        "numpy.random._generator.Generator",
        # scikit-learn's Cython objects rebuilt from arrays
        "sklearn.tree._tree.Tree",
        "sklearn._loss._loss.CyHalfBinomialLoss",
        "sklearn._loss._loss.CyHalfSquaredError",
        "sklearn._loss._loss.CyHalfMultinomialLoss",
        "sklearn._loss.link.LogitLink",
        "sklearn._loss.link.IdentityLink",
        "sklearn._loss.link.MultinomialLogit",
        "scipy.sparse._csr.csr_matrix",
        "scipy.sparse._csc.csc_matrix",
        # joblib's array wrapper (the array bytes are skipped, never parsed as code)
        "joblib.numpy_pickle.NumpyArrayWrapper",
        # PyTorch tensor rebuild helpers (inside torch zip archives)
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter",
        "torch._utils._rebuild_parameter_with_state",
        "torch._tensor._rebuild_from_type_v2",
        "torch.Size",
        "torch.device",
        "torch.Tensor",
        "torch.nn.parameter.Parameter",
        "torch.serialization._get_layout",
    }
)

#: Scalar / storage types torch names as globals (``torch.FloatStorage``, ``torch.float32``).
_TORCH_TYPES = frozenset(
    {
        f"torch.{t}Storage"
        for t in (
            "Float",
            "Double",
            "Half",
            "BFloat16",
            "Long",
            "Int",
            "Short",
            "Char",
            "Byte",
            "Bool",
            "ComplexFloat",
            "ComplexDouble",
            "Untyped",
        )
    }
    | {
        f"torch.{t}"
        for t in (
            "float32",
            "float64",
            "float16",
            "bfloat16",
            "int64",
            "int32",
            "int16",
            "int8",
            "uint8",
            "bool",
            "complex64",
            "complex128",
            "strided",
            "sparse_coo",
            "contiguous_format",
            "channels_last",
            "preserve_format",
        )
    }
    | {"torch.storage.UntypedStorage", "torch.storage.TypedStorage"}
)

#: Classes under these modules may be constructed *without arguments* (``cls.__new__(cls)``,
#: then ``__setstate__``): how estimators and ``nn.Module`` subclasses pickle. Calling them
#: (``REDUCE``) is still refused unless listed in :data:`SAFE_CALLABLES`.
TRUSTED_CLASS_PREFIXES: tuple[str, ...] = (
    "sklearn.",
    "scipy.sparse.",
    "numpy.",
    "torch.nn.modules.",
)
_PROTOCOL_MAX = 5
_MAX_DEPTH = 6
_PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".bin", ".ckpt", ".dat", ".p")


class Verdict(StrEnum):
    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class Finding:
    """One reason an artifact is unsafe: what, where (member and byte offset), never a payload."""

    construct: str
    member: str
    offset: int | None = None
    detail: str = ""

    def __str__(self) -> str:
        where = self.member + (f"@{self.offset}" if self.offset is not None else "")
        return f"{self.construct} ({where}){': ' + self.detail if self.detail else ''}"


@dataclass(frozen=True)
class ScanReport:
    """The scan of one file: its format, verdict, findings and the globals it names."""

    path: str
    format: str
    verdict: Verdict
    findings: tuple[Finding, ...] = ()
    globals_seen: tuple[str, ...] = ()

    @property
    def safe(self) -> bool:
        return self.verdict is Verdict.SAFE

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "verdict": self.verdict.value,
            "findings": [str(f) for f in self.findings],
            "globals": list(self.globals_seen),
        }


# -- pickle --------------------------------------------------------------------------------


class _Mark:
    pass


_MARK = _Mark()


@dataclass(frozen=True)
class _Global:
    dotted: str


@dataclass(frozen=True)
class _Obj:
    """The result of constructing ``cls`` (statically: only what we need to skip joblib data)."""

    cls: str
    args: Any = None
    state: Any = None


class _Unknown:
    """A value the scanner does not follow (the result of an allowed call, a persistent id)."""


_UNKNOWN = _Unknown()


@dataclass
class _PickleScan:
    member: str
    torch: bool
    findings: list[Finding] = field(default_factory=list)
    globals_seen: set[str] = field(default_factory=set)
    nested: list[tuple[str, bytes]] = field(default_factory=list)

    def unsafe(self, construct: str, offset: int | None, detail: str = "") -> None:
        self.findings.append(Finding(construct, self.member, offset, detail))

    def _allowed(self, dotted: str) -> bool:
        if dotted in SAFE_CALLABLES:
            return True
        return self.torch and dotted in _TORCH_TYPES

    def _class_ok(self, dotted: str) -> bool:
        return dotted.startswith(TRUSTED_CLASS_PREFIXES) and not dotted.startswith(
            ("numpy.testing", "numpy.distutils", "numpy.f2py", "numpy.lib.npyio", "numpy.memmap")
        )

    def global_(self, dotted: str, offset: int) -> _Global:
        self.globals_seen.add(dotted)
        return _Global(dotted)

    def check_reference(self, value: Any, offset: int, *, how: str) -> None:
        """A global used other than by NEWOBJ-without-arguments must be on the allow-list."""
        if isinstance(value, _Global) and not self._allowed(value.dotted):
            self.unsafe(f"global {value.dotted}", offset, f"not on the allow-list ({how})")


def _split_global(arg: str) -> str:
    module, _, name = arg.partition(" ")
    return f"{module}.{name}"


def _scan_pickle_stream(data: bytes, scan: _PickleScan) -> None:
    """Walk every pickle in ``data`` (they may be concatenated) without executing any."""
    stream = io.BytesIO(data)
    count = 0
    while stream.tell() < len(data):
        start = stream.tell()
        if count and data[start:].strip(b"\x00") == b"":
            return
        try:
            _walk_one(stream, scan)
        except _Stop:
            return
        count += 1
        if stream.tell() <= start:  # pragma: no cover - defensive
            scan.unsafe("malformed pickle", start)
            return


class _Stop(Exception):
    pass


def _walk_one(stream: io.BytesIO, scan: _PickleScan) -> None:
    stack: list[Any] = []
    memo: dict[int, Any] = {}
    metastack: list[list[Any]] = []

    def pop_mark() -> list[Any]:
        nonlocal stack
        items = stack
        stack = metastack.pop() if metastack else []
        return items

    def pop() -> Any:
        return stack.pop() if stack else _UNKNOWN

    ops = pickletools.genops(stream)
    while True:
        try:
            op, raw_arg, pos = next(ops)
        except StopIteration:
            scan.unsafe("truncated pickle (no STOP)", stream.tell())
            raise _Stop() from None
        except (ValueError, struct.error, UnicodeDecodeError, EOFError, IndexError):
            scan.unsafe("malformed pickle or unknown opcode", stream.tell())
            raise _Stop() from None
        offset = int(pos) if pos is not None else -1
        name = op.name
        arg: Any = raw_arg
        try:
            if name == "PROTO":
                if int(arg) > _PROTOCOL_MAX:
                    scan.unsafe(f"pickle protocol {arg}", offset, "unknown protocol")
            elif name == "STOP":
                return
            elif name in ("FRAME",):
                pass
            elif name in ("GLOBAL", "INST"):
                dotted = _split_global(str(arg))
                g = scan.global_(dotted, offset)
                if name == "INST":
                    args = pop_mark()
                    scan.check_reference(g, offset, how="INST call")
                    _check_args(args, scan, offset)
                    stack.append(_Obj(dotted, tuple(args)))
                else:
                    stack.append(g)
            elif name == "STACK_GLOBAL":
                attr, module = pop(), pop()
                if not (isinstance(module, str) and isinstance(attr, str)):
                    scan.unsafe(
                        "STACK_GLOBAL with a name built at load time",
                        offset,
                        "cannot be resolved statically",
                    )
                    stack.append(_UNKNOWN)
                else:
                    stack.append(scan.global_(f"{module}.{attr}", offset))
            elif name in ("EXT1", "EXT2", "EXT4"):
                scan.unsafe("extension-registry global (EXT)", offset, f"code {arg}")
                stack.append(_UNKNOWN)
            elif name in ("PERSID", "BINPERSID"):
                if name == "BINPERSID":
                    pop()
                if not scan.torch:
                    scan.unsafe("persistent id outside a PyTorch archive", offset)
                stack.append(_UNKNOWN)
            elif name == "REDUCE":
                args, fn = pop(), pop()
                if isinstance(fn, _Global):
                    scan.check_reference(fn, offset, how="called by REDUCE")
                    stack.append(_reduce_result(fn.dotted, args))
                else:
                    scan.unsafe("REDUCE on a computed callable", offset)
                    stack.append(_UNKNOWN)
                _check_args(args, scan, offset)
            elif name in ("NEWOBJ", "NEWOBJ_EX"):
                kwargs = pop() if name == "NEWOBJ_EX" else None
                args, cls = pop(), pop()
                empty = args == () and kwargs in (None, {})
                if isinstance(cls, _Global):
                    if not (scan._allowed(cls.dotted) or (empty and scan._class_ok(cls.dotted))):
                        scan.unsafe(
                            f"global {cls.dotted}", offset, "not on the allow-list (NEWOBJ)"
                        )
                    stack.append(_Obj(cls.dotted, args))
                else:
                    scan.unsafe("NEWOBJ on a computed class", offset)
                    stack.append(_UNKNOWN)
                _check_args(args, scan, offset)
            elif name == "OBJ":
                items = pop_mark()
                if not items:
                    scan.unsafe("malformed OBJ", offset)
                    stack.append(_UNKNOWN)
                else:
                    cls, args = items[0], items[1:]
                    if isinstance(cls, _Global):
                        if not (
                            scan._allowed(cls.dotted) or (not args and scan._class_ok(cls.dotted))
                        ):
                            scan.unsafe(
                                f"global {cls.dotted}", offset, "not on the allow-list (OBJ)"
                            )
                        stack.append(_Obj(cls.dotted, tuple(args)))
                    else:
                        scan.unsafe("OBJ on a computed class", offset)
                        stack.append(_UNKNOWN)
                    _check_args(args, scan, offset)
            elif name == "BUILD":
                state, obj = pop(), pop()
                _check_args(state, scan, offset)
                if isinstance(obj, _Obj) and obj.cls == "joblib.numpy_pickle.NumpyArrayWrapper":
                    _skip_joblib_array(stream, state, scan, offset)
                if isinstance(obj, _Global):
                    scan.check_reference(obj, offset, how="BUILD target")
                stack.append(obj)
            elif name == "MARK":
                metastack.append(stack)
                stack = []
            elif name == "POP":
                pop()
            elif name == "POP_MARK":
                pop_mark()
            elif name == "DUP":
                stack.append(stack[-1] if stack else _UNKNOWN)
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[int(arg)] = stack[-1] if stack else _UNKNOWN
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1] if stack else _UNKNOWN
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                stack.append(memo.get(int(arg), _UNKNOWN))
            elif name in (
                "BINUNICODE",
                "SHORT_BINUNICODE",
                "BINUNICODE8",
                "UNICODE",
                "STRING",
                "BINSTRING",
                "SHORT_BINSTRING",
            ):
                stack.append(str(arg) if not isinstance(arg, bytes) else arg.decode("latin-1"))
            elif name in ("BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8"):
                stack.append(bytes(arg))
            elif name in ("INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4"):
                stack.append(int(arg) if not isinstance(arg, bool) else arg)
            elif name in ("FLOAT", "BINFLOAT"):
                stack.append(float(arg))
            elif name == "NONE":
                stack.append(None)
            elif name in ("NEWTRUE", "NEWFALSE"):
                stack.append(name == "NEWTRUE")
            elif name in ("EMPTY_TUPLE",):
                stack.append(())
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(name[-1])
                items = [pop() for _ in range(n)][::-1]
                stack.append(tuple(items))
            elif name == "TUPLE":
                # pop_mark rebinds ``stack``: pop first, then append to the restored stack.
                items = pop_mark()
                stack.append(tuple(items))
            elif name in ("EMPTY_LIST",):
                stack.append([])
            elif name == "LIST":
                items = pop_mark()
                stack.append(items)
            elif name in ("EMPTY_DICT",):
                stack.append({})
            elif name == "DICT":
                items = pop_mark()
                stack.append(_as_dict(items))
            elif name == "EMPTY_SET":
                stack.append(set())
            elif name == "FROZENSET":
                pop_mark()
                stack.append(_UNKNOWN)
            elif name == "APPEND":
                value = pop()
                if stack and isinstance(stack[-1], list):
                    stack[-1].append(value)
            elif name == "APPENDS":
                items = pop_mark()
                if stack and isinstance(stack[-1], list):
                    stack[-1].extend(items)
            elif name == "SETITEM":
                value, key = pop(), pop()
                if stack and isinstance(stack[-1], dict):
                    _dict_set(stack[-1], key, value)
            elif name == "SETITEMS":
                items = pop_mark()
                if stack and isinstance(stack[-1], dict):
                    for k, v in zip(items[::2], items[1::2], strict=False):
                        _dict_set(stack[-1], k, v)
            elif name == "ADDITEMS":
                pop_mark()
            elif name in ("NEXT_BUFFER", "READONLY_BUFFER"):
                if name == "NEXT_BUFFER":
                    stack.append(_UNKNOWN)
            else:
                scan.unsafe(f"opcode {name}", offset, "not understood by the scanner")
        except IndexError:
            scan.unsafe("malformed pickle (stack underflow)", offset)
            raise _Stop() from None


def _dict_set(d: dict[Any, Any], key: Any, value: Any) -> None:
    try:
        d[key] = value
    except TypeError:
        d[repr(type(key))] = value


def _as_dict(items: list[Any]) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for k, v in zip(items[::2], items[1::2], strict=False):
        _dict_set(out, k, v)
    return out


def _check_args(value: Any, scan: _PickleScan, offset: int, depth: int = 0) -> None:
    """Globals passed as arguments or state (e.g. ``defaultdict(os.system)``) must be allowed too.

    ``_reconstructor(cls, base, state)`` and ``NEWOBJ`` targets are the class-construction
    forms; a class passed to ``_reconstructor`` follows the class rule.
    """
    if depth > 20:
        return
    if isinstance(value, _Global):
        if not (scan._allowed(value.dotted) or scan._class_ok(value.dotted)):
            scan.unsafe(f"global {value.dotted}", offset, "not on the allow-list (argument)")
    elif isinstance(value, tuple | list):
        for v in value:
            _check_args(v, scan, offset, depth + 1)
    elif isinstance(value, dict):
        for v in value.values():
            _check_args(v, scan, offset, depth + 1)


def _reduce_result(dotted: str, args: Any) -> Any:
    if dotted == "numpy.dtype" and isinstance(args, tuple) and args and isinstance(args[0], str):
        try:
            return np.dtype(args[0])
        except TypeError:
            return _UNKNOWN
    return _Obj(dotted, args)


def _skip_joblib_array(stream: io.BytesIO, state: Any, scan: _PickleScan, offset: int) -> None:
    """Skip the raw bytes joblib writes after an array wrapper; scan object arrays as pickles."""
    if not isinstance(state, dict):
        scan.unsafe("joblib array wrapper without a readable state", offset)
        raise _Stop()
    shape, dtype = state.get("shape"), state.get("dtype")
    if not (isinstance(shape, tuple) and all(isinstance(s, int) and s >= 0 for s in shape)):
        scan.unsafe("joblib array with an unreadable shape", offset)
        raise _Stop()
    if isinstance(dtype, _Obj) and dtype.cls == "numpy.dtype":
        dtype = _reduce_result("numpy.dtype", dtype.args)
    if not isinstance(dtype, np.dtype):
        scan.unsafe("joblib array with an unreadable dtype", offset)
        raise _Stop()
    if dtype.hasobject:
        # joblib pickles object arrays inline with protocol 5: that nested pickle is code too.
        _walk_one(stream, scan)
        return
    if state.get("numpy_array_alignment_bytes") is not None:
        pad = stream.read(1)
        if len(pad) != 1:
            scan.unsafe("truncated joblib array", offset)
            raise _Stop()
        stream.seek(pad[0], io.SEEK_CUR)
    nbytes = math.prod(shape) * dtype.itemsize
    here = stream.tell()
    if here + nbytes > len(stream.getbuffer()):
        scan.unsafe("truncated joblib array", offset)
        raise _Stop()
    stream.seek(nbytes, io.SEEK_CUR)


def _looks_like_pickle(data: bytes) -> bool:
    if not data:
        return False
    if data[0] == 0x80 and len(data) > 1 and data[1] <= 0x0F:
        return True
    # Protocol 0/1 pickles start with one of a few opcodes; only accept if the walk ends at STOP.
    if data[:1] not in (b"(", b"c", b"]", b"}", b")", b"I", b"S", b"V", b"N", b"i", b"l", b"d"):
        return False
    try:
        for op, _arg, _pos in pickletools.genops(io.BytesIO(data)):
            if op.name == "STOP":
                return True
    except Exception:
        return False
    return False


def _scan_pickle(data: bytes, member: str, *, torch: bool = False) -> _PickleScan:
    scan = _PickleScan(member=member, torch=torch)
    _scan_pickle_stream(data, scan)
    return scan


# -- other formats ------------------------------------------------------------------------


def _npy(
    data: bytes, member: str, findings: list[Finding], globals_seen: set[str], depth: int
) -> None:
    if data[:6] != b"\x93NUMPY" or len(data) < 10:
        findings.append(Finding("malformed .npy header", member))
        return
    major = data[6]
    if major == 1:
        hlen, start = struct.unpack("<H", data[8:10])[0], 10
    else:
        hlen, start = struct.unpack("<I", data[8:12])[0], 12
    header = data[start : start + hlen].decode("latin-1", "replace")
    if "'O'" in header or '"O"' in header or "|O" in header:
        # Object arrays are stored as a pickle after the header: scan it.
        sub = _scan_pickle(data[start + hlen :], f"{member}:object-array")
        findings.extend(sub.findings)
        globals_seen.update(sub.globals_seen)


def _keras_config(config: Any, member: str, findings: list[Finding]) -> None:
    def walk(node: Any) -> None:
        if isinstance(node, dict):
            cls = node.get("class_name")
            if cls in ("Lambda", "TFOpLambda", "SlicingOpLambda"):
                findings.append(
                    Finding(f"Keras {cls} layer", member, None, "layer carries Python code")
                )
            module = node.get("module")
            if isinstance(module, str) and not module.startswith(
                ("keras", "tensorflow.keras", "tf_keras")
            ):
                findings.append(Finding(f"Keras custom object from module {module}", member))
            if isinstance(node.get("function"), dict | list | str) and cls not in (None,):
                fn = node.get("function")
                if isinstance(fn, dict) and fn.get("class_name") == "__lambda__":
                    findings.append(Finding("Keras serialised lambda", member))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(config)


def _zip(data: bytes, name: str, depth: int) -> tuple[str, list[Finding], set[str]]:
    findings: list[Finding] = []
    seen: set[str] = set()
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = zf.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return "zip", [Finding("corrupt zip archive", name)], seen
    torch = any(n == "data.pkl" or n.endswith("/data.pkl") for n in names)
    keras = "config.json" in names and ("metadata.json" in names or "model.weights.h5" in names)
    skops = "schema.json" in names
    fmt = "pytorch" if torch else "keras" if keras else "skops" if skops else "zip"
    with zf:
        for member in names:
            info = zf.getinfo(member)
            if info.is_dir():
                continue
            if info.file_size > 4 * 1024**3:
                findings.append(Finding("oversized zip member", f"{name}:{member}"))
                continue
            body = zf.read(member)
            label = f"{name}:{member}"
            if keras and member == "config.json":
                try:
                    _keras_config(json.loads(body), label, findings)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    findings.append(Finding("unreadable Keras config", label))
                continue
            if skops and member == "schema.json":
                findings.extend(_skops_schema(body, label, seen))
                continue
            sub = _scan(body, label, depth + 1, torch=torch, in_archive=fmt)
            findings.extend(sub.findings)
            seen.update(sub.globals_seen)
    return fmt, findings, seen


def _skops_schema(body: bytes, label: str, seen: set[str]) -> list[Finding]:
    """skops loads only types it is told to trust; we allow scikit-learn / numpy / scipy ones."""
    try:
        schema = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return [Finding("unreadable skops schema", label)]
    out: list[Finding] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            module, cls = node.get("__module__"), node.get("__class__")
            if isinstance(module, str) and isinstance(cls, str):
                dotted = f"{module}.{cls}"
                seen.add(dotted)
                if not (
                    module.startswith(("sklearn.", "numpy", "scipy.sparse", "skops."))
                    or dotted in SAFE_CALLABLES
                    or (
                        module == "builtins"
                        and cls
                        in (
                            "dict",
                            "list",
                            "tuple",
                            "str",
                            "int",
                            "float",
                            "bool",
                            "NoneType",
                            "set",
                            "slice",
                            "type",
                            "bytes",
                            "bytearray",
                        )
                    )
                ):
                    out.append(
                        Finding(f"skops type {dotted}", label, None, "not on the allow-list")
                    )
                if module == "builtins" and cls in (
                    "function",
                    "builtin_function_or_method",
                    "method",
                ):
                    out.append(Finding(f"skops function object {dotted}", label))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(schema)
    # A function reference in skops is stored as {"__class__": "function", "content": {...}}.
    return out


def _h5(data: bytes, name: str) -> list[Finding]:
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is a dependency
        return [Finding("HDF5 file and h5py is not installed", name)]
    findings: list[Finding] = []
    try:
        with h5py.File(io.BytesIO(data), "r") as f:
            raw = f.attrs.get("model_config")
            if raw is not None:
                text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
                _keras_config(json.loads(text), f"{name}:model_config", findings)
    except (OSError, ValueError, json.JSONDecodeError):
        findings.append(Finding("unreadable HDF5 file", name))
    return findings


#: Most bytes a compressed artifact may inflate to (decompression bombs are refused).
MAX_INFLATED = 2 * 1024**3


def _decompress(data: bytes, name: str) -> bytes | Finding | None:
    """Inflate zlib / gzip / bz2 / xz streams (how joblib compresses); None if not compressed."""
    import bz2
    import lzma
    import zlib

    if data[:2] in (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda"):
        d: Any = zlib.decompressobj()
    elif data[:2] == b"\x1f\x8b":
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif data[:3] == b"BZh":
        d = bz2.BZ2Decompressor()
    elif data[:6] == b"\xfd7zXZ\x00":
        d = lzma.LZMADecompressor()
    else:
        return None
    try:
        if isinstance(d, bz2.BZ2Decompressor | lzma.LZMADecompressor):
            out = d.decompress(data, max_length=MAX_INFLATED + 1)
        else:
            out = d.decompress(data, MAX_INFLATED + 1)
    except (zlib.error, OSError, lzma.LZMAError, EOFError):
        return Finding("corrupt compressed stream", name)
    if len(out) > MAX_INFLATED:
        return Finding("compressed artifact inflates past the limit", name)
    return out


@dataclass
class _Sub:
    format: str
    findings: list[Finding]
    globals_seen: set[str]


def _scan(
    data: bytes, name: str, depth: int = 0, *, torch: bool = False, in_archive: str = ""
) -> _Sub:
    if depth > _MAX_DEPTH:
        return _Sub("nested", [Finding("archive nesting too deep", name)], set())
    lower = name.lower()
    inflated = _decompress(data, name)
    if inflated is not None:
        if isinstance(inflated, Finding):
            return _Sub("compressed", [inflated], set())
        sub = _scan(inflated, f"{name}:decompressed", depth + 1, torch=torch)
        return _Sub(f"compressed-{sub.format}", sub.findings, sub.globals_seen)
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        fmt, findings, seen = _zip(data, name, depth)
        return _Sub(fmt, findings, seen)
    if data[:8] == b"\x89HDF\r\n\x1a\n":
        return _Sub("hdf5", _h5(data, name), set())
    if data[:6] == b"\x93NUMPY":
        npy_findings: list[Finding] = []
        npy_seen: set[str] = set()
        _npy(data, name, npy_findings, npy_seen, depth)
        return _Sub("npy", npy_findings, npy_seen)
    if _looks_like_pickle(data) or (lower.endswith(_PICKLE_SUFFIXES) and data[:1] == b"\x80"):
        scan = _scan_pickle(data, name, torch=torch)
        fmt = "joblib" if "joblib.numpy_pickle.NumpyArrayWrapper" in scan.globals_seen else "pickle"
        return _Sub(fmt, scan.findings, scan.globals_seen)
    if len(data) >= 8:
        (hlen,) = struct.unpack("<Q", data[:8])
        if 2 <= hlen <= len(data) - 8 and data[8:9] == b"{":
            try:
                json.loads(data[8 : 8 + hlen])
                return _Sub("safetensors", [], set())
            except (json.JSONDecodeError, UnicodeDecodeError):
                pass
    if in_archive == "pytorch":
        # Tensor storages, version and byte-order records: raw bytes, never deserialised as code.
        return _Sub("tensor-data", [], set())
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return _Sub(
            "unknown",
            [Finding("unrecognised binary format", name, None, "not known to be safe")],
            set(),
        )
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            json.loads(stripped)
            return _Sub("json", [], set())
        except json.JSONDecodeError:
            pass
    if "\x00" in text:
        return _Sub("unknown", [Finding("unrecognised binary format", name)], set())
    return _Sub("text", [], set())


def scan_bytes(data: bytes, name: str = "<bytes>") -> ScanReport:
    """Scan an artifact held in memory (never deserialised)."""
    sub = _scan(data, name)
    verdict = Verdict.UNSAFE if sub.findings else Verdict.SAFE
    return ScanReport(
        name, sub.format, verdict, tuple(sub.findings), tuple(sorted(sub.globals_seen))
    )


def scan_path(path: str | Path) -> ScanReport:
    """Scan a file (a directory: every file in it, one report with every finding)."""
    p = Path(path)
    if p.is_dir():
        reports = [scan_path(f) for f in sorted(p.rglob("*")) if f.is_file()]
        findings = tuple(f for r in reports for f in r.findings)
        seen = tuple(sorted({g for r in reports for g in r.globals_seen}))
        return ScanReport(
            str(p), "directory", Verdict.UNSAFE if findings else Verdict.SAFE, findings, seen
        )
    return scan_bytes(p.read_bytes(), str(p))


def scan_paths(paths: Iterable[str | Path]) -> Iterator[ScanReport]:
    for p in paths:
        yield scan_path(p)
