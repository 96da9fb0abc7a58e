"""whiteglove's help desk: domain, storage, intake, worker and command line.

Exceptions raised by this package::

    WhitegloveError
    ├── ConfigError          the configuration cannot be used (ticketing.config)
    └── StorageError         the database cannot be used
        └── SchemaError          the schema is missing, older or newer than this code
"""
