"""The installation's settings (schema 14): values chosen once and kept, shared by every worker."""
from __future__ import annotations

import peewee as pw

from ticketing.errors import StorageError

#: The key of the installation's Message-IDs (hex); made with the schema (ticketing.store.schema).
MESSAGE_ID_KEY = "message-id-key"
#: Present when the database held outgoing mail before the key existed: its plain ids still count.
LEGACY_MESSAGE_IDS = "legacy-message-ids"


class SettingsMixin:
    db: pw.Database

    def setting(self, name: str) -> str | None:
        m = self.m
        row = m.Setting.select(m.Setting.value).where(m.Setting.name == name).first()
        return row.value if row is not None else None

    def message_id_key(self) -> tuple[bytes, bool]:
        """The key that makes this installation's Message-IDs unguessable (made with the schema,
        committed before any mail uses it), and whether mail queued before it existed is in the
        database (its Message-IDs are plain)."""
        m = self.m
        key = self.setting(MESSAGE_ID_KEY)
        if key is None:
            raise StorageError(f"the database has no {MESSAGE_ID_KEY}: run 'whiteglove db upgrade'")
        legacy = m.Setting.select().where(m.Setting.name == LEGACY_MESSAGE_IDS).exists()
        return bytes.fromhex(key), legacy
