"""Extraction rules on small hand-written pages (the fixture cases cover whole templates)."""

import html

import pytest

import cumt_archive.extract as extract_mod
from cumt_archive.extract import ListRefused, PageTooLarge, extract_article, extract_list
from cumt_archive.model import Article, NotArticle, RawPage, Reason
from cumt_archive.profile import load_profile
from cumt_archive.render import render

URL = "https://xwzx.cumt.edu.cn/12/34/c523a1234/page.htm"


def webplus(body_html: str, title: str = "标题", meta: str = "发布时间：2024-05-06") -> str:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head><body>
<div class="nav"><a href="/">首页</a><a href="/523/list.htm">新闻</a></div>
<div class="article" frag="窗口3" portletmode="simpleArticleAttri">
<h1 class="arti_title">{title}</h1><p class="arti_metas"><span class="arti_update">{meta}</span>
<span class="arti_views">浏览次数：<span class="WP_VisitCount">12</span></span></p>
<div class="entry"><div class="read"><div class='wp_articlecontent'>{body_html}</div></div></div></div>
<div class="footer">版权所有 中国矿业大学</div></body></html>"""


def extract(html: str, url: str = URL, headers=None) -> Article:
    result = extract_article(RawPage(url=url, body=html.encode("utf-8"), headers=headers or {}))
    assert isinstance(result, Article), result
    return result


def test_bold_before_cjk_punctuation_uses_html():
    article = extract(webplus("<p><strong>重点任务：</strong>推进改革</p><p>这是<b>重点</b>内容</p>"))
    assert article.text_blocks == ["<strong>重点任务：</strong>推进改革", "这是**重点**内容"]


def test_links_are_absolute_and_tables_are_pipe_tables():
    article = extract(webplus(
        '<p>详见<a href="/2024/notice.htm">通知</a>。</p>'
        "<table><tr><td>姓名</td><td>学院</td></tr><tr><td>张三</td><td>计算机|软件</td></tr></table>"
    ))
    assert article.text_blocks[0] == "详见[通知](https://xwzx.cumt.edu.cn/2024/notice.htm)。"
    assert article.text_blocks[1] == "| 姓名 | 学院 |\n| --- | --- |\n| 张三 | 计算机\\|软件 |"


def test_word_residue_and_indentation_disappear():
    article = extract(webplus(
        '<p class="MsoNormal" style="text-indent:2em">&nbsp;&nbsp;\u3000\u3000<span lang="EN-US">2024</span>'
        "<span style='mso-spacerun:yes'>年</span>工作<o:p></o:p></p>"
        "<!--[if gte vml 1]><v:shape><v:imagedata src='file:///C:/x.png'/></v:shape><![endif]-->"
        "<p>&nbsp;</p><p><br/></p><p>第二段\n   继续</p><script>var a=1;</script>"
    ))
    assert article.text_blocks == ["2024年工作", "第二段继续"]


def test_template_syntax_is_neutralised_for_hexo():
    article = extract(webplus("<p>公式 {{ x }} 与 {% raw %} 以及 {# c #}</p>"))
    assert article.text_blocks[0] == "公式 {{ x }} 与 {% raw %} 以及 {# c #}"  # extraction keeps the text
    rendered = render(article, load_profile("cumt"))
    assert "{{" not in rendered and "{%" not in rendered and "{#" not in rendered
    assert "公式 {{ x }} 与 {% raw %} 以及 {# c #}" in html.unescape(rendered)


def test_images_prefer_original_src_and_keep_order():
    article = extract(webplus(
        '<p style="text-align:center"><img src="/_upload/article/images/a/b/small.jpg" '
        'original-src="/_upload/article/images/a/b/small_d.jpg"></p><p>图注</p>'
        '<p><span><img src="https://zwb.cumt.edu.cn/_upload/article/images/c.png"></span></p>'
        '<p><img src="/_ueditor/themes/default/images/icon_pdf.gif"></p>'
    ))
    assert [m.url for m in article.images] == [
        "https://xwzx.cumt.edu.cn/_upload/article/images/a/b/small_d.jpg",
        "https://zwb.cumt.edu.cn/_upload/article/images/c.png",
    ]
    assert article.text_blocks == ["图注"]


def test_attachments_webplus_links_and_pdf_player():
    article = extract(webplus(
        "<p>请见附件。</p>"
        '<p><a href="/_upload/article/files/aa/bb/名单.xlsx" sudyfile-attr="{\'title\':\'名单.xlsx\'}">名单.xlsx</a></p>'
        '<div class="wp_pdf_player" pdfsrc="/_upload/article/files/cc/dd/x.pdf" sudyfile-attr="{\'title\':\'通知.pdf\'}"></div>'
    ))
    assert [(m.name, m.url) for m in article.attachments] == [
        ("名单.xlsx", "https://xwzx.cumt.edu.cn/_upload/article/files/aa/bb/名单.xlsx"),
        ("通知.pdf", "https://xwzx.cumt.edu.cn/_upload/article/files/cc/dd/x.pdf"),
    ]
    assert article.text_blocks == ["请见附件。"]


def test_time_of_day_is_kept_and_dotted_dates_work():
    assert str(extract(webplus("<p>正文</p>", meta="发布时间：2023-04-01 15:30")).published) == "2023-04-01 15:30:00"
    assert str(extract(webplus("<p>正文</p>", meta="2022.11.07")).published) == "2022-11-07 00:00:00"


def test_malformed_html_still_yields_paragraphs():
    html = webplus("<p>第一段<p>第二段</div><p>第三段")
    assert extract(html).text_blocks == ["第一段", "第二段", "第三段"]


def test_paragraph_starting_like_markdown_syntax_stays_a_paragraph():
    article = extract(webplus("<p># 不是标题</p><p>1. 不是列表</p><p>- 也不是</p>"))
    assert article.text_blocks == ["\\# 不是标题", "1\\. 不是列表", "\\- 也不是"]


def gbk_page(meta_charset: bool) -> bytes:
    head = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">' if meta_charset else ""
    return webplus("<p>中国矿业大学新闻，编码测试。</p>").replace('<meta charset="utf-8">', head).encode("gb18030")


def test_gbk_decoding_from_header_meta_or_guess():
    for body, headers in (
        (gbk_page(True), {}),
        (gbk_page(False), {"Content-Type": "text/html; charset=GBK"}),
        (gbk_page(False), {}),
    ):
        result = extract_article(RawPage(url=URL, body=body, headers=headers))
        assert isinstance(result, Article)
        assert result.text_blocks == ["中国矿业大学新闻，编码测试。"]
        assert result.title == "标题"


def test_utf8_bom_is_harmless():
    result = extract_article(RawPage(url=URL, body=b"\xef\xbb\xbf" + webplus("<p>正文</p>").encode("utf-8")))
    assert isinstance(result, Article) and result.title == "标题"


def test_not_articles():
    campus = "<html><body><p>您当前ip并非校内地址，该信息仅允许校内地址访问</p></body></html>"
    assert extract_article(RawPage(url=URL.replace(".htm", ".psp"), body=campus.encode())).reason == "campus_only"
    login = '<html><body><form><input name="u"><input type="password" name="p"></form></body></html>'
    assert extract_article(RawPage(url="https://authserver.cumt.edu.cn/authserver/login?service=x",
                                   body=login.encode())).reason == "login"
    challenge = "<html><head><script>eval(atob('ZG9jdW1lbnQ='));location.reload()</script></head><body></body></html>"
    assert extract_article(RawPage(url=URL, status=412, body=challenge.encode())).reason == "challenge"
    assert extract_article(RawPage(url=URL, status=200, body=challenge.encode())).reason == "challenge"
    plain = "<html><body><p>hello</p></body></html>"
    assert extract_article(RawPage(url=URL, body=plain.encode())).reason == "unknown_cms"
    empty = webplus("<p>&nbsp;</p>")
    assert extract_article(RawPage(url=URL, body=empty.encode())).reason == "empty"


def test_word_split_bold_runs_become_one_emphasis_and_odd_text_stays_text():
    article = extract(webplus(
        "<p><strong>一、</strong><strong>总体要求</strong></p><p>---</p><p>版权 &amp;copy; 与 &amp;amp;</p>"
    ))
    assert article.text_blocks == ["**一、总体要求**", "\\---", "版权 &amp;copy; 与 &amp;amp;"]


def test_body_title_line_is_escaped_but_front_matter_keeps_the_exact_title():
    article = extract(webplus("<p>正文</p>", title="测试 *标题* [x]"))
    text = render(article, load_profile("cumt"))
    assert "\n\n测试 \\*标题\\* \\[x\\]\n\n" in text
    assert "\ntitle: 中国矿业大学->测试 *标题* [x] | cumt.net.cn\n" in text


def test_page_chrome_after_the_body_is_not_taken_for_spilled_text():
    html = webplus("<p>正文。</p>").replace(
        "</div></div></div></div>",
        "</div><p class='arti_metas'>新闻来源：宣传部 摄影：李四</p><div class='share'>分享到：微信</div>"
        "<p>上一篇：<a href='/a.htm'>旧新闻</a></p></div></div></div>")
    assert extract(html).text_blocks == ["正文。"]


def test_error_words_in_titles_and_a_password_box_do_not_hide_articles():
    for title in ("我校500名志愿者服务马拉松赛", "学校召开纠正错误倾向专题会", "404实验室揭牌"):
        assert extract(webplus("<p>正文。</p>", title=title)).title == title
    with_login_box = webplus("<p>正文。</p>").replace(
        "<div class=\"footer\">", "<div class=\"footer\"><form><input type='password' name='mail'></form>")
    assert extract(with_login_box).text_blocks == ["正文。"]


def test_campus_only_notice_inside_the_body_is_not_an_article():
    page = webplus("<p>您当前ip并非校内地址，该信息仅允许校内地址访问</p>")
    assert extract_article(RawPage(url=URL.replace(".htm", ".psp"), body=page.encode())).reason == "campus_only"


def test_media_are_web_urls_only():
    article = extract(webplus(
        '<p>正文</p><p><img src="file:///etc/passwd"></p><p><img src="data:image/png;base64,AAAA"></p>'
        '<p><a href="file:///etc/shadow">附件.pdf</a></p><div class="wp_pdf_player" pdfsrc="ftp://x/y.pdf"></div>'
        '<p><img src="/_upload/article/images/ok.jpg"></p>'
    ))
    assert [m.url for m in article.media] == ["https://xwzx.cumt.edu.cn/_upload/article/images/ok.jpg"]


def test_thumbnail_links_give_the_full_image_and_chrome_inside_bodies_goes():
    article = extract(webplus(
        '<p>正文。</p><p><a href="/_upload/article/images/big.jpg"><img src="/_upload/article/images/small.jpg"></a></p>'
        "<p>【打印本页】【关闭窗口】</p><p>分享到：</p><p>请返回上一页查看详情。</p>"
    ))
    assert [m.url for m in article.images] == ["https://xwzx.cumt.edu.cn/_upload/article/images/big.jpg"]
    assert article.text_blocks == ["正文。", "请返回上一页查看详情。"]


def test_attachment_names_are_the_link_text_as_the_page_shows_it():
    article = extract(webplus(
        '<p>正文</p><p><a href="/_upload/article/files/a/b/x.xlsx">附件1：名单.xlsx</a></p>'
        '<p><a href="/_upload/article/files/a/b/y.zip">附件.zip</a></p>'
        '<p><a href="/_upload/article/files/a/b/z.docx" sudyfile-attr="{\'title\':\'申领表.docx\'}">'
        '<img src="/_ueditor/themes/default/images/icon_doc.gif"></a></p>'
    ))
    assert [m.name for m in article.attachments] == ["附件1：名单.xlsx", "附件.zip", "申领表.docx"]


def test_mentions_of_campus_access_are_not_campus_only_notices():
    article = extract(webplus("<p>升级期间本系统仅限校内访问，请校外用户使用VPN。</p>"))
    assert article.text_blocks == ["升级期间本系统仅限校内访问，请校外用户使用VPN。"]


def test_the_url_dates_an_undated_date_filed_article_and_nothing_else_does():
    page = webplus("<p>正文</p>", meta="").encode("utf-8")
    dated = extract_article(RawPage(url="https://jwc.hdu.edu.cn/2026/0313/c13475a290241/page.htm", body=page,
                                    headers={"Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT"}))
    assert isinstance(dated, Article) and str(dated.published) == "2026-03-13 00:00:00"
    undated = extract_article(RawPage(url=URL, body=page, headers={"Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT"}))
    assert undated.reason == "no_date"


def test_vsb_title_is_the_heading_the_page_title_names():
    html = ('<html><head><title>真正的标题-中国矿业大学新闻网</title><!--Announced by Visual SiteBuilder 9--></head><body>'
            '<form name="_newscontent_fromname"><h2>视点新闻</h2><h3>真正的标题</h3>'
            '<div class="attribute">发布时间：2025年01月08日 16:20</div>'
            '<div id="vsb_content"><div class="v_news_content"><p>正文</p></div></div></form></body></html>')
    for page_title in ("真正的标题-中国矿业大学新闻网", "中国矿业大学新闻网"):
        body = html.replace("真正的标题-中国矿业大学新闻网", page_title).encode("utf-8")
        assert extract(body.decode(), url="https://news.cumt.edu.cn/info/1002/1.htm").title == "真正的标题"


def test_blocks_inside_a_table_cell_are_plain_text_of_the_cell():
    article = extract(webplus(
        "<table><tr><td><h2>博士生专业选修课</h2></td><td></td></tr>"
        "<tr><td><p>课程</p><ul><li>数学</li><li>物理</li></ul></td><td><h3>学分</h3></td></tr></table>"
    ))
    assert article.text_blocks == ["| 博士生专业选修课 |  |\n| --- | --- |\n| 课程<br>数学<br>物理 | 学分 |"]


VSB_ARTICLE = ('<html><head><title>标题-学院</title><!--Announced by Visual SiteBuilder 9--></head><body>'
               '<div class="side"><span>2013/12/19</span> 点击：5</div>'
               '<form name="_newscontent_fromname"><h3>标题</h3><div class="info">{meta}</div>'
               '<div id="vsb_content"><div class="v_news_content"><p>正文 发布时间：2001-01-01</p></div></div>'
               '</form></body></html>')


@pytest.mark.parametrize(("meta", "shown"), [
    ("发布时间：2021年06月01日 10:09", "2021-06-01 10:09:00"),
    ("发布日期：2025-03-10", "2025-03-10 00:00:00"),
    ("时间：2016/09/20 16:31", "2016-09-20 16:31:00"),
    ("日期：2021年03月30日 08:57", "2021-03-30 08:57:00"),
    ("更新时间：2022.11.07", "2022-11-07 00:00:00"),
    ("Date: 2024-08-12 09:30:15", "2024-08-12 09:30:15"),
    ("2021年04月09日 17:40&nbsp;&nbsp;责编：宣传部&nbsp;&nbsp;点击：<script>_showDynClicks(\"wbnews\", 1, 2)</script>",
     "2021-04-09 17:40:00"),
    ("2020/07/24 10:51 作者：张三", "2020-07-24 10:51:00"),
    ("2019.05.06 浏览：<span>12</span>", "2019-05-06 00:00:00"),
])
def test_the_info_line_dates_the_article_labelled_or_not(meta: str, shown: str):
    article = extract(VSB_ARTICLE.format(meta=meta), url="https://news.cumt.edu.cn/info/1002/1.htm")
    assert (article.title, str(article.published)) == ("标题", shown)


def test_no_date_in_the_info_line_is_refused_even_with_dates_in_sidebar_and_body():
    result = extract_article(RawPage("https://news.cumt.edu.cn/info/1002/1.htm",
                                     VSB_ARTICLE.format(meta="作者：张三 点击：5").encode("utf-8")))
    assert isinstance(result, NotArticle) and result.reason == Reason.NO_DATE and result.detail


def test_not_article_reasons_are_typed_and_keep_their_stored_values():
    assert [r.value for r in Reason][:9] == [
        "campus_only", "login", "challenge", "link_shell", "error", "empty", "unknown_cms", "no_date", "not_html"]
    assert Reason.TOO_LARGE == "too_large" and isinstance(Reason.AMBIGUOUS_TITLE, str)


def test_every_refusal_has_a_reason_and_a_detail():
    pages = [RawPage(URL, b"", headers={"Content-Type": "application/pdf"}),
             RawPage(URL, b"<html><body><p>nothing known</p></body></html>"),
             RawPage(URL, webplus("").encode("utf-8")),
             RawPage(URL, webplus("<p>x</p>", meta="").encode("utf-8"))]
    for page in pages:
        result = extract_article(page)
        assert isinstance(result, NotArticle) and isinstance(result.reason, Reason) and result.detail, result


def test_a_page_beyond_the_limits_is_refused_before_parsing(monkeypatch):
    import cumt_archive.extract.page as page_module

    def no_parse(text):
        raise AssertionError("an oversized page reached lxml")

    monkeypatch.setattr(page_module, "parse_text", no_parse)
    tiny_elements = RawPage(URL, b"<html><body>" + b"<i>" * 1000 + b"</body></html>")
    result = extract_article(tiny_elements, max_elements=500)
    assert isinstance(result, NotArticle) and result.reason == Reason.TOO_LARGE and "1004 tags" in result.detail
    result = extract_article(tiny_elements, max_bytes=100)
    assert isinstance(result, NotArticle) and result.reason == Reason.TOO_LARGE
    with pytest.raises(PageTooLarge) as refused:
        extract_list(tiny_elements, max_elements=500)
    assert refused.value.reason == Reason.TOO_LARGE and URL in str(refused.value)
    assert isinstance(refused.value, ListRefused)
    assert extract_mod.MAX_PAGE_BYTES == 8 * 1024 * 1024 and extract_mod.MAX_ELEMENTS == 200_000
