"""Prometheus metrics of the gateway (one registry per app, so tests and workers don't collide)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

__all__ = ["GatewayMetrics"]


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "shopguard_gateway_requests",
            "Requests by route and decision.",
            ["route", "decision"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "shopguard_gateway_request_seconds",
            "Request latency by route.",
            ["route"],
            registry=self.registry,
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )
        self._children: dict[tuple[str, str], tuple[Any, Any]] = {}

    def observe(self, route: str, decision: str, seconds: float) -> None:
        # The labelled children, cached: ``labels()`` validates and locks on every call.
        key = (route, decision)
        children = self._children.get(key)
        if children is None:
            children = (self.requests.labels(route, decision), self.latency.labels(route))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
