"""Open every page of a built book in headless Chromium, as a reader would, and check what it shows.

Usage (from the repository root, after ``make book PROFILE=ci``)::

    python scripts/check_html.py [book/_build/html] [--screenshots book/_build/screenshots]

The HTML folder is served from a local ``http.server`` on 127.0.0.1; Chromium (the Debian package,
installed with ``apt-get`` when missing and run as root) loads each page, runs its scripts (MathJax
included) for a virtual-time budget and dumps the resulting DOM, and takes a 1280×2400 screenshot.
The DOM fails the check on any of:

- ``math``: raw TeX delimiters (``\\(``, ``\\[``, ``$$``) left in the page text, or a page whose
  static HTML has math but whose DOM has no rendered ``mjx-container``;
- ``table``: raw Markdown table syntax (``|---|``) in the page text;
- ``image``: an ``<img>`` whose file is missing, empty or not a decodable image, or that is
  fetched from the network;
- ``animation``: an ``<img>`` GIF that is not an animated image (a single frame, no looping, or a
  frame that does not decode) — the model gallery's traversals must play in the browser;
- ``external``: a script, stylesheet or image loaded from anywhere but the book itself (the book
  must work offline);
- ``parameters``: a visible papermill parameters cell (the chapter's own or the injected one);
- ``traceback``: a Python traceback in an output;
- ``stderr``: a warning stream (an ``stderr`` output or a ``...Warning:`` line) in an output.

Exit status 0 when every page passes, 1 otherwise, 2 when Chromium cannot be found or installed.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Pages that Sphinx generates for navigation only.
SKIP_PAGES = {"genindex.html", "search.html", "py-modindex.html"}
# Elements whose text is code or script, where TeX delimiters and pipes are legitimate.
_VERBATIM = {"script", "style", "pre", "code", "textarea", "kbd", "samp", "noscript", "template"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


# --------------------------------------------------------------------------------------------- DOM
class _Page(HTMLParser):
    """One pass over a page: prose text (outside code/script), images, resources, cells and outputs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, set[str]]] = []   # open elements: (tag, classes)
        self.prose: list[str] = []                     # text outside verbatim elements
        self.output_text: list[str] = []               # text inside cell outputs
        self.images: list[str] = []
        self.resources: list[str] = []                 # src/href of scripts, stylesheets, images
        self.class_hits: list[str] = []                # every class attribute seen, for tag detectors
        self.math_elements = 0                         # Sphinx math spans/divs (source has math)
        self.mjx = 0                                   # rendered MathJax containers
        self.pre_texts: list[str] = []
        self._pre_depth = 0
        self._pre_buf: list[str] = []

    def _in(self, pred) -> bool:
        return any(pred(tag, cls) for tag, cls in self.stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = set((a.get("class") or "").split())
        if a.get("class"):
            self.class_hits.append(a["class"])
        if tag == "mjx-container":
            self.mjx += 1
        if "math" in cls and tag in ("span", "div"):
            self.math_elements += 1
        if tag == "img":
            self.images.append(a.get("src") or "")
            self.resources.append(a.get("src") or "")
        elif tag == "script" and a.get("src"):
            self.resources.append(a["src"])
        elif tag == "link" and "stylesheet" in (a.get("rel") or "").split() and a.get("href"):
            self.resources.append(a["href"])
        if tag in _VOID:
            return
        self.stack.append((tag, cls))
        if tag == "pre":
            self._pre_depth += 1

    def handle_endtag(self, tag):
        if tag in _VOID:
            return
        # Pop to the matching open element (browsers' DOMs are well nested; be lenient anyway).
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break
        if tag == "pre" and self._pre_depth:
            self._pre_depth -= 1
            if not self._pre_depth:
                self.pre_texts.append("".join(self._pre_buf))
                self._pre_buf = []

    def handle_data(self, data):
        if self._pre_depth:
            self._pre_buf.append(data)
        if self._in(lambda t, c: "cell_output" in c or "output" in c):
            self.output_text.append(data)
        if not self._in(lambda t, c: t in _VERBATIM or t.startswith("mjx-")):
            self.prose.append(data)


def parse(html: str) -> _Page:
    p = _Page()
    p.feed(html)
    p.close()
    return p


# ---------------------------------------------------------------------------------------- detectors
# Each detector takes the rendered DOM (and, where it needs them, the static page and a way to fetch a
# URL) and returns a list of human-readable problems; an empty list is a pass.

_RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{")
# A delimiter row: cells of ---, or of the dashes a typographer makes of them (— or –).
_MD_CELL = r"\s*:?(?:-{3,}|[\u2014\u2013]+-*):?\s*"
_MD_TABLE = re.compile(rf"\|{_MD_CELL}(?:\|{_MD_CELL})*\|")


def check_math(dom: str, static: str | None = None) -> list[str]:
    """Raw TeX delimiters in the prose, or math in the source with nothing rendered."""
    page = parse(dom)
    text = " ".join(page.prose)
    out = []
    for m in list(_RAW_TEX.finditer(text))[:3]:
        out.append(f"unrendered math: {text[max(0, m.start() - 40):m.end() + 40].strip()!r}")
    src_math = parse(static).math_elements if static is not None else page.math_elements
    if src_math and not page.mjx:
        out.append(f"unrendered math: the page has {src_math} math element(s) but no rendered mjx-container")
    return out


def check_tables(dom: str) -> list[str]:
    """Markdown table rows (``| --- |``) shown as text instead of a table."""
    text = " ".join(parse(dom).prose)
    return [f"raw Markdown table: {text[max(0, m.start() - 60):m.end() + 20].strip()!r}"
            for m in list(_MD_TABLE.finditer(text))[:3]]


def _is_external(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.hostname not in ("127.0.0.1", "localhost") \
        or url.startswith("//")


def check_external(dom: str) -> list[str]:
    """Scripts, stylesheets or images fetched from the network: the book must be complete offline."""
    return [f"external resource: {u}" for u in parse(dom).resources if _is_external(u)]


def _image_ok(data: bytes) -> str | None:
    """None if ``data`` decodes as an image, else why not."""
    if not data:
        return "empty file"
    head = data[:512].lstrip()
    if head.startswith(b"<svg") or head.startswith(b"<?xml") and b"<svg" in data[:2048]:
        return None
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            im.verify()
    except Exception as exc:  # any decoder failure is a broken image
        return f"not a decodable image ({type(exc).__name__})"
    return None


def _data_uri(src: str) -> bytes | None:
    """The bytes of a ``data:`` URI (None if malformed)."""
    import base64

    head, _, body = src.partition(",")
    try:
        return base64.b64decode(body) if head.endswith(";base64") else unquote(body).encode()
    except ValueError:
        return None


def check_images(dom: str, fetch) -> list[str]:
    """Every ``<img>`` resolves to a non-empty decodable image. ``fetch(src) -> bytes | None`` (None: missing)."""
    out = []
    for src in parse(dom).images:
        if not src:
            out.append("broken image: <img> without src")
            continue
        if _is_external(src):
            out.append(f"broken image (fetched from the network): {src}")
            continue
        data = fetch(src)
        if data is None:
            out.append(f"broken image (missing): {src[:80]}")
            continue
        why = _image_ok(data)
        if why:
            out.append(f"broken image ({why}): {src[:80]}")
    return out


def _gif_problem(data: bytes) -> str | None:
    """None if ``data`` is an animated GIF whose every frame decodes and that loops, else why not."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            frames = getattr(im, "n_frames", 1)
            loop = im.info.get("loop")
            for k in range(frames):  # decode every frame: a truncated GIF fails here, not in verify()
                im.seek(k)
                im.load()
    except Exception as exc:  # any decoder failure
        return f"a frame does not decode ({type(exc).__name__})"
    if frames < 2:
        return "a single frame: not an animated image"
    if loop is None:
        return f"{frames} frames but no looping (plays once)"
    return None


def check_animations(dom: str, fetch) -> list[str]:
    """Every ``<img>`` GIF is an animated image: several frames that all decode, looping. ``fetch`` as in
    :func:`check_images` (missing files are reported there)."""
    out = []
    for src in parse(dom).images:
        if not src or _is_external(src):
            continue
        data = fetch(src)
        if not data or not data.startswith((b"GIF87a", b"GIF89a")):
            continue
        why = _gif_problem(data)
        if why:
            out.append(f"GIF not animated ({why}): {src[:80]}")
    return out


def gif_count(dom: str, fetch) -> int:
    """How many ``<img>`` of the page are GIFs (the summary line reports it)."""
    return sum(1 for src in parse(dom).images
               if src and not _is_external(src) and (fetch(src) or b"").startswith((b"GIF87a", b"GIF89a")))


def check_parameters(dom: str) -> list[str]:
    """A papermill parameters cell (tagged ``parameters``/``injected-parameters``) left visible."""
    page = parse(dom)
    out = []
    for cls in page.class_hits:
        for tag in ("tag_parameters", "tag_injected-parameters"):
            if tag in cls.split():
                out.append(f"visible parameters cell ({tag})")
    for pre in page.pre_texts:
        if pre.lstrip().startswith("# Parameters\n"):
            out.append("visible papermill '# Parameters' cell")
    return sorted(set(out))


def check_traceback(dom: str) -> list[str]:
    """A Python traceback (an error output) rendered in the page."""
    page = parse(dom)
    out = []
    if any("traceback" in cls.split() for cls in page.class_hits):
        out.append("error output (traceback) in a cell")
    if any("Traceback (most recent call last)" in t for t in page.pre_texts + page.output_text):
        out.append("Python traceback text in an output")
    return out


_WARNING_LINE = re.compile(r"^\S.*?\b\w*Warning: ", re.M)


def check_stderr(dom: str) -> list[str]:
    """A stderr stream or a Python warning printed in a cell output."""
    page = parse(dom)
    out = []
    if any("stderr" in cls.split() for cls in page.class_hits):
        out.append("stderr stream in a cell output")
    text = "".join(page.output_text)
    for m in list(_WARNING_LINE.finditer(text))[:3]:
        line = text[m.start():text.find("\n", m.start()) if "\n" in text[m.start():] else None]
        out.append(f"warning in an output: {line[:120]!r}")
    return out


def check_page(dom: str, static: str, fetch) -> dict[str, list[str]]:
    """All detectors on one page: {check name: problems}."""
    if "<body" not in dom:
        return {"render": ["the browser returned no page (empty DOM)"]}
    return {
        "math": check_math(dom, static),
        "table": check_tables(dom),
        "image": check_images(dom, fetch),
        "animation": check_animations(dom, fetch),
        "external": check_external(dom),
        "parameters": check_parameters(dom),
        "traceback": check_traceback(dom),
        "stderr": check_stderr(dom),
    }


# ------------------------------------------------------------------------------------------ browser
def find_chromium(install: bool = True) -> str:
    """Path of a Chromium binary; installs the Debian package with apt-get when missing (root only)."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    if not install:
        raise FileNotFoundError("chromium not found")
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise FileNotFoundError("chromium not found; install it: "
                                "sudo apt-get update && sudo apt-get install -y chromium")
    print("chromium not found: installing it with apt-get ...", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        if subprocess.call(cmd, env=env) != 0:
            raise FileNotFoundError(f"chromium could not be installed ({' '.join(cmd)} failed)")
    return find_chromium(install=False)


def _chromium_cmd(exe: str, profile_dir: str, budget_ms: int) -> list[str]:
    # No network but loopback: no first-run, sync, component updates or background fetches.
    return [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={profile_dir}",
            f"--virtual-time-budget={budget_ms}"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Chromium drops connections it no longer needs (e.g. a 404 favicon): not a failure of the book.
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


def serve(folder: Path):
    """A threaded http.server on 127.0.0.1 (a free port) serving ``folder``; returns (server, base URL)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def pages(html_dir: Path) -> list[Path]:
    """Content pages of a built book (navigation-only pages and static folders excluded)."""
    return sorted(p for p in html_dir.rglob("*.html")
                  if p.name not in SKIP_PAGES
                  and not any(part.startswith("_") for part in p.relative_to(html_dir).parts))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("html", nargs="?", default="book/_build/html", help="built HTML folder")
    ap.add_argument("--screenshots", default=None, help="folder for PNG screenshots (default: <html>/../screenshots)")
    ap.add_argument("--budget-ms", type=int, default=20000, help="virtual time the page's scripts get")
    ap.add_argument("--timeout", type=float, default=120, help="seconds per Chromium call before it is killed")
    args = ap.parse_args(argv)

    html_dir = Path(args.html).resolve()
    if not (html_dir / "index.html").exists():
        print(f"error: {html_dir}/index.html not found: build the book first (make book PROFILE=ci)", file=sys.stderr)
        return 2
    shots = Path(args.screenshots) if args.screenshots else html_dir.parent / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    try:
        exe = find_chromium()
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    server, base = serve(html_dir)
    failed: dict[str, list[str]] = {}
    todo = pages(html_dir)
    try:
        with tempfile.TemporaryDirectory(prefix="rtc-chromium-") as prof:
            cmd = _chromium_cmd(exe, prof, args.budget_ms)
            for page in todo:
                rel = page.relative_to(html_dir).as_posix()
                url = urljoin(base, rel)

                def fetch(src, _url=url):
                    if src.startswith("data:"):
                        return _data_uri(src)
                    target = urlsplit(urljoin(_url, src))
                    path = (html_dir / unquote(target.path).lstrip("/")).resolve()
                    if html_dir not in path.parents or not path.is_file():
                        return None
                    return path.read_bytes()

                proc = subprocess.run(cmd + ["--dump-dom", url], capture_output=True, text=True, timeout=args.timeout)
                shot = shots / (rel.replace("/", "__")[:-5] + ".png")
                subprocess.run(cmd + ["--window-size=1280,2400", f"--screenshot={shot}", url],
                               capture_output=True, timeout=args.timeout)
                problems = check_page(proc.stdout, page.read_text(errors="replace"), fetch)
                bad = {k: v for k, v in problems.items() if v}
                gifs = gif_count(proc.stdout, fetch) if "<body" in proc.stdout else 0
                print(f"{'FAIL' if bad else 'ok  '} {rel}" + (f"  ({', '.join(bad)})" if bad else "")
                      + (f"  [{gifs} animated GIF(s)]" if gifs and "animation" not in bad else ""), flush=True)
                for k, v in bad.items():
                    for line in v:
                        print(f"       [{k}] {line}")
                    failed.setdefault(k, []).append(rel)
    finally:
        server.shutdown()
    print(f"screenshots: {shots}")
    if failed:
        print("check-html FAILED: " + "; ".join(f"{k} on {len(v)} page(s)" for k, v in sorted(failed.items())),
              file=sys.stderr)
        return 1
    print(f"check-html passed: {len(todo)} page(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
