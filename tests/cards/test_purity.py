"""`cards` must run on a gate without the service: no Flask, no SQLAlchemy."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import cards

ROOT = Path(__file__).resolve().parents[2]


def test_cards_imports_neither_flask_nor_sqlalchemy() -> None:
    modules = sorted(f"cards.{m.name}" for m in pkgutil.iter_modules(cards.__path__))
    assert "cards.verify" in modules and len(modules) >= 10
    code = (
        f"import cards, {', '.join(modules)}; import sys; "
        "assert 'flask' not in sys.modules and 'sqlalchemy' not in sys.modules, "
        "sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_format_specification_ships_with_the_package() -> None:
    spec = Path(cards.__file__).with_name("FORMAT.md").read_text(encoding="utf-8")
    assert "147 characters" in spec and "readerpass-status-delta+jwt" in spec
