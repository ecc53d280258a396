"""Prometheus metrics of one host app (own registry, so tests can run many apps per process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["HostMetrics"]

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class HostMetrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.requests = Counter("haltguard_requests_total", "HTTP requests by route and status", ["route", "status"], registry=r)
        self.latency = Histogram("haltguard_request_seconds", "request latency by route", ["route"],
                                 buckets=_LATENCY_BUCKETS, registry=r)
        self.entities = Counter("haltguard_entities_total", "entities found by type", ["type"], registry=r)
        self.prompt_verdicts = Counter("haltguard_prompt_security_total", "prompt-security verdicts", ["verdict"], registry=r)
        self.halts = Counter("haltguard_halts_total", "stream halts by reason", ["reason"], registry=r)
        self.cache = Counter("haltguard_score_cache_total", "score cache lookups", ["result"], registry=r)
        self.batch_size = Histogram("haltguard_batch_size", "pairs per model forward pass",
                                    buckets=(1, 2, 4, 8, 16, 32, 64, 128), registry=r)
        self.revocations = Counter("haltguard_revocations_total", "revocations by kind", ["kind"], registry=r)
        self.rate_limited = Counter("haltguard_rate_limited_total", "requests refused by the rate limit", registry=r)
        self.errors = Counter("haltguard_errors_total", "4xx/5xx responses by error code", ["code"], registry=r)
        self.proxy_requests = Counter("haltguard_proxy_requests_total", "proxied chat completions by upstream and outcome "
                                      "(ok, halted, blocked, upstream_error)", ["upstream", "outcome"], registry=r)
        self.proxy_upstream_seconds = Histogram("haltguard_proxy_upstream_seconds", "upstream time to the whole answer "
                                                "(or to the first streamed event)", ["upstream"],
                                                buckets=_LATENCY_BUCKETS + (30.0, 60.0), registry=r)
        self.model_loaded = Gauge("haltguard_model_loaded", "1 when the configured model is loaded", ["engine"], registry=r)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
