"""`platform/` is a source root, not a package: the standard library's `platform` must win."""

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_stdlib_platform_is_not_shadowed():
    module = importlib.import_module("platform")
    assert callable(module.python_version)
    assert Path(module.__file__).parent == Path(importlib.import_module("os").__file__).parent
    assert not (ROOT / "platform" / "__init__.py").exists()
    assert str(ROOT / "platform") in sys.path  # the source root is importable...
    assert importlib.import_module("osdm").__file__.startswith(str(ROOT / "platform" / "osdm"))  # ...as osdm
