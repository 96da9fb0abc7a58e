"""The shell: ``bootstrap`` builds the parts from a configuration, ``worker`` runs them, ``clock``
reads the wall clock, ``cli`` is the command line. The only layer that may import every other."""
