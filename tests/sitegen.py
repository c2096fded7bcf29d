"""A generated two-family news site for lifecycle tests: stories can be added between runs.

WebPlus column: http://xwzx.cumt.edu.cn/523/list.htm, list2.htm, ... (forward numbering)
VSB column:     http://news.cumt.edu.cn/sdxw.htm, sdxw/{T-1}.htm ... sdxw/1.htm (numbered from the oldest)
Every story has one image; VSB stories also one download.jsp attachment.
"""

from __future__ import annotations

import datetime as dt
import json
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

PAGE_SIZE = 4
MAX_STORIES = 80


def tiny_png(seed: int) -> bytes:
    """A valid 1x1 PNG whose pixel depends on seed, so every image has its own bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"\x00" + bytes([seed % 256, (seed * 7) % 256, (seed * 13) % 256])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


@dataclass
class Story:
    family: str
    number: int
    date: dt.date

    @property
    def title(self) -> str:
        return f"{'新闻' if self.family == 'webplus' else '视点'}第{self.number}号：矿大学子获奖"

    @property
    def url(self) -> str:
        if self.family == "webplus":
            aid = 600000 + self.number
            return f"http://xwzx.cumt.edu.cn/{aid % 0x10000 >> 8:02x}/{aid & 0xff:02x}/c523a{aid}/page.htm"
        return f"http://news.cumt.edu.cn/info/1002/{70000 + self.number}.htm"

    @property
    def image_path(self) -> str:
        if self.family == "webplus":
            return f"/_upload/article/images/aa/bb/story{self.number}.png"
        return f"/__local/A/BB/CC/STORY{self.number}_1234ABCD_9F.png"

    @property
    def paragraphs(self) -> list[str]:
        return [f"第{self.number}号新闻第一段：中国矿业大学举行活动。", f"第{self.number}号新闻第二段，内容详实。"]


@dataclass
class GeneratedSite:
    root: Path
    stories: list[Story] = field(default_factory=list)
    start: dt.date = dt.date(2024, 1, 1)

    @classmethod
    def two_columns(cls, root: Path, per_family: int) -> "GeneratedSite":
        """A site with `per_family` stories in its WebPlus column and as many in its VSB column."""
        site = cls(root)
        site.add("webplus", per_family)
        site.add("vsb", per_family)
        return site

    def add(self, family: str, count: int = 1) -> list[Story]:
        added = []
        for _ in range(count):
            number = len(self.stories) + 1
            story = Story(family, number, self.start + dt.timedelta(days=number))
            self.stories.append(story)
            added.append(story)
        self.write()
        return added

    def of(self, family: str) -> list[Story]:
        return sorted((s for s in self.stories if s.family == family), key=lambda s: s.number, reverse=True)

    def _write(self, url_path: str, host: str, data: bytes | str) -> None:
        path = self.root / host / url_path.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)

    def write(self) -> None:
        for story in self.stories:
            host = "xwzx.cumt.edu.cn" if story.family == "webplus" else "news.cumt.edu.cn"
            path = story.url.split(host, 1)[1]
            self._write(path, host, webplus_article(story) if story.family == "webplus" else vsb_article(story))
            self._write(story.image_path, host, tiny_png(story.number))
        # Routes for stories not yet added too: the mirror reads _routes.json once per host.
        routes = {
            f"/system/_content/download.jsp?urltype=news.DownloadAttachUrl&owner=1&wbfileid={n}": {
                "body": f"%PDF-1.4 story {n}\n",
                "headers": {"Content-Type": "application/octet-stream",
                            "Content-Disposition": f"attachment; filename=story{n}.pdf"},
            }
            for n in range(1, MAX_STORIES + 1)
        }
        self._write("/_routes.json", "news.cumt.edu.cn", json.dumps(routes))
        webplus_stories = self.of("webplus")
        pages = [webplus_stories[i:i + PAGE_SIZE] for i in range(0, len(webplus_stories), PAGE_SIZE)] or [[]]
        for n, chunk in enumerate(pages, 1):
            name = "list.htm" if n == 1 else f"list{n}.htm"
            self._write(f"/523/{name}", "xwzx.cumt.edu.cn", webplus_list(chunk, n, len(pages)))
        vsb_stories = self.of("vsb")
        pages = [vsb_stories[i:i + PAGE_SIZE] for i in range(0, len(vsb_stories), PAGE_SIZE)] or [[]]
        total = len(pages)
        for n, chunk in enumerate(pages, 1):
            path = "/sdxw.htm" if n == 1 else f"/sdxw/{total - n + 1}.htm"
            self._write(path, "news.cumt.edu.cn", vsb_list(chunk, n, total, len(vsb_stories)))

    @property
    def list_urls(self) -> list[str]:
        return ["http://xwzx.cumt.edu.cn/523/list.htm", "http://news.cumt.edu.cn/sdxw.htm"]


def webplus_article(story: Story) -> str:
    paragraphs = "".join(f'<p style="text-indent:2em;">{p}</p>' for p in story.paragraphs)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{story.title}</title>
<meta name="description" content="sudy-wp-siteId 12"></head><body>
<div class="header"><a href="/">新闻网</a> <a href="/523/list.htm">矿大要闻</a></div>
<div class="article" frag="窗口3" portletmode="simpleArticleAttri">
<h1 class="arti_title">{story.title}</h1><h2 class="arti_title"></h2>
<p class="arti_metas"><span class="arti_update">发布时间：{story.date:%Y-%m-%d}</span>
<span class="arti_views">浏览次数：<span class="WP_VisitCount">9</span></span></p>
<div class="entry"><div class="read"><div class='wp_articlecontent'>{paragraphs}
<p style="text-align:center;"><img data-layer="photo" src="{story.image_path}"></p></div></div></div></div>
<div class="footer">版权所有 © 中国矿业大学</div></body></html>
<img src="/_visitcount?siteId=12&type=3&articleId={story.number}" style="display:none">"""


def vsb_article(story: Story) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in story.paragraphs)
    return f"""\ufeff<!DOCTYPE html><html><head><meta charset="utf-8"><title>{story.title}-中国矿业大学新闻网</title>
<!--Announced by Visual SiteBuilder 9--><script src="/system/resource/js/ajax.js"></script></head><body>
<div class="nav"><a href="/index.htm">首页</a></div>
<form name="_newscontent_fromname"><div class="art-tit"><h3>{story.title}</h3>
<p><span>信息来源：党委宣传部</span><span>发布日期：{story.date:%Y-%m-%d}</span></p></div>
<div id="vsb_content" class="art-body"><div class="v_news_content">{paragraphs}
<p><img src="{story.image_path}" orisrc="{story.image_path}" class="img_vsb_content"></p></div></div>
<ul><li>附件【<a href="/system/_content/download.jsp?urltype=news.DownloadAttachUrl&amp;owner=1&amp;wbfileid={story.number}">story{story.number}.pdf</a>】已下载<span id="nattach{story.number}"></span>次</li></ul>
<div id="div_vote_id"></div></form><div class="footer">版权所有 中国矿业大学</div></body></html>"""


def webplus_list(stories: list[Story], page: int, pages: int) -> str:
    items = "".join(
        f"<li><div class='pr_fields'><span class='Article_Title'><a href='{s.url.split('cumt.edu.cn', 1)[1]}' "
        f"title='{s.title}'>{s.title}</a></span><span class='Article_PublishDate'>{s.date:%Y-%m-%d}</span></div></li>"
        for s in stories
    )
    nxt = f"/523/list{page + 1}.htm" if page < pages else "javascript:void(0);"
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>矿大要闻</title></head><body>
<div portletmode="simpleList"><ul class="wp_article_list">{items}</ul>
<div id="wp_paging_w6"><ul class="wp_paging clearfix"><li class="page_nav"><a class="next" href="{nxt}">下一页</a></li>
<li class="page_jump"><span class="pages">页码<em class="curr_page">{page}</em>/<em class="all_pages">{pages}</em></span></li>
</ul></div></div></body></html>"""


def vsb_list(stories: list[Story], page: int, total: int, count: int) -> str:
    items = "".join(
        f"<li id='line_u8_{i}'><a href='/info/1002/{70000 + s.number}.htm' title='{s.title}'>{s.title}</a>"
        f"<span>{s.date:%Y-%m-%d}</span></li>" for i, s in enumerate(stories)
    )
    prefix = "sdxw/" if page == 1 else ""  # deep pages live inside sdxw/ and link relatively, as VSB does
    nxt = f"{prefix}{total - page}.htm" if page < total else ""
    next_link = f'<a href="{nxt}" class="Next">下页</a>' if nxt else '<span class="NextDisabled">下页</span>'
    return f"""\ufeff<!DOCTYPE html><html><head><meta charset="utf-8"><title>视点新闻-中国矿业大学新闻网</title>
<!--Announced by Visual SiteBuilder 9--><script src="/system/resource/js/news/statpagedown.js"></script></head><body>
<ul>{items}</ul><div><table><tr><td id="fanye1">共{count}条&nbsp;&nbsp;{page}/{total}&nbsp;</td>
<td>{next_link}<a href="{prefix}1.htm" class="Next">尾页</a></td></tr></table></div></body></html>"""
