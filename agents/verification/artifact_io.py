"""Writing a trained artifact so that the same model gives the same bytes.

pickle writes a second reference to an object it has already written as a back-reference
(its memo is keyed by object identity). Whether two equal strings in a fitted scikit-learn
model are one object or two depends on what the process did before (interning, caches), so
two trainings of the same model wrote different bytes (`scoring='loss'` was the key's own
string in one run, a copy in the other). Interning every string in the object graph first
makes equal strings one object everywhere, so the memo, and the bytes, follow from the
values alone. `CountVectorizer` also keeps `id()` of its stop-word list (`_stop_words_id`,
a cache key it re-derives when absent): a memory address, dropped. A set would pickle in
hash order, which changes with PYTHONHASHSEED: refused, so a new one is noticed at once.
"""

from __future__ import annotations

import gzip
import pickle
import sys
from pathlib import Path
from typing import Any

import numpy as np

VOLATILE = ("_stop_words_id",)  # attributes holding memory addresses


def canonical(obj: Any) -> Any:
    """A copy of what pickle would write of `obj` (its `__getstate__` applied), with every
    string interned and volatile attributes dropped; `obj` itself is left as it was."""
    return _canon(pickle.loads(pickle.dumps(obj, protocol=4)), {})


def _canon(x: Any, seen: dict[int, Any]) -> Any:
    if isinstance(x, str):
        return sys.intern(x)
    if x is None or isinstance(x, (bool, int, float, complex, bytes, type)):
        return x
    if id(x) in seen:
        return seen[id(x)]
    seen[id(x)] = x
    if isinstance(x, (set, frozenset)):
        raise ValueError("a set in a trained artifact pickles in hash order; use a sorted list")
    if isinstance(x, np.ndarray):
        if x.dtype == object:
            for i, v in enumerate(x.flat):  # writes through, whatever the array's layout
                x.flat[i] = _canon(v, seen)
        return x
    if isinstance(x, dict):
        items = [(_canon(k, seen), _canon(v, seen)) for k, v in x.items()]
        x.clear()
        x.update(items)
        return x
    if isinstance(x, list):
        x[:] = [_canon(v, seen) for v in x]
        return x
    if isinstance(x, tuple):
        out = (
            type(x)(*(_canon(v, seen) for v in x))
            if hasattr(x, "_fields")
            else tuple(_canon(v, seen) for v in x)
        )
        seen[id(x)] = out
        return out
    state = getattr(x, "__dict__", None)
    if isinstance(state, dict):
        for name in VOLATILE:
            state.pop(name, None)
        _canon(state, seen)
    return x


def write_artifact(obj: Any, path: Path) -> Path:
    """`obj` canonicalised, pickled (protocol 4) and gzip-compressed with no timestamp;
    `joblib.load` and `pickle.loads(gzip.decompress(...))` both read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = pickle.dumps(canonical(obj), protocol=4)
    path.write_bytes(gzip.compress(data, compresslevel=6, mtime=0))
    return path
