"""Routing and resilience: task detection, circuit breakers, retries, strategies and groups.

The submodules are small and independent; import what you need from them
(``modelwire.routing.tasks``, ``.breaker``, ``.retry``, ``.estimate``, ``.strategies``,
``.health``, ``.group``). Nothing is imported here so ``import modelwire`` stays cheap.
"""
