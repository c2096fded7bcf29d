from cumt_archive.pagination import page_url


def test_webplus_counts_forward():
    assert page_url("http://xwzx.cumt.edu.cn/523/list.htm", "webplus", 1, 3) == "http://xwzx.cumt.edu.cn/523/list.htm"
    assert page_url("http://xwzx.cumt.edu.cn/523/list.htm", "webplus", 2, 3) == "http://xwzx.cumt.edu.cn/523/list2.htm"
    assert page_url("http://xwzx.cumt.edu.cn/523/list.htm", "webplus", 4, 3) is None
    assert page_url("https://jwc.hdu.edu.cn/ksgl/list.htm", "webplus", 3, None) == "https://jwc.hdu.edu.cn/ksgl/list3.htm"


def test_vsb_counts_back_from_the_total():
    entry = "http://cst.nuc.edu.cn/xwzx/xyxw.htm"
    assert page_url(entry, "vsb", 2, 30) == "http://cst.nuc.edu.cn/xwzx/xyxw/29.htm"
    assert page_url(entry, "vsb", 30, 30) == "http://cst.nuc.edu.cn/xwzx/xyxw/1.htm"
    assert page_url(entry, "vsb", 31, 30) is None
    assert page_url(entry, "vsb", 2, None) is None
