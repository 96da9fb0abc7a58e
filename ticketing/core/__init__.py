"""The pure core: values and ``now`` in, decisions out. Nothing here opens a file, a socket or a
database, or reads the clock; ``tests/unit/test_layering.py`` keeps it so."""
