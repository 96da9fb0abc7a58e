"""whiteglove's help desk, in four layers, each a folder (README's "Layout" tells the rules):

- :mod:`ticketing.core`: the pure core; values and ``now`` in, decisions out;
- :mod:`ticketing.services`: the use cases, each one unit of work over the store;
- :mod:`ticketing.store`: the only code that touches the database;
- :mod:`ticketing.app`: the shell: wiring (``bootstrap``), the worker, the command line.

Beside them, :mod:`ticketing.config` reads the TOML, :mod:`ticketing.files` the package's templates
and playbook files, and :mod:`ticketing.errors` holds the one exception tree.
"""
