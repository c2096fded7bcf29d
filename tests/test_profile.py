import pytest

from cumt_archive.profile import ProfileError, load_profile, parse_profile


def test_bundled_profile_has_the_columns_of_the_brief():
    profile = load_profile("cumt")
    assert profile.university == "中国矿业大学" and profile.label == "cumt.net.cn"
    assert profile.tags == ("中国矿业大学",) and profile.categories == ("cumt.net.cn", "中国矿业大学")
    urls = {c.list_url for c in profile.columns}
    for col in (513, 521, 523):
        assert f"https://xwzx.cumt.edu.cn/{col}/list.htm" in urls
    for col in (19673, 19674, 19676, 19677, 19678, 19679):
        assert f"https://www.cumt.edu.cn/{col}/list.htm" in urls
    assert any(u.startswith("https://news.cumt.edu.cn/") for u in urls)
    assert all(u.startswith("https://") for u in urls)


def test_invalid_yaml_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nuniversity: [unclosed\nlabel: y\n", encoding="utf-8")
    with pytest.raises(ProfileError) as err:
        load_profile(str(bad))
    assert str(bad) in str(err.value) and ":3:" in str(err.value)


@pytest.mark.parametrize("text,needle", [
    ("- a\n- b\n", "mapping"),
    ("name: x\nuniversity: u\nlabel: l\ntitle_format: '{title}'\ntags: []\ncategories: []\nallowed_domains: [a]\ncolumns: [{key: k}]\n", "'list'"),
    ("name: x\nuniversity: u\nlabel: l\ntitle_format: '{evil.__class__}'\ntags: []\ncategories: []\nallowed_domains: [a]\ncolumns: []\n", "title_format"),
    ("name: x\nuniversity: u\nlabel: l\ntitle_format: '{title}'\ntags: []\ncategories: []\nallowed_domains: [a]\ncolumns: [{key: k, list: 'ftp://x/y'}]\n", "absolute http"),
    ("name: x\nuniversity: u\nlabel: l\ntitle_format: '{title}'\ntags: x\ncategories: []\nallowed_domains: [a]\ncolumns: []\n", "'tags' must be a list"),
])
def test_profile_validation_errors(text, needle):
    with pytest.raises(ProfileError) as err:
        parse_profile(text, "p.yaml")
    assert needle in str(err.value) and "p.yaml" in str(err.value)


def test_unknown_profile_name():
    with pytest.raises(ProfileError):
        load_profile("no-such-profile")
