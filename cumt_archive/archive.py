"""An archive directory in use by one run: lock, index, raw captures, and publishing Markdown.

The crawl's pipelines and `cumt-archive regenerate` both publish through
`Archive.publish`, so both write the same bytes for the same page.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .extract.families import REGISTRY
from .model import Article, Media
from .outcomes import Outcome
from .profile import Profile
from .render import LAYOUTS, MEDIA_LINKS, RenderOptions, render
from .store.files import ArchiveLayout, atomic_write
from .store.index import ArchiveIndex, ArticleRow
from .store.lock import ArchiveLock
from .store.repair import repair_dangling_refs
from .store.warc import recover_open_files
from .urls import canonical_url, media_relpath, post_filename

logger = logging.getLogger(__name__)


class ArchiveError(ValueError):
    """A setting or path that makes the archive unusable; the message names it."""


class IndexDamaged(ArchiveError):
    """index.sqlite is not a sound SQLite database; `cumt-archive check --repair` rebuilds it."""

    def __init__(self, index: Path, detail: object) -> None:
        root = index.resolve().parent
        super().__init__(f"{index.resolve()}: the index is damaged ({detail}); `cumt-archive check --archive "
                         f"{root} --repair` rebuilds it from the WARC files")


@dataclass(frozen=True)
class Published:
    path: Path
    relpath: str
    changed: bool
    created: bool
    sha1: str
    replaces: str = ""  # URL of a cross-post that held this story until its original was found


@dataclass(frozen=True)
class Duplicate:
    """The story is already archived under another URL (a VSB cross-post): nothing was written."""

    owner_url: str


class Archive:
    def __init__(self, root: Path | str, profile: Profile, layout: str = "seed", media_links: str = "original") -> None:
        if layout not in LAYOUTS:
            raise ArchiveError(f"unknown Markdown layout {layout!r}: use one of {', '.join(LAYOUTS)}")
        if media_links not in MEDIA_LINKS:
            raise ArchiveError(f"unknown media link mode {media_links!r}: use one of {', '.join(MEDIA_LINKS)}")
        self.layout = ArchiveLayout(Path(root).resolve())
        if self.layout.root.exists() and not self.layout.root.is_dir():
            raise ArchiveError(f"{self.layout.root}: archive path exists and is not a directory")
        self.profile = profile
        self.options = RenderOptions(layout, media_links, self._local_link)  # type: ignore[arg-type]
        self._lock = ArchiveLock(self.layout.lock)
        self.index: ArchiveIndex | None = None

    # -- lifecycle -----------------------------------------------------------------

    def open(self) -> None:
        """Take the lock, then repair what a killed run may have left. Raises ArchiveBusy."""
        self.layout.create()
        self._lock.acquire()
        removed = self.layout.remove_stale_temporaries()
        if removed:
            logger.warning("removed %d temporary files left by an interrupted run in %s", removed, self.layout.root)
        for note in recover_open_files(self.layout.warc):
            logger.warning("recovered WARC file left open by an interrupted run: %s", note)
        try:
            self.index = ArchiveIndex(self.layout.index)
        except sqlite3.DatabaseError as exc:
            self._lock.release()
            raise IndexDamaged(self.layout.index, exc) from exc
        for note in repair_dangling_refs(self.index.db, self.layout.warc):
            logger.warning("index pointed past the end of a WARC file, repaired: %s", note)
        for path in self.index.orphaned_posts():
            if (self.layout.root / path).exists():
                (self.layout.root / path).unlink()
                logger.warning("removed %s: its story lives under another URL (an interrupted run left it)", path)

    def close(self) -> None:
        if self.index is not None:
            self.index.close()
            self.index = None
        self._lock.release()

    # -- media and posts ---------------------------------------------------------------

    def media_path(self, media: Media) -> Path:
        return self.layout.media / media_relpath(media.url, media.name)

    def _local_link(self, media: Media) -> str | None:
        path = self.media_path(media)
        if not path.exists():
            return None
        return os.path.relpath(path, self.layout.posts)

    def post_path(self, article: Article) -> Path:
        """The article's Markdown file: its readable name, unless another URL already holds that name.

        Readable names (host label + article id) are not injective (`a-b.` and `a.b.` hosts, one id under two
        paths), so the index decides: the first URL keeps the name, any other gets the name plus part of its
        urlname, which is as stable as the URL itself.
        """
        name = post_name(article.canonical_url, self.profile.allowed_domains)
        if self.index is not None:
            owner = self.index.path_owner(f"{self.layout.posts.name}/{name}")  # (its path below the root)
            if owner is not None and canonical_url(owner) != article.canonical_url:
                stem = name[:-3] if name.endswith(".md") else name
                name = f"{stem}-{article.urlname[:12]}.md"
        return self.layout.posts / name

    def render(self, article: Article) -> bytes:
        return render(article, self.profile, self.options).encode("utf-8")

    def archive_article(self, article: Article, *, warc_file: str | None, warc_offset: int | None,
                        fetched_at: str, media_missing: int | None = None) -> Published | Duplicate:
        """Write an article's Markdown and record it, unless its story is archived under another URL.

        Raises OSError when the file cannot be written; the index is only updated after the file is.
        """
        assert self.index is not None
        key = article.story_key
        row = self.index.article(article.urlname)  # read once: its status here, its path in publish
        if row is not None and row.status == "alias":
            return Duplicate(row.reason or "")
        owner = self.index.story_owner(key, article.urlname)
        if owner is not None and home_rank(article, owner.url) < home_rank(article, article.canonical_url):
            self.index.record_outcome(urlname=article.urlname, url=article.url, status=Outcome.ALIAS,
                                      reason=f"same story as {owner.url}", fetched_at=fetched_at)
            return Duplicate(owner.url)
        # New, or the story's better home (its original, under a cross-post archived first): write it here.
        published = self.publish(article, row)
        with self.index.transaction():
            self.index.record_article(
                urlname=article.urlname, url=article.url, title=article.title,
                published=f"{article.published:%Y-%m-%d %H:%M:%S}", content_sha1=published.sha1,
                path=published.relpath, warc_file=warc_file, warc_offset=warc_offset, fetched_at=fetched_at,
                media_missing=media_missing, story_key=key,
            )
            if owner is not None:
                self.index.record_outcome(urlname=owner.urlname, url=owner.url, status=Outcome.ALIAS,
                                          reason=f"same story as {article.url}")
        if owner is None:
            return published
        if owner.path and owner.path != published.relpath:
            (self.layout.root / owner.path).unlink(missing_ok=True)
        return dataclasses.replace(published, replaces=owner.url)

    def publish(self, article: Article, row: ArticleRow | None) -> Published:
        """Render and write the article's Markdown; row: its index row, as the caller read it (None: none).

        A path the index already holds for it is kept (regenerate keeps the name a crawl gave it)."""
        known = self.layout.root / row.path if row is not None and row.path and row.status == "ok" else None
        path = known or self.post_path(article)
        data = self.render(article)
        created = not path.exists()
        changed = atomic_write(path, data, skip_if_same=not created)
        return Published(
            path, str(path.relative_to(self.layout.root)), changed, created, hashlib.sha1(data).hexdigest()
        )


def home_rank(article: Article, url: str) -> tuple[int, str]:
    """Which of a story's URLs is its home (lowest first): the original's, then the smallest URL."""
    own_id = REGISTRY.article_id(url) or ""
    return (0 if own_id and own_id == article.origin_id else 1, url)


def post_name(url: str, domains: list[str] | tuple[str, ...]) -> str:
    """The Markdown file name of an article URL: a family's short name for URL shapes it knows."""
    return post_filename(url, domains, REGISTRY.file_stem(url))
