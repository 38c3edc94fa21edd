"""Article pages and feeds in the shapes news sites serve, written for the feed tests."""

from __future__ import annotations

from html import escape

NAV = """
<header class="site-header">
  <nav class="gnb"><ul>
    <li><a href="/">Home</a></li><li><a href="/nk">North Korea</a></li>
    <li><a href="/politics">Politics</a></li><li><a href="/economy">Economy</a></li>
    <li><a href="/world">World</a></li><li><a href="/sports">Sports</a></li>
  </ul></nav>
  <form class="search"><input name="q" placeholder="Search"></form>
</header>
"""

SHARE = """
<div class="share-box">
  <button class="share-facebook">Facebook</button><button class="share-twitter">Twitter</button>
  <button class="share-mail">E-mail</button><button class="print">Print</button>
</div>
"""

RELATED = """
<aside class="related-articles"><h3>Related Articles</h3><ul>
  <li><a href="/view/1">S. Korea, U.S. hold talks on sanctions enforcement</a></li>
  <li><a href="/view/2">N. Korea fires short-range missiles into East Sea</a></li>
  <li><a href="/view/3">Unification minister calls for dialogue with Pyongyang</a></li>
</ul></aside>
"""

FOOTER = """
<footer><p>Copyright (c) Example News Agency. All rights reserved.</p>
<ul><li><a href="/about">About us</a></li><li><a href="/contact">Contact</a></li></ul></footer>
"""


def article_page(
    *,
    title: str,
    paragraphs: list[str],
    date: str | None = "2013-11-28",
    author: str | None = "Kim Soo-yeon",
    canonical: str | None = None,
    dateline: str | None = "SEOUL, Nov. 28 (Yonhap) -- ",
    charset: str = "utf-8",
) -> str:
    """Return a news page: navigation, headline, byline, dateline, body, share and related."""
    head = [f'<meta charset="{charset}">', f"<title>{escape(title)} | Example News</title>"]
    head.append(f'<meta property="og:title" content="{escape(title)}">')
    head.append('<meta property="og:site_name" content="Example News">')
    if date:
        head.append(f'<meta property="article:published_time" content="{date}T09:30:00+09:00">')
    if author:
        head.append(f'<meta name="author" content="{escape(author)}">')
    if canonical:
        head.append(f'<link rel="canonical" href="{escape(canonical)}">')
    body = [f"<p>{escape((dateline or '') + paragraphs[0])}</p>"]
    body += [f"<p>{escape(p)}</p>" for p in paragraphs[1:]]
    byline = f'<p class="byline">By {escape(author)}</p>' if author else ""
    stamp = f'<p class="date">Published {date} 09:30</p>' if date else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head>{"".join(head)}</head>
<body>{NAV}
<main><article>
  <h1 class="headline">{escape(title)}</h1>
  {byline}{stamp}{SHARE}
  <div class="article-body">{"".join(body)}</div>
  {SHARE}
</article>{RELATED}</main>{FOOTER}
</body></html>"""


def paywall_page(title: str) -> str:
    """Return a page that shows a teaser and a subscription prompt instead of the story."""
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(title)}</title></head>
<body>{NAV}<main><article><h1>{escape(title)}</h1>
<p>The ministry said on Thursday that</p>
<div class="paywall"><p>Subscribe to continue reading.</p><button>Subscribe</button>
<p>Already a subscriber? Sign in</p></div></article>{RELATED}</main>{FOOTER}</body></html>"""


def rss(title: str, items: list[dict[str, str]]) -> str:
    """Return an RSS 2.0 feed; each item has title, link, guid, pubDate and description."""
    parts = [
        f"<item><title>{escape(i['title'])}</title><link>{escape(i['link'])}</link>"
        f'<guid isPermaLink="false">{escape(i["guid"])}</guid>'
        f"<pubDate>{i.get('pubDate', 'Thu, 28 Nov 2013 09:30:00 +0900')}</pubDate>"
        f"<description>{escape(i.get('description', ''))}</description>"
        f"{'<author>' + escape(i['author']) + '</author>' if 'author' in i else ''}</item>"
        for i in items
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>http://example/</link>"
        f"<description>{escape(title)}</description>{''.join(parts)}</channel></rss>"
    )


def atom(title: str, entries: list[dict[str, str]]) -> str:
    """Return an Atom feed; each entry has title, link, id, updated and summary."""
    parts = [
        f'<entry><title>{escape(e["title"])}</title><link href="{escape(e["link"])}"/>'
        f"<id>{escape(e['id'])}</id><updated>{e.get('updated', '2013-11-28T09:30:00Z')}</updated>"
        f"<summary>{escape(e.get('summary', ''))}</summary></entry>"
        for e in entries
    ]
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:test:{escape(title)}</id>"
        f"<updated>2013-11-28T09:30:00Z</updated>{''.join(parts)}</feed>"
    )
