"""``shopguard demo``: build a store, train and serve its models, check them, write the report."""

from shopguard.demo.run import DemoResult, run_demo

__all__ = ["DemoResult", "run_demo"]
