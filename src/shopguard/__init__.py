"""shopguard: protects the AI features of an online store and proves every defence by attacking it."""

__version__ = "0.1.0"
