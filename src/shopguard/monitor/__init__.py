"""Monitoring: traffic and model watch over Prometheus metrics, alert rules, drift."""
