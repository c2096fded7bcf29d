"""List-page rules on small hand-written pages: pager styles and item dates."""

import datetime as dt

from cumt_archive.extract import extract_list
from cumt_archive.model import RawPage

VSB_HEAD = '<html><head><!--Announced by Visual SiteBuilder 9--></head><body>'


def vsb_list(items_html: str, pager: str) -> RawPage:
    html = f"{VSB_HEAD}<ul>{items_html}</ul>{pager}</body></html>"
    return RawPage(url="http://news.cumt.edu.cn/xwzx/xwdt.htm", body=html.encode("utf-8"))


ITEMS = "".join(f'<li id="line_u8_{i}"><a href="../info/1002/{i}.htm">t{i}</a><span>2025-01-0{i + 1}</span></li>'
                for i in range(3))


def test_vsb_window_pager_states_the_total_in_its_links():
    window = "".join(f'<span class="p_no"><a href="xwdt/{8 - k + 1}.htm">{k}</a></span>' for k in range(2, 6))
    pager = (f'<div class="pb_sys_common"><span class="p_no_d">1</span>{window}<span class="p_dot">...</span>'
             '<span class="p_next"><a href="xwdt/7.htm">下页</a></span></div>')
    assert extract_list(vsb_list(ITEMS, pager)).total_pages == 8


def test_vsb_item_count_is_not_taken_for_the_page_count():
    pager = '<span class="p_t">共1071条</span> <span class="p_t">1/54</span>'
    assert extract_list(vsb_list(ITEMS, pager)).total_pages == 54
    deep = '<span class="p_t">共1071条</span> <span class="p_t">3/54</span>'
    assert extract_list(vsb_list(ITEMS, deep)).total_pages is None  # deep pages keep stale counts


def test_item_dates_without_whitespace_between_tags():
    cards = ('<li><a href="/info/1065/1.htm" title="第0期学术报告2"><div><p>03/10</p><span>2025</span></div>'
             '<h3>第0期学术报告2</h3><p>摘要提到2019-01-01的旧事</p></a></li>'
             '<li><a href="/info/1065/2.htm" title="通知"><div><p>11/15</p><span>2024</span></div><h3>通知</h3></a></li>')
    listing = extract_list(vsb_list(cards, ""))
    assert [i.date for i in listing.items] == [dt.date(2025, 3, 10), dt.date(2024, 11, 15)]
    webplus = ('<html><body><div portletmode="simpleList"><ul class="news_list">'
               '<li class="news"><span class="news_title"><a href="/ab/cd/c19673a1/page.htm">第3期讲座2</a></span>'
               '<span class="news_meta">2024-05-01</span></li>'
               '<li class="news"><span class="news_title"><a href="/ab/cd/c19673a2/page.htm">讲座</a></span>'
               '<span class="news_meta">2024-04-30</span></li></ul></div></body></html>')
    listing = extract_list(RawPage(url="http://www.cumt.edu.cn/19673/list.htm", body=webplus.encode("utf-8")))
    assert [i.date for i in listing.items] == [dt.date(2024, 5, 1), dt.date(2024, 4, 30)]


def test_ten_thousand_links_to_one_story_are_one_item():
    # Was quadratic (each link scanned every link of each ancestor); now each link walks its ancestors once.
    links = '<li><a href="/1c/58/c523a466008/page.htm">同一篇</a><span>2024-01-02</span></li>' * 10_000
    html = f'<html><body><div portletmode="simpleList"><ul class="wp_article_list">{links}</ul></div></body></html>'
    listing = extract_list(RawPage(url="https://xwzx.cumt.edu.cn/523/list.htm", body=html.encode("utf-8")))
    assert listing.family == "webplus"
    assert [(i.url, i.title, i.date) for i in listing.items] == [
        ("https://xwzx.cumt.edu.cn/1c/58/c523a466008/page.htm", "同一篇", dt.date(2024, 1, 2))]


def test_a_list_between_two_other_stories_links_is_found_among_repeats():
    links = "".join(f'<li><a href="/1c/58/c523a{n}/page.htm">第{n}篇</a></li>' * 3 for n in (1, 2))
    html = f'<html><body><div portletmode="simpleList"><ul>{links}</ul></div><ul class="wp_paging"></ul></body></html>'
    listing = extract_list(RawPage(url="https://xwzx.cumt.edu.cn/523/list.htm", body=html.encode("utf-8")))
    assert [i.title for i in listing.items] == ["第1篇", "第2篇"]
