"""Native thread pools of a serving process.

numpy's BLAS (OpenBLAS here) starts one thread per core and splits every matrix product
above a small size between them. A serving process multiplies small matrices per request
(the sentence encoder's 32 pieces by 512 weights, for one): the second thread saves little
wall time and spends as much CPU again waiting, and concurrent requests already keep the
cores busy. So the processes that serve (the gateway, ``shopguard assistant score-prompts``)
hold BLAS to :attr:`~shopguard.core.settings.Settings.blas_threads` threads, one by default.

The hold is process-wide and lasts until the process ends: setting the count around each call
instead leaves the released thread spinning into the next one, which costs more CPU than the
hold saves (``bench/results/assistant_injection_history.md``, round 35).
"""

from __future__ import annotations

from threadpoolctl import threadpool_limits

__all__ = ["hold_blas_threads"]


def hold_blas_threads(n: int) -> None:
    """Hold this process's BLAS pools to ``n`` threads from now on (0: leave them as they are).

    Scores move by float rounding only (the products' sums are split differently): at most
    about 2e-7 on the shipped detector.
    """
    if n < 0:
        raise ValueError("a thread count cannot be negative")
    if n:
        threadpool_limits(limits=n, user_api="blas")
