"""Copy the raw universe lists the build needs from ../shared/data/universe into data/universe/raw.

Usage: python scripts/bundle_universe_raw.py [RAW_DIR]
CSV/TXT files are gzipped; JSON files are already gzipped. PROVENANCE.md is copied verbatim.
"""

import gzip
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "universe"
FILES = [
    "PROVENANCE.md",
    "sec/company_tickers_exchange.json.gz",
    "nasdaqtrader/nasdaq-listed-symbols_2026-08-01.csv",
    "nasdaqtrader/other-listed_2026-08-22.csv",
    "nasdaqtrader/nasdaqlisted_2025-07-21.txt",
    "nasdaqtrader/otherlisted_2025-07-21.txt",
    "nasdaq_screener/nasdaq_full_tickers.json.gz",
    "nasdaq_screener/nyse_full_tickers.json.gz",
    "nasdaq_screener/amex_full_tickers.json.gz",
    "indices/sp500_constituents.csv",
    "private/famous_private_manual.csv",
    "private/wikipedia_unicorns_2025-06-19.csv",
    "private/wikipedia_former_unicorns_2025-06-19.csv",
    "private/cbinsights_unicorns_2022-09.csv",
    "private/crunchbase_unicorns_2024.csv",
    "private/crunchbase_emerging_unicorns_2024.csv",
    "aliases/wikidata_ticker_alias_table.csv",
    # point-in-time US listing history (ODbL share-alike parts: keep PROVENANCE.md with the data)
    "history/PROVENANCE.md",
    "history/listings_history.parquet",
    "history/name_history.parquet",
    "history/ticker_changes.csv",
    "history/snapshot_sources.csv.gz",
    # non-US listings, venues, ADR links and curated news names
    "global/PROVENANCE.md",
    "global/equities.parquet",
    "global/exchanges.csv",
    "global/adr_links.csv",
    "global/aliases_curated.csv",
    "global/hand_decisions.csv",
]


def main(src: Path) -> None:
    out = ROOT / "data" / "universe" / "raw"
    for name in FILES:
        source, target = src / name, out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith((".csv", ".txt")):
            with source.open("rb") as f, gzip.open(f"{target}.gz", "wb", compresslevel=9) as g:
                shutil.copyfileobj(f, g)
        else:
            shutil.copyfile(source, target)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{out}: {len(FILES)} files, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SHARED)
