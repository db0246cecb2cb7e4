"""The fields of a card transaction a client controls, as the unusual-input detector's features.

The fraud model's own features need the customer's history; the detector only looks at what
arrives in the request (amount, time of day, device, shipping, IP country, account age, card
present), so it scores a request in microseconds before the model runs.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["REQUEST_FEATURES", "request_matrix", "request_vector"]

REQUEST_FEATURES: tuple[str, ...] = (
    "log_amount",
    "hour_sin",
    "hour_cos",
    "device_is_new",
    "ship_bill_mismatch",
    "ip_country_mismatch",
    "log_account_age_days",
    "card_present",
)
_TWO_PI = 2.0 * math.pi


def request_vector(
    *,
    amount: float,
    at: datetime,
    device_is_new: bool,
    ship_bill_mismatch: bool,
    ip_country_mismatch: bool,
    account_age_days: int,
    card_present: bool,
) -> NDArray[np.float64]:
    """One request as a feature row (order :data:`REQUEST_FEATURES`)."""
    hour = at.hour + at.minute / 60.0
    return np.array(
        [
            math.log1p(amount),
            math.sin(_TWO_PI * hour / 24.0),
            math.cos(_TWO_PI * hour / 24.0),
            float(device_is_new),
            float(ship_bill_mismatch),
            float(ip_country_mismatch),
            math.log1p(account_age_days),
            float(card_present),
        ],
        dtype=np.float64,
    )


def _column(frame: pd.DataFrame, name: str, default: float) -> NDArray[np.float64]:
    if name in frame.columns:
        return frame[name].to_numpy(dtype=np.float64)
    return np.full(len(frame), default, dtype=np.float64)


def request_matrix(frame: pd.DataFrame) -> NDArray[np.float64]:
    """Rows of a transactions frame (FDH columns plus the store's extras) as feature rows."""
    times = pd.to_datetime(frame["TX_DATETIME"])
    hour = (times.dt.hour + times.dt.minute / 60.0).to_numpy(dtype=np.float64)
    cols: list[Any] = [
        np.log1p(frame["TX_AMOUNT"].to_numpy(dtype=np.float64)),
        np.sin(_TWO_PI * hour / 24.0),
        np.cos(_TWO_PI * hour / 24.0),
        _column(frame, "device_is_new", 0.0),
        _column(frame, "ship_bill_mismatch", 0.0),
        _column(frame, "ip_country_mismatch", 0.0),
        np.log1p(_column(frame, "account_age_days", 365.0)),
        _column(frame, "card_present", 0.0),
    ]
    return np.column_stack(cols).astype(np.float64)
