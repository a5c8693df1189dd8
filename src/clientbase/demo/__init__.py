"""The demo business: a deterministic, scalable generator of a simulated coffee-shop chain.

Not a Django app (no models): ``setup.ensure_demo`` runs the ordered stages of ``stages.STAGES``.
"""
