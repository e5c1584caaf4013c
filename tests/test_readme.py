"""Every example in README.md runs as written (the way sqlite-utils keeps its docs honest).

The fenced blocks are read from README.md in order. `sh` blocks run with bash (`set -euo
pipefail`), `python` blocks with this interpreter; both in one temporary copy of `examples/`,
shared by the blocks in README order (as a reader following the README would), with this
environment's `bin/` (where `tagger` is installed) first on PATH and no network
(`TAGGER_OFFLINE=1`). A failing block fails its own test, named by its first line in README.md.

Blocks in other languages (`text`, `json`, ...) are illustrations and are not run. A runnable
block that cannot run here (it needs the network or the repository's Makefile) is marked by an
HTML comment on the line before its fence, which a rendered README does not show:

    <!-- readme-test: skip (needs the network) -->

A fence without a language fails the test: say what the block is.
"""

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
EXAMPLES = ROOT / "examples"
RUNNABLE = {"sh": "shell", "bash": "shell", "shell": "shell", "python": "python"}
SKIP = re.compile(r"<!--\s*readme-test:\s*skip\b")
FENCE = re.compile(r"^```(\S*)\s*$")
TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class Block:
    line: int  # 1-based line of the opening fence in README.md
    language: str
    code: str
    skipped: bool

    @property
    def name(self) -> str:
        first = next((s for s in self.code.splitlines() if s.strip()), "")
        return f"README.md:{self.line} {self.language} `{first.strip()[:60]}`"


def readme_blocks(text: str) -> list[Block]:
    """The fenced blocks of a Markdown text, with their language and skip marker."""
    blocks, lines, index = [], text.splitlines(), 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        previous = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        blocks.append(
            Block(
                line=index + 1,
                language=opening.group(1),
                code="\n".join(lines[index + 1 : end]) + "\n",
                skipped=bool(SKIP.search(previous)),
            )
        )
        index = end + 1
    return blocks


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))
TO_RUN = [b for b in BLOCKS if b.language in RUNNABLE and not b.skipped]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """One copy of examples/ that the README's blocks run in, in order."""
    folder = tmp_path_factory.mktemp("readme") / "examples"
    shutil.copytree(EXAMPLES, folder)
    return folder


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAGGER_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["TAGGER_OFFLINE"] = "1"
    env["COLUMNS"] = "120"
    return env


def test_every_block_says_what_it_is():
    bare = [f"README.md:{b.line}" for b in BLOCKS if not b.language]
    assert not bare, f"fenced blocks without a language (use sh, python or text): {bare}"
    assert TO_RUN, "README.md has no runnable example"


def test_tagger_is_on_path_beside_this_python():
    assert shutil.which("tagger", path=environment()["PATH"]), "install with: pip install -e ."


@pytest.mark.parametrize("block", TO_RUN, ids=[b.name for b in TO_RUN])
def test_readme_block_runs(block: Block, workdir: Path):
    if RUNNABLE[block.language] == "shell":
        command = ["bash", "-c", "set -euo pipefail\n" + block.code]
    else:
        command = [sys.executable, "-c", block.code]
    done = subprocess.run(
        command,
        cwd=workdir,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    assert done.returncode == 0, (
        f"{block.name} failed with exit status {done.returncode}\n"
        f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
    )
