"""The web's one renderer: the guide's Markdown subset as HTML."""

from __future__ import annotations

from html import escape

from bot.markup import Block, Paragraph, Renderer, parse


class HtmlRenderer(Renderer):
    def escape(self, text: str) -> str:
        return escape(text, quote=False)

    def bold(self, inner: str) -> str:
        return f"<strong>{inner}</strong>"

    def italic(self, inner: str) -> str:
        return f"<em>{inner}</em>"

    def link(self, inner: str, url: str) -> str:
        # No referrer and no opener: a guide's link tells the site nothing about this chat.
        return f'<a href="{escape(url)}" rel="noopener noreferrer">{inner}</a>'

    def block(self, block: Block) -> str:
        if isinstance(block, Paragraph):
            return "<p>" + "<br>\n".join(self.inline(line) for line in block.lines) + "</p>"
        items = "".join(f"<li>{self.inline(item)}</li>" for item in block.items)
        if block.numbered:
            start = f' start="{block.start}"' if block.start != 1 else ""
            return f"<ol{start}>{items}</ol>"
        return f"<ul>{items}</ul>"

    def render(self, text: str) -> str:
        return "\n".join(self.block(b) for b in parse(text))

