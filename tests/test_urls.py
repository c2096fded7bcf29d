import random

from cumt_archive.archive import post_name
from cumt_archive.urls import canonical_url, media_relpath, urlname

SEED_URL = "http://xwzx.cumt.edu.cn/33/a2/c523a537506/page.htm"
DOMAINS = ("cumt.edu.cn",)


def test_seed_urlname_is_md5_of_its_url():
    assert urlname(SEED_URL) == "097a10403a3b04d2c8efdc302c9958a4"


def test_https_and_host_case_and_fragment_do_not_change_identity():
    for variant in (
        "https://xwzx.cumt.edu.cn/33/a2/c523a537506/page.htm",
        "HTTPS://XWZX.cumt.edu.cn:443/33/a2/c523a537506/page.htm#top",
        "http://xwzx.cumt.edu.cn:80/33/a2/c523a537506/page.htm",
    ):
        assert canonical_url(variant) == SEED_URL
        assert urlname(variant) == urlname(SEED_URL)


def test_non_default_port_and_query_are_kept():
    assert canonical_url("https://a.cumt.edu.cn:8443/x?b=1&a=2") == "http://a.cumt.edu.cn:8443/x?b=1&a=2"


def test_post_filenames_are_short_for_known_shapes():
    assert post_name(SEED_URL, DOMAINS) == "xwzx-c523a537506.md"
    assert post_name("http://news.cumt.edu.cn/info/1002/71704.htm", DOMAINS) == "news-1002-71704.md"
    assert post_name("http://xwzx.cumt.edu.cn/33/a2/c523a537506/page.psp", DOMAINS) == "xwzx-c523a537506-psp.md"
    assert post_name("http://cs.fudan.edu.cn/1c/58/c35229a466008/page.htm", DOMAINS) == \
        "cs-fudan-edu-cn-c35229a466008.md"


def test_other_urls_get_unique_safe_names():
    a = post_name("http://news.cumt.edu.cn/content.jsp?urltype=news.NewsContentUrl&wbtreeid=1002&wbnewsid=1", DOMAINS)
    b = post_name("http://news.cumt.edu.cn/content.jsp?urltype=news.NewsContentUrl&wbtreeid=1002&wbnewsid=2", DOMAINS)
    assert a != b
    hostile = post_name("http://evil.cumt.edu.cn/%2e%2e/%2e%2e/etc/passwd?x=/../../" + "a" * 500, DOMAINS)
    assert "/" not in hostile and ".." not in hostile.replace("..md", "")
    assert len(hostile) <= 130


def test_media_paths_never_escape_and_keep_extension():
    path = media_relpath("http://zwb.cumt.edu.cn/_upload/article/images/5f/b6/x/bfc75137.jpg")
    assert path.endswith(".jpg") and path.count("/") == 1 and not path.startswith("/")
    traversal = media_relpath("http://x.cumt.edu.cn/%2e%2e/%2e%2e/etc/passwd")
    assert ".." not in traversal and not traversal.startswith("/")
    download = media_relpath(
        "http://news.cumt.edu.cn/system/_content/download.jsp?urltype=news.DownloadAttachUrl&owner=1&wbfileid=2",
        "名单.xlsx",
    )
    assert download.endswith(".xlsx")
    assert media_relpath("http://a/b/c.JPG") != media_relpath("http://a/b/d.JPG")


def test_non_ascii_urls_have_one_identity_however_they_are_written():
    raw = "http://xwzx.cumt.edu.cn/_upload/article/files/ab/cd/通知附件4.pdf"
    encoded = "http://xwzx.cumt.edu.cn/_upload/article/files/ab/cd/%E9%80%9A%E7%9F%A5%E9%99%84%E4%BB%B64.pdf"
    assert canonical_url(raw) == canonical_url(encoded) == encoded
    assert media_relpath(raw) == media_relpath(encoded)
    assert urlname(raw) == urlname(encoded)


def test_join_url_is_urljoin():
    """join_url's shortcut (an absolute path joined to the base's origin) gives exactly what urljoin gives:
    checked on references made of the characters urljoin treats specially, against bases of every shape."""
    from urllib.parse import urljoin

    from cumt_archive.urls import join_url

    rng = random.Random(11)
    bases = ["http://www.cumt.edu.cn/a/b/page.htm", "https://News.Cumt.edu.cn:8080/info/1002/1.htm?x=1#f",
             "HTTP://x.y/", "http://h/a;p?q#f", "ftp://h/a/b", "file:///a/b", "http://[::1]/a", "http://u:p@h/a/b",
             "/rel/only", "", "http:relative"]
    pieces = ["/", "a", "..", ".", "?", "#", ";", "%20", " ", "\t", "\n", "\x00", "中", "//", "=", "&", "_upload",
              "x.jpg", "\u3000", "\x7f", ":", "@", "\\"]
    shortcut = 0
    for base in bases:
        for _ in range(2000):
            ref = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
            ref = "/" + ref if rng.random() < 0.8 else ref
            assert join_url(base, ref) == urljoin(base, ref), (base, ref)
            shortcut += ref.startswith("/") and "?" not in ref and "#" not in ref and "/." not in ref
    assert shortcut > 1000  # the shortcut itself was exercised
    assert join_url("http://www.cumt.edu.cn/a/b.htm", "/_upload/x.jpg") == "http://www.cumt.edu.cn/_upload/x.jpg"
