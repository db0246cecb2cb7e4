"""gunicorn configuration: N uvicorn workers serving the shopguard gateway.

Run:  gunicorn -c deploy/gunicorn.conf.py
Every worker builds its own app from SHOPGUARD_* settings; they share state only
through PostgreSQL (SHOPGUARD_DATABASE_URL) and Redis (SHOPGUARD_REDIS_URL).
"""

import os

wsgi_app = "shopguard.gateway.app:app_from_environment()"
worker_class = "uvicorn.workers.UvicornWorker"
workers = int(os.environ.get("SHOPGUARD_WORKERS", "2"))
bind = os.environ.get("SHOPGUARD_BIND", "127.0.0.1:8000")
# A worker that stops answering is killed and replaced; in-flight requests fail over
# at the load balancer. Audit entries are durable before a response starts.
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 100_000  # recycle workers now and then (bounds any slow leak)
max_requests_jitter = 10_000
accesslog = None  # URLs carry customer ids; the audit log records requests instead
errorlog = "-"
loglevel = "warning"
# TLS: terminate at the load balancer, or set both of these.
certfile = os.environ.get("SHOPGUARD_TLS_CERT") or None
keyfile = os.environ.get("SHOPGUARD_TLS_KEY") or None
