"""scripts/check_html.py: each detector flags a bad snippet and passes a good one (no browser needed)."""
import base64
import importlib.util
import io
import sys

from conftest import ROOT

_spec = importlib.util.spec_from_file_location("check_html", ROOT / "scripts" / "check_html.py")
ch = importlib.util.module_from_spec(_spec)
sys.modules["check_html"] = ch
_spec.loader.exec_module(ch)


def page(body: str) -> str:
    return f"<html><head></head><body>{body}</body></html>"


STATIC_MATH = page('<p>Let <span class="math notranslate nohighlight">\\(x\\)</span>.</p>')


def test_math_flags_raw_delimiters_and_missing_render():
    bad = ch.check_math(STATIC_MATH, STATIC_MATH)  # MathJax never ran: TeX left as text
    assert any("\\(x" in p for p in bad) and any("no rendered mjx-container" in p for p in bad)
    display = page('<div class="math notranslate nohighlight">$$a=b$$</div><mjx-container></mjx-container>')
    assert ch.check_math(display, display)
    good = page('<p>Let <span class="math notranslate nohighlight"><mjx-container class="MathJax">'
                '<svg></svg></mjx-container></span>.</p>')
    assert ch.check_math(good, STATIC_MATH) == []


def test_math_ignores_code_and_pages_without_math():
    code = page("<pre>re.compile(r'\\(a\\)')</pre><p><code>$$</code> plain text</p>")
    assert ch.check_math(code, code) == []


def test_tables_flag_raw_markdown_and_pass_real_tables():
    bad = page("<p>| parameter | this run | paper profile | |---|---|---| | <code>n</code> | 1 | 2 |</p>")
    assert ch.check_tables(bad)
    assert ch.check_tables(page("<p>| a | b |\n| :--- | ---: |</p>"))
    # CommonMark's typographer turns --- into an em dash: how today's profile table actually renders.
    assert ch.check_tables(page("<p>| parameter | this run | paper profile | |\u2014|\u2014|\u2014| |</p>"))
    good = page("<table><tr><th>parameter</th></tr><tr><td>n</td></tr></table><pre>|---|</pre>")
    assert ch.check_tables(good) == []


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, format="PNG")
    return buf.getvalue()


def test_images_flag_missing_empty_corrupt_and_remote():
    files = {"ok.png": _png(), "empty.png": b"", "junk.png": b"not an image at all", "fig.svg": b"<svg></svg>"}
    fetch = files.get
    assert ch.check_images(page('<img src="ok.png"><img src="fig.svg">'), fetch) == []
    for src, why in [("gone.png", "missing"), ("empty.png", "empty"), ("junk.png", "decodable"),
                     ("https://example.org/a.png", "network")]:
        problems = ch.check_images(page(f'<img src="{src}">'), fetch)
        assert problems and why in problems[0], (src, problems)
    data = "data:image/png;base64," + base64.b64encode(_png()).decode()
    assert ch.check_images(page(f'<img src="{data}">'), lambda s: ch._data_uri(s)) == []


def _gif(frames: int, loop: bool = True) -> bytes:
    from PIL import Image

    imgs = [Image.new("RGB", (8, 8), color=(40 * k, 255 - 40 * k, 0)) for k in range(frames)]
    buf = io.BytesIO()
    kw = {"loop": 0} if loop else {}
    imgs[0].save(buf, format="GIF", save_all=frames > 1, append_images=imgs[1:], duration=100, **kw)
    return buf.getvalue()


def test_gifs_must_be_animated_looping_and_decodable():
    anim = _gif(5)
    files = {"anim.gif": anim, "still.gif": _gif(1), "once.gif": _gif(3, loop=False),
             "cut.gif": anim[:len(anim) * 2 // 3], "ok.png": _png()}
    fetch = files.get
    assert ch.check_animations(page('<img src="anim.gif"><img src="ok.png"><img src="gone.gif">'), fetch) == []
    for src, why in [("still.gif", "single frame"), ("once.gif", "no looping"), ("cut.gif", "does not decode")]:
        problems = ch.check_animations(page(f'<img src="{src}">'), fetch)
        assert problems and why in problems[0], (src, problems)
    assert ch.gif_count(page('<img src="anim.gif"><img src="ok.png">'), fetch) == 1
    assert "animation" in ch.check_page(page('<img src="still.gif">'), "", fetch)


def test_gallery_gifs_pass_the_check():
    """A traversal GIF as rtc.inspect writes it passes (a stand-in decoder: the check is about the file)."""
    import numpy as np
    import torch

    from rtc.inspect import traversal_gif

    class Decoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(1))

        def decode(self, z):
            return (z[:, :1, None, None] * self.w).expand(-1, 1, 64, 64)

    data = traversal_gif(Decoder(), np.zeros(3), kl=np.array([0.5, 2.0, 0.0]), active=np.array([True, True, False]),
                         values=np.linspace(-2, 2, 6))
    assert ch.check_animations(page('<img src="t.gif">'), {"t.gif": data}.get) == []


def test_external_resources_flagged_loopback_allowed():
    bad = page('<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"></script>')
    assert ch.check_external(bad) and "cdn" in ch.check_external(bad)[0]
    assert ch.check_external(page('<link rel="stylesheet" href="//fonts.example.com/x.css">'))
    good = page('<script src="_static/mathjax/tex-svg-full.js"></script>'
                '<script src="http://127.0.0.1:8000/x.js"></script><a href="https://arxiv.org">paper</a>')
    assert ch.check_external(good) == []


def test_parameters_cell_flagged():
    assert ch.check_parameters(page('<div class="cell tag_parameters docutils container"><pre>n = 3</pre></div>'))
    assert ch.check_parameters(page('<div class="cell tag_injected-parameters"><pre>n = 3</pre></div>'))
    assert ch.check_parameters(page('<div class="cell"><pre># Parameters\nn = 3\n</pre></div>'))
    good = page('<div class="cell tag_hide-input"><pre>plot(x)</pre></div><p># Parameters are listed below</p>')
    assert ch.check_parameters(good) == []


def test_traceback_flagged():
    assert ch.check_traceback(page('<div class="output traceback highlight-ipythontb"><pre>x</pre></div>'))
    assert ch.check_traceback(page('<div class="cell_output"><pre>Traceback (most recent call last):\n'
                                   '  File "x"\nValueError: no</pre></div>'))
    assert ch.check_traceback(page('<div class="cell_output"><pre>ok</pre></div><p>Traceback is a word</p>')) == []


def test_stderr_flagged():
    assert ch.check_stderr(page('<div class="output stderr highlight-myst-ansi"><pre>progress</pre></div>'))
    assert ch.check_stderr(page('<div class="cell_output"><pre>/x/y.py:3: UserWarning: careful\n'
                                '  warnings.warn(...)</pre></div>'))
    good = page('<div class="cell_output"><div class="output stream highlight-myst-ansi"><pre>done: 3 rows\n'
                '</pre></div></div><p>RuntimeWarning: is mentioned in prose only</p>')
    assert ch.check_stderr(good) == []


def test_check_page_reports_an_empty_dom():
    assert ch.check_page("", STATIC_MATH, lambda s: None) == {"render": ["the browser returned no page (empty DOM)"]}


def test_pages_skips_navigation_and_static(tmp_path):
    for rel in ("index.html", "chapters/a.html", "genindex.html", "search.html", "_static/x.html",
                "_sources/y.html"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("<html></html>")
    got = [p.relative_to(tmp_path).as_posix() for p in ch.pages(tmp_path)]
    assert got == ["chapters/a.html", "index.html"]
