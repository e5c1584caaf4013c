"""Refreshing the raw lists: today's SEC and Nasdaq Trader files, then a rebuild."""

import gzip
import os
import urllib.request
from datetime import date
from pathlib import Path

from tagger.errors import NetworkError
from tagger.universe.build import RAW_DIR, UNIVERSE_DIR, build

SOURCES = {
    "sec/company_tickers_exchange_{date}.json.gz": "https://www.sec.gov/files/company_tickers_exchange.json",
    "nasdaqtrader/nasdaqlisted_{date}.txt.gz": "https://www.nasdaqtrader.com/dynamic/SymDir/nasdaqlisted.txt",
    "nasdaqtrader/otherlisted_{date}.txt.gz": "https://www.nasdaqtrader.com/dynamic/SymDir/otherlisted.txt",
}
USER_AGENT = "market-tagger/0.1 (set TAGGER_USER_AGENT to 'name email' as SEC asks)"


def update(raw: Path = RAW_DIR, out: Path = UNIVERSE_DIR, *, fetch=None) -> dict[str, int]:
    """Download today's SEC and Nasdaq Trader lists into `raw`, then rebuild the universe.

    All downloads must succeed before anything is written; if one fails, or the build does,
    the raw folder and the universe are left as they were (NetworkError / TaggerError)."""
    fetch = fetch or _http_get
    today = date.today().isoformat()
    fetched = {}
    for pattern, url in SOURCES.items():
        try:
            fetched[raw / pattern.format(date=today)] = fetch(url)
        except OSError as e:
            raise NetworkError(
                f"cannot download {url} ({_reason(e)}); the universe was not changed"
            ) from None
    written = []
    try:
        for path, content in fetched.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(gzip.compress(content))
            written.append(path)
        return build(raw, out=out)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def _http_get(url: str) -> bytes:
    agent = os.environ.get("TAGGER_USER_AGENT") or USER_AGENT
    request = urllib.request.Request(url, headers={"User-Agent": agent})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


def _reason(error: OSError) -> str:
    return str(getattr(error, "reason", None) or error).strip().splitlines()[0]
