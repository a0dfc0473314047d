"""Answers are Markdown from a model: rendered, then sanitised; citations become links."""

from __future__ import annotations

import pytest

from nexus.richtext import render_markdown


def test_markdown_is_rendered():
    html = render_markdown("**Gras**, *italique*, `code`\n\n- un\n- deux\n\n| a | b |\n|---|---|\n| 1 | 2 |")
    assert "<strong>Gras</strong>" in html and "<em>italique</em>" in html and "<code>code</code>" in html
    assert "<ul>" in html and "<li>un</li>" in html and "<td>1</td>" in html


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        ("<script>alert(1)</script>", "<script"),
        ('<img src=x onerror="alert(1)">', "<img"),
        ('<div hx-post="/dashboard/assistante/paiements/1/valider" hx-trigger="load">x</div>', "<div"),
        ("[clic](javascript:alert(1))", 'href="javascript'),
        ("[clic](data:text/html;base64,PHNjcmlwdD4=)", 'href="data'),
        ('<a href="https://x.org" onclick="alert(1)">x</a>', "<a href"),
        ("<style>body{display:none}</style>", "<style"),
    ],
)
def test_html_from_the_model_never_becomes_markup(source, forbidden):
    assert forbidden not in render_markdown(source)


def test_links_are_http_only_and_marked_nofollow():
    html = render_markdown("[cours](https://example.org/cours) [local](/dashboard/admin)")
    assert '<a href="https://example.org/cours" rel="noopener noreferrer nofollow">cours</a>' in html
    assert 'href="/dashboard/admin"' not in html


def test_titles_stay_below_the_page_headings():
    html = render_markdown("# Titre\n\n## Sous-titre\n\n### Détail")
    assert "<h1>" not in html and "<h2>" not in html
    assert html.count("<h3>") == 3


def test_citations_link_to_existing_sources_only_and_not_inside_code():
    html = render_markdown("Voir [1] et [3].\n\n`liste[1]`", {1, 2}, "src-9")
    assert '<a class="cite" href="#src-9-1">[1]</a>' in html
    assert "[3]" in html and "#src-9-3" not in html
    assert "<code>liste[1]</code>" in html
