"""The main text of a page: what a maintainer would read, without the chrome around it.

trafilatura rather than readability-lxml: trafilatura returns the article as text (readability-lxml
returns HTML that would still need its own text conversion), it drops navigation, footers, cookie
notices, comments and "related articles" lists by itself, it leads the published main-text extraction
benchmarks, and it is actively maintained (frequent releases, 2.x in 2026). Only its extraction is
used: fetching stays ours (bot.watch.fetch), so that robots.txt, the size limit and the per-host turn
apply to every request.
"""

from __future__ import annotations

import re

# A line that is only a date stamp ("Updated 3 December 2026", "Last modified: 2026-12-03") is page
# chrome even when it sits inside the article: it changes with every edit of the page, not with what
# the page says. Only whole lines are dropped, so a date inside a sentence still counts.
_MONTH = (r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?")
_DATE = (
    rf"(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}"  # 3 December 2026
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"  # December 3, 2026
    r"|\d{4}-\d{2}-\d{2}(?:[t\s][\d:.]+z?)?"  # 2026-12-03
    r"|\d{1,2}[./]\d{1,2}[./]\d{2,4}"  # 03/12/2026
    # 3 days ago, over a week ago (help centres such as Intercom's print these under the title)
    r"|(?:over\s+|about\s+|almost\s+)?(?:a|an|\d+)\s+(?:minute|hour|day|week|month|year)s?\s+ago"
    r"|yesterday|today)"
)
_DATE_LINE = re.compile(
    rf"^(?:(?:last\s+)?(?:updated|modified|published|posted|reviewed|edited)(?:\s+on)?\s*:?\s*)?{_DATE}\.?$",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")


def main_text(html: str | bytes, url: str | None = None) -> str:
    """The page's main text, one paragraph a line, whitespace normalised; "" when none is found."""
    # Imported on first use: it costs about 0.1 s, which a bot started without CONTENT_WATCH never pays.
    import trafilatura

    text = trafilatura.extract(
        html, url=url, include_comments=False, include_tables=True, include_links=False,
        include_images=False, favor_precision=True, with_metadata=False,
    )
    if not text:
        return ""
    lines = (_SPACE.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line and not _DATE_LINE.match(line))
