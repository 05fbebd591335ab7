"""Delivering identity changes to member libraries through their adapters.

``pool`` opens each library's adapter from its stored configuration; ``deliver``
brings one library's patron in line with a reader; ``run`` works through the
outbox with retries, backoff, a circuit breaker and dead letters.
"""
