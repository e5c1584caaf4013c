"""Where the bundled SQL (`queries/`) and reference data (`data/`) live.

In a source checkout they sit beside the package; in an installed wheel they are bundled
inside it under `tagger/_bundled/`.
"""

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _locate(name: str) -> Path:
    for candidate in (_PACKAGE.parent / name, _PACKAGE / "_bundled" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bundled folder {name}/ not found beside {_PACKAGE}")


QUERIES = _locate("queries")
DATA = _locate("data")
