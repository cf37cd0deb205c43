"""Services: the orchestration that reads and writes the store around pure computation.

Layers read top-down: pages -> viewer -> services (and the CLI) -> computation
(engine.recommend, engine.evaluate, engine.analysis, engine.reviews, engine.bandits) | store
(engine.store) -> data model and errors (engine.data, engine.errors). A service may import
computation and the store; neither of those imports a service (tests/unit/test_layers.py).
"""
