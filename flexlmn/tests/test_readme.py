"""The README's configuration table names every variable the settings read."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_every_environment_variable_is_documented_in_the_readme() -> None:
    settings_source = (ROOT / "flexlmn" / "settings" / "base.py").read_text()
    variables = set(re.findall(r'env_(?:str|bool|int|list)\("([A-Z0-9_]+)"', settings_source))
    readme = (ROOT / "README.md").read_text()

    assert {"DATABASE_URL", "SECRET_KEY", "PAYMENT_PROVIDER"} <= variables
    missing = sorted(name for name in variables if f"`{name}`" not in readme)
    assert missing == []


def test_readme_opens_with_the_two_commands_then_logins_then_configuration() -> None:
    readme = (ROOT / "README.md").read_text()
    positions = [readme.index(heading) for heading in ("## The two commands", "## Demo logins", "## Configuration")]
    assert positions == sorted(positions)
    assert readme.index("make run") < readme.index("## Demo logins")
