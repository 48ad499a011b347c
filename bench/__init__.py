"""Keystead's benchmark harness (DESIGN.md §7): real SigV4 load against Keystead, a bare ASGI app and moto.

Run it from the repository root with ``python -m bench.run`` (or ``make bench``); see ``bench/README.md``.
Performance is measured only here, never by timed unit tests.
"""
