"""Scrapy settings for cumt-archive. Every value here can be overridden with `-s NAME=value`."""

BOT_NAME = "cumt_archive"
SPIDER_MODULES = ["cumt_archive.crawl.spiders"]
NEWSPIDER_MODULE = "cumt_archive.crawl.spiders"
# Our `crawl` command wraps Scrapy's to turn the run's outcome into the exit status.
COMMANDS_MODULE = "cumt_archive.crawl.commands"

# --- the archive ---------------------------------------------------------------
ARCHIVE_DIR = "output"
SITE_PROFILE = "cumt"  # a bundled profile name or a path to a YAML profile
MARKDOWN_LAYOUT = "seed"  # seed: images after the text, as the old archive; inline: where they stand
MARKDOWN_MEDIA_LINKS = "original"  # original URLs (seed) or "local" links to the archive's copies

# --- politeness --------------------------------------------------------------------
CONTACT = "cumt-archive operator <archive@cumt.net.cn>"  # -s CONTACT="name <mail>" fills {contact} below
USER_AGENT = "cumt-archive/0.1 (news archiver; +https://cumt.net.cn; contact: {contact})"
ROBOTSTXT_USER_AGENT = "cumt-archive"  # the token robots.txt rules are matched against
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# --- faults --------------------------------------------------------------------------
RETRY_ENABLED = True
RETRY_TIMES = 2
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024  # pages: no news page is near this; a decompression bomb is refused
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
MEDIA_MAXSIZE = 1024 * 1024 * 1024  # images, attachments, videos (streamed to disk, never whole in memory)
MEDIA_SPOOL_THRESHOLD = 1024 * 1024  # media bodies above this (or of unknown length) stream to disk
DOWNLOAD_FAIL_ON_DATALOSS = True  # a truncated body is an error, never content
MEDIA_ALLOW_REDIRECTS = True
FILES_EXPIRES = 36500  # media are immutable uploads: never fetch a stored file again unless refresh=1

DOWNLOAD_HANDLERS = {
    "http": "cumt_archive.crawl.handlers.ChallengeAwareHTTPHandler",
    "https": "cumt_archive.crawl.handlers.ChallengeAwareHTTPHandler",
    # A page must never make the crawler read local files or other services: web URLs only.
    "file": None,
    "data": None,
    "s3": None,
    "ftp": None,
}
# Requests never go to loopback, link-local, private or unspecified addresses (a hostile page could aim an
# image at a metadata service); -s ALLOW_INTERNAL_ADDRESSES=True lifts this for a crawl of a local mirror.
ALLOW_INTERNAL_ADDRESSES = False
TWISTED_DNS_RESOLVER = "cumt_archive.crawl.address_guard.PublicOnlyResolver"
MAX_LIST_PAGES = 5000  # a pager claiming more pages than this is not believed (one log line says so)

DOWNLOADER_MIDDLEWARES = {
    "cumt_archive.crawl.address_guard.InternalAddressMiddleware": 40,
    "cumt_archive.crawl.redirects.RedirectMemoryMiddleware": 650,
    "scrapy.downloadermiddlewares.useragent.UserAgentMiddleware": None,
    "cumt_archive.crawl.middlewares.ContactUserAgentMiddleware": 500,
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "cumt_archive.crawl.middlewares.RecordingOffsiteMiddleware": 50,
    # robots.txt as Scrapy obeys it, but an unreachable host is one log line, not a traceback
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "cumt_archive.crawl.middlewares.QuietRobotsTxtMiddleware": 100,
}
SPIDER_MIDDLEWARES = {
    "cumt_archive.crawl.storage_errors.StorageErrorSpiderMiddleware": 10,
}
EXTENSIONS = {
    "cumt_archive.crawl.run.ArchiveRun": 100,
    "cumt_archive.crawl.progress.CrawlProgress": 500,
    # A cron crawl needs no remote control, console or memory debugger: closed surface, no token files.
    "scrapy.extensions.telnet.TelnetConsole": None,
    "scrapy.extensions.remote_control.RemoteControl": None,
    "scrapy.extensions.memdebug.MemoryDebugger": None,
    "scrapy.extensions.logstats.LogStats": None,  # replaced by CrawlProgress's line
}
ITEM_PIPELINES = {
    "cumt_archive.crawl.pipelines.OncePerRunPipeline": 100,
    "cumt_archive.crawl.pipelines.OriginalMediaPipeline": 200,
    "cumt_archive.crawl.pipelines.MarkdownPipeline": 300,
}

# --- the log (cumt_archive/crawl/log.py) ------------------------------------------------
# INFO: the project's lines plus Scrapy's warnings and errors; DEBUG: everything Scrapy says too.
LOG_LEVEL = "INFO"
LOG_INSTALL_ROOT_HANDLER = False  # the crawl command installs the operator's handler from the LOG_* settings
PROGRESS_INTERVAL = 60  # seconds between progress lines; 0: none
FEED_EXPORT_ENCODING = "utf-8"
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
