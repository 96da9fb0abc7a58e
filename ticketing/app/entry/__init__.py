"""Installed as the ``whiteglove`` package (see pyproject.toml), so that ``python -m whiteglove``
runs the command line where the ``whiteglove`` script is not on PATH (a virtual environment that is
not activated, ``sudo -u``, a container's exec)."""
