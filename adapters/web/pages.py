"""The page around a view: head (title, Open Graph), language picker, the step, footer.

Written with f-strings and ``html.escape`` rather than a template engine: there is one page shape with
a handful of slots, and every value that comes in is escaped here, in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from adapters.web import texts
from adapters.web.view import Choice, Part
from bot.i18n import LANGUAGES, NAMES, Lang


@dataclass(frozen=True)
class Frame:
    """What a page shows around its step."""

    t: Lang
    title: str  # the pack's title in the page's language (the h1 and <title>)
    url: str  # the pack's own address, absolute: Open Graph, canonical, Share
    action: str  # where the step's buttons post
    csrf: str | None  # None: no session, so no forms but the step's links
    telegram: str | None = None  # "Continue in Telegram" deep link, when Telegram is configured
    view: str | None = None  # this page's own view address, when it was opened at a link that starts over


def _attr(value: str) -> str:
    return escape(value, quote=True)


def _choices(rows: tuple[tuple[Choice, ...], ...], frame: Frame) -> str:
    out = []
    for row in rows:
        cells = []
        for c in row:
            if c.url:
                cells.append(f'<a class="button" href="{_attr(c.url)}" rel="noopener noreferrer">{escape(c.label)}</a>')
            else:
                cells.append(f'<button type="submit" name="b" value="{_attr(c.data)}">{escape(c.label)}</button>')
        out.append(f'<div class="row">{"".join(cells)}</div>')
    if frame.csrf is None:
        return "".join(out)
    return (f'<form method="post" action="{_attr(frame.action)}" class="choices">'
            f'<input type="hidden" name="csrf" value="{_attr(frame.csrf)}">{"".join(out)}</form>')


def step_html(parts: tuple[Part, ...], frame: Frame) -> str:
    out = []
    for part in parts:
        if part.kind == "notice":
            out.append(f'<div class="notice">{part.html}{_choices(part.choices, frame) if part.choices else ""}</div>')
        elif part.kind == "answered":
            out.append(f'<p class="answered"><span aria-hidden="true">✔</span> {part.html}</p>')
        else:
            out.append(f'<div class="msg">{part.html}{_choices(part.choices, frame) if part.choices else ""}</div>')
    return "\n".join(out)


def _picker(frame: Frame) -> str:
    if frame.csrf is None:
        return ""
    t = frame.t
    options = "".join(
        f'<option value="{code}"{" selected" if code == t.code else ""} lang="{code.replace("_", "-")}">{NAMES[code]}</option>'
        for code in LANGUAGES
    )
    return (f'<form method="post" action="/language" class="lang">'
            f'<input type="hidden" name="csrf" value="{_attr(frame.csrf)}">'
            f'<input type="hidden" name="path" value="{_attr(frame.action)}">'
            f'<label for="lang">{escape(t._(texts.LANGUAGE))}</label> <select id="lang" name="lang">{options}</select> '
            f'<button type="submit" class="small">{escape(t._(texts.CHANGE_LANGUAGE))}</button></form>')


def page(frame: Frame, body: str) -> str:
    t = frame.t
    site, description = t._(texts.SITE), t._(texts.DESCRIPTION)
    code = t.code.replace("_", "-")
    telegram = (f'<p><a class="button" href="{_attr(frame.telegram)}" rel="noopener noreferrer">'
                f'{escape(t._(texts.CONTINUE_TELEGRAM))}</a></p>') if frame.telegram else ""
    return f"""<!doctype html>
<html lang="{code}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(frame.title)} · {escape(site)}</title>
<meta name="description" content="{_attr(description)}">
<meta property="og:type" content="website">
<meta property="og:site_name" content="{_attr(site)}">
<meta property="og:title" content="{_attr(frame.title)}">
<meta property="og:description" content="{_attr(description)}">
<meta property="og:url" content="{_attr(frame.url)}">
<meta property="og:locale" content="{_attr(t.code)}">
<link rel="canonical" href="{_attr(frame.url)}">
<link rel="stylesheet" href="/static/app.css">
<script src="/static/app.js" defer></script>
</head>
<body>
<a class="skip" href="#main">{escape(t._(texts.SKIP))}</a>
<header>
<p class="site"><a href="/">{escape(site)}</a></p>
{_picker(frame)}
</header>
<main id="main"{f' data-view="{_attr(frame.view)}"' if frame.view else ""}>
<h1 tabindex="-1">{escape(frame.title)}</h1>
<div id="step">
{body}
</div>
</main>
<footer>
{telegram}
<p class="share"><span>{escape(t._(texts.SHARE_LINK))}</span> <a href="{_attr(frame.url)}">{escape(frame.url)}</a>
<button type="button" class="small" id="share" hidden data-url="{_attr(frame.url)}" data-title="{_attr(frame.title)}" data-copied="{_attr(t._(texts.LINK_COPIED))}">{escape(t._(texts.SHARE))}</button>
<span id="shared" role="status"></span></p>
<p class="links"><a href="/privacy">{escape(t._(texts.PRIVACY))}</a> · <a href="/forget">{escape(t._(texts.FORGET_ME))}</a></p>
</footer>
</body>
</html>
"""


def message(frame: Frame, text: str, link: tuple[str, str] | None = None) -> str:
    """A page with one sentence of the adapter's own (a limit, an expired form, nothing to forget)."""
    extra = f'<p><a class="button" href="{_attr(link[1])}">{escape(link[0])}</a></p>' if link else ""
    return page(frame, f'<div class="msg"><p>{escape(text, quote=False)}</p>{extra}</div>')
