"""Write docs/api.md, the reference of nncalc's Python API, from the code's own signatures and docstrings.

    python scripts/api_reference.py          # rewrite docs/api.md
    python scripts/api_reference.py --check  # exit 1, with a diff, where docs/api.md is out of date

The test suite runs the check, so the reference cannot drift from the code.
"""

from __future__ import annotations

import difflib
import inspect
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "api.md"

HEADER = """# nncalc's Python API

Generated from the code by `python scripts/api_reference.py`; do not edit by hand.

```python
import nncalc
```

"""


def _doc(value: object) -> str:
    return inspect.cleandoc(inspect.getdoc(value) or "")


def _signature(name: str, value: object) -> str:
    try:
        return f"{name}{inspect.signature(value)}"
    except (TypeError, ValueError):
        return name


def _members(cls: type) -> list[tuple[str, object]]:
    """A class's public methods and properties, its own first, then those it inherits from nncalc."""
    members: dict[str, object] = {}
    for owner in cls.__mro__:
        if not owner.__module__.startswith("nncalc"):
            continue
        for name, value in owner.__dict__.items():
            if name.startswith("_") or name in members:
                continue
            if isinstance(value, (property, classmethod, staticmethod)) or inspect.isfunction(value):
                members[name] = value
    return list(members.items())


def reference() -> str:
    """The whole page."""
    sys.path.insert(0, str(ROOT / "src"))
    import nncalc

    parts = [HEADER, _doc(nncalc), "\n"]
    for name in nncalc.__all__:
        value = getattr(nncalc, name)
        if inspect.isclass(value):
            parts.append(f"\n## class `nncalc.{name}`\n\n{_doc(value)}\n")
            for member, attribute in _members(value):
                if member == "__init__":
                    continue
                if isinstance(attribute, property):
                    parts.append(f"\n### `{name}.{member}` (property)\n\n{_doc(attribute.fget)}\n")
                    continue
                function = attribute.__func__ if isinstance(attribute, (classmethod, staticmethod)) else attribute
                parts.append(f"\n### `{name}.{_signature(member, function)}`\n\n{_doc(function)}\n")
        else:
            parts.append(f"\n## `nncalc.{_signature(name, value)}`\n\n{_doc(value)}\n")
    return "".join(parts).rstrip() + "\n"


def main(argv: list[str]) -> int:
    text = reference()
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current == text:
            return 0
        diff = difflib.unified_diff(current.splitlines(), text.splitlines(), str(TARGET), "the code", lineterm="")
        print("\n".join(diff))
        print("docs/api.md is out of date: run python scripts/api_reference.py", file=sys.stderr)
        return 1
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
