"""viewer/safe.py: user text made inert (hand-worked expectations; the browser test
tests/browser/test_hostile_browser.py checks what Streamlit actually renders)."""

from viewer.safe import code, html, md, plain, plot, plot_labels

WJ = "\u2060"


def test_md_escapes_what_opens_markup():
    assert md("[x](https://evil.example/a)") == "\\[x\\](https" + WJ + "\\://evil.example/a)"
    assert md("![t](u)") == "!\\[t\\](u)"
    assert md("<b>x</b>") == "\\<b\\>x\\</b\\>"
    assert md("**a** _b_ ~~c~~ `d` $e$ |f|") == "\\*\\*a\\*\\* \\_b\\_ \\~\\~c\\~\\~ \\`d\\` \\$e\\$ \\|f\\|"
    assert md(":red[x] javascript:alert(1)") == "\\:red\\[x\\] javascript\\:alert(1)"
    assert md("www.evil.example") == "www" + WJ + ".evil.example"
    assert md("me@evil.example") == "me\\@" + WJ + "evil.example"
    assert md("a\\b &lt;") == "a\\\\b \\&lt;"


def test_md_leaves_plain_text_as_it_reads():
    for text in ["#3 my-als (als)", "MemoryError: too big.", "0.05, 0.1", "k=-1", "東京の寿司職人"]:
        assert md(text) == text


def test_md_at_the_start_of_a_line_escapes_block_markers():
    assert md("# h", start=True) == "\\# h"
    assert md("1. x", start=True) == "1\\. x"
    assert md("- x", start=True) == "\\- x"
    assert md("plain", start=True) == "plain"


def test_plain_drops_controls_and_cuts_long_values():
    assert plain("a\u202eb\u200bc\x1b[31md\ne\r\nf") == "abc[31md e  f"
    assert plain("x" * 500) == "x" * 119 + "…"
    assert len(plain("x" * 500, limit=10)) == 10
    assert plain("x" * 500, limit=None) == "x" * 500
    assert plain(None) == "—"


def test_code_span_fence_outlasts_backticks_inside():
    assert code("recscope train --dataset a") == "`recscope train --dataset a`"
    assert code("a`b") == "``a`b``"
    assert code("`x") == "`` `x ``"


def test_html_and_plot_escape_tags_and_entities():
    assert html('<a href="x">&</a>') == "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
    assert plot("<b>B</b> & 'q'") == "&lt;b&gt;B&lt;/b&gt; &amp; 'q'"
    assert plot_labels({1: "<i>x</i>", 2: "#2 als"}) == {1: "&lt;i&gt;x&lt;/i&gt;", 2: "#2 als"}
