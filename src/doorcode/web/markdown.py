"""Host-written Markdown as HTML a guest's browser may show: markdown-it-py renders it
(CommonMark, raw HTML off), nh3 (the Ammonia sanitiser) keeps only harmless tags and
attributes, so a guidebook text can never carry a script, a style or a tracking pixel."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

__all__ = ["render_markdown"]

PARSER = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "code", "pre", "h3", "h4", "blockquote"}
ATTRIBUTES = {"a": {"href"}}
SCHEMES = {"http", "https", "mailto", "tel"}


def render_markdown(text: str) -> Markup:
    """``text`` as sanitised HTML; headings sit below the page's own."""
    html = PARSER.render(text or "").replace("<h1>", "<h3>").replace("</h1>", "</h3>")
    html = html.replace("<h2>", "<h4>").replace("</h2>", "</h4>")
    clean = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704 (sanitised by nh3 just above)
