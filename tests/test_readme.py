"""The README is a front door: short, and every relative link in it leads to a file of the repository."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MAX_LINES = 150

# [text](target) and [text](target "title"); images ![alt](target) too. Reference-style definitions: [id]: target.
INLINE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
DEFINITION = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", re.MULTILINE)


def relative_links(text: str) -> list[str]:
    """Link targets outside code blocks and code spans that point into the repository (no scheme, no mailto)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    text = re.sub(r"`[^`\n]*`", "", text)
    targets = INLINE.findall(text) + DEFINITION.findall(text)
    return [t for t in targets if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", t) and not t.startswith("#")]


def test_readme_is_short():
    n = len(README.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"README.md has {n} lines, more than {MAX_LINES}: move detail to docs/"


def test_readme_relative_links_exist():
    links = relative_links(README.read_text(encoding="utf-8"))
    assert links, "README.md links no page of the repository"
    missing = [t for t in links if not (ROOT / t.split("#")[0]).exists()]
    assert not missing, f"README.md links to missing files: {missing}"


def test_link_parser():
    text = ("[a](docs/a.md) [b](docs/b.md#part) ![c](img/c.png \"t\") [w](https://x.org/y) [m](mailto:a@b) [h](#top)\n"
            "`[no](code.md)`\n```\n[no](block.md)\n```\n[ref]: other/ref.md\n")
    assert relative_links(text) == ["docs/a.md", "docs/b.md#part", "img/c.png", "other/ref.md"]
