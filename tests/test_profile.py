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


BASE = ("name: x\nuniversity: u\nlabel: l\ntitle_format: '{title}'\ntags: [t]\ncategories: [c]\n"
        "allowed_domains: [a.edu.cn]\n")


@pytest.mark.parametrize("text,needle", [
    (BASE + "colums: []\n", "p.yaml:8: unknown key 'colums'"),
    (BASE + "columns: []\nname: y\n", "p.yaml:9: duplicate key 'name' (first at line 1)"),
    (BASE + "columns: [{key: k, list: 'http://a.edu.cn/l.htm', lsit: x}]\n", "columns[0]: unknown key 'lsit'"),
    (BASE.replace("'{title}'", "'{title:>400000000}'") + "columns: []\n", "no format specs"),
    (BASE.replace("'{title}'", "'{title!r}'") + "columns: []\n", "no format specs"),
    (BASE + "columns: [&a {key: k, list: 'http://a.edu.cn/l.htm'}]\n", "p.yaml:8:11: YAML anchors are not allowed"),
    (BASE + "columns: !!python/object:os.system {}\n", "YAML tags are not allowed"),
])
def test_profile_typos_and_expansions_are_refused_with_file_and_line(text, needle):
    with pytest.raises(ProfileError) as err:
        parse_profile(text, "p.yaml")
    assert needle in str(err.value)


def test_alias_bomb_is_refused_before_it_expands():
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 12):
        bomb.append(f"{chr(97 + n)}: &{chr(97 + n)} [" + ", ".join(f"*{chr(96 + n)}" for _ in range(10)) + "]")
    text = BASE + "columns:\n  - {key: k, list: 'http://a.edu.cn/l.htm', name: *l}\n" + "\n".join(bomb) + "\n"
    with pytest.raises(ProfileError) as err:
        parse_profile(text, "bomb.yaml")  # 10**12 strings if it expanded
    assert "bomb.yaml:" in str(err.value) and "not allowed" in str(err.value)


def test_profile_files_that_are_not_utf8_or_too_big_name_the_file(tmp_path):
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(BASE.encode() + "columns: []\n# caf\xe9\n".encode("latin-1"))
    with pytest.raises(ProfileError) as err:
        load_profile(str(latin))
    assert str(latin) in str(err.value) and "UTF-8" in str(err.value)
    big = tmp_path / "big.yaml"
    big.write_text(BASE + "columns: []\n" + "#" * 300_000 + "\n")
    with pytest.raises(ProfileError) as err:
        load_profile(str(big))
    assert str(big) in str(err.value)
