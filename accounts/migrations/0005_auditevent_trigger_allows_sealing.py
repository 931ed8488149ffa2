"""Let the append-only trigger permit exactly one write: sealing an unsealed row.

Any other UPDATE, and every DELETE, is still rejected on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION accounts_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND OLD.chain_hash = '' AND NEW.chain_hash <> ''
        AND NEW.id = OLD.id
        AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
        AND NEW.actor_role = OLD.actor_role
        AND NEW.action = OLD.action
        AND NEW.object_type = OLD.object_type
        AND NEW.object_id = OLD.object_id
        AND NEW.request_id = OLD.request_id
        AND NEW.ip_address IS NOT DISTINCT FROM OLD.ip_address
        AND NEW.created_at = OLD.created_at
        AND NEW.extra = OLD.extra
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'accounts_auditevent is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

ORIGINAL = """
CREATE OR REPLACE FUNCTION accounts_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'accounts_auditevent is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)


def _backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ORIGINAL, params=None)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_auditevent_hash_chain")]

    operations = [migrations.RunPython(_forward, _backward)]
