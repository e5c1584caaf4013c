"""Tagging on real text with the bundled universe: the seed story, the classic traps, markers,
zones, offsets, relevance, and the corpus path agreeing with the one-article path."""

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagger import tag, tag_articles

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
SEED = (FIXTURES / "seed_space_espionage.txt").read_text(encoding="utf-8")


def entities(text: str, **kwargs) -> dict[str, dict]:
    """Entities of one text by name, with listed status also keyed by ticker."""
    found = {}
    for entity in tag(text, **kwargs)["entities"]:
        found[entity["name"]] = entity
        if entity["ticker"]:
            found[entity["ticker"]] = entity
    return found


def tickers(text: str, **kwargs) -> set[str]:
    return {e["ticker"] for e in tag(text, **kwargs)["entities"] if e["status"] == "listed"}


# ------------------------------------------------------------------ the seed story


def test_seed_story_dated_2024():
    record = tag(SEED, published="2024-05-10")
    by_mention = {m["text"]: e for e in record["entities"] for m in e["mentions"]}

    spacex, blue = by_mention["SpaceX"], by_mention["Blue Origin"]
    assert spacex["status"] == "private"
    assert spacex["reason"] == "listed later, SPCX, 2026-06-12"
    assert blue["status"] == "private"
    assert blue["role"] == "mentioned"

    for name in ("Shutterstock", "Benzinga", "GPT-4"):
        assert by_mention[name]["role"] == "boilerplate", name
        assert by_mention[name]["relevance"] == 0
    assert by_mention["GPT-4"]["name"] == "OpenAI"

    scmp = by_mention["South China Morning Post"]
    assert scmp["role"] == "source"
    assert scmp["parent_ticker"] == "9988.HK"  # Alibaba's primary line (its US ADR is BABA)
    assert scmp["relevance"] <= 10

    names = {e["name"] for e in record["entities"]}
    assert not any("Ministry" in n or "Space Command" in n for n in names)
    assert not [e for e in record["entities"] if e["status"] == "listed" and e["role"] == "subject"]


def test_seed_story_undated_is_judged_as_of_today():
    record = tag(SEED)
    assert record["published_at"] is None
    assert record["status_as_of"] == date.today().isoformat()
    spacex = next(e for e in record["entities"] if e["mentions"][0]["text"] == "SpaceX")
    assert (spacex["status"], spacex["ticker"]) == ("listed", "SPCX")


# ------------------------------------------------------------------ traps


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Target said quarterly sales rose 3%.", {"TGT"}),
        ("Analysts raised their target price for the sector.", set()),
        ("Harrison Ford starred in the film.", set()),
        ("Twitter agreed to sell itself to Elon Musk. Tesla shares fell 12%.", {"TSLA"}),
        ("Investors cheered Mr. Ford's remarks about the film.", set()),
        (
            "UBS Maintains Buy On Cisco, Lowers Target To $54 after the earnings report",
            {"CSCO", "UBSG.SW"},
        ),
        ("Ford Motor Co. recalled 100,000 trucks.", {"F"}),
        # what a company does makes an ordinary word opening a sentence the company
        ("Ford recalled 100,000 trucks.", {"F"}),
        ("Gap warned that sales would fall.", {"GAP"}),
        ("Gold cut its gains after the Fed minutes.", set()),
        ("Gap Inc. shares fell after the report.", {"GAP"}),
        ("Investors should mind the gap between bid and ask.", set()),
        ("Visa and Mastercard reported higher payment volumes.", {"V", "MA"}),
        ("She applied for a travel visa last week.", set()),
        ("Apple Hospitality REIT raised its dividend.", {"APLE"}),
        ("Apple unveiled a new iPhone on Tuesday.", {"AAPL"}),
        ("The Dow fell 300 points and the S&P 500 slipped.", set()),
        ("The Nasdaq Composite closed at a record.", set()),
        ("Shell plc (NYSE: SHEL) cut its buyback.", {"SHEL.L"}),
        ("The fraudster set up a shell company in Delaware.", set()),
        ("Gold prices rose 1% while oil fell.", set()),
        ("Gap prices its offering of senior notes.", {"GAP"}),
    ],
)
def test_classic_traps(text, expected):
    assert tickers(text, published="2025-01-15") == expected


def test_bare_upper_case_words_are_not_tickers():
    text = "AI is changing IT budgets. ON the other hand, ALL analysts agree it is A big deal."
    assert tickers(text) == set()


def test_markers_and_cashtags_are_strong_evidence():
    text = "Tilray Brands (NASDAQ: TLRY) jumped while $TSLA slid; NYSE:BA was flat."
    found = entities(text, published="2025-01-15")
    assert {"TLRY", "TSLA", "BA"} <= set(found)
    assert found["TSLA"]["components"]["marker"]


def test_ticker_lists_count_as_markers():
    text = "Trade strategy for SPY, QQQ, AAPL, MSFT, NVDA and TSLA today."
    assert {"AAPL", "MSFT", "NVDA", "TSLA"} <= tickers(text)


def test_share_classes_are_one_company():
    found = tag("Alphabet (NASDAQ: GOOG) and Alphabet (NASDAQ: GOOGL) both rose.")["entities"]
    assert [e["ticker"] for e in found if e["status"] == "listed"] == ["GOOGL"]


def test_subsidiary_points_at_its_listed_parent():
    found = entities("Instagram rolled out a new feature for creators.")
    instagram = found["Instagram"]
    assert (instagram["status"], instagram["parent_ticker"]) == ("private", "META")


def test_organisation_with_legal_suffix_is_unresolved():
    found = entities("Zyxwvut Widgets Inc. signed a supply deal.")
    assert found["Zyxwvut Widgets Inc."]["status"] == "unresolved"


def test_a_dateline_place_is_not_part_of_the_organisation_after_it():
    found = entities(
        "Wilmington, Delaware, United States, Zyxwvut Research, Inc., July 16, 2024 -- The "
        "automotive seats market is projected to grow."
    )
    assert set(found) == {"Zyxwvut Research, Inc."}


def test_government_bodies_are_not_companies():
    assert (
        tag("The Federal Reserve and the Securities and Exchange Commission met.")["entities"] == []
    )


def test_possessives_with_straight_and_typographic_apostrophes():
    for text in (
        "Jeff Bezos’ Blue Origin and Musk’s SpaceX",
        "Jeff Bezos' Blue Origin and Musk's SpaceX",
    ):
        names = {m["text"] for e in tag(text)["entities"] for m in e["mentions"]}
        assert {"Blue Origin", "SpaceX"} <= names


# ------------------------------------------------------------------ zones, relevance, offsets


def test_boilerplate_only_mentions_score_zero():
    text = "Nvidia shares rose on data-centre demand.\nImage via Shutterstock\n© 2024 Benzinga.com."
    found = entities(text)
    assert found["NVDA"]["role"] == "subject"
    assert found["SSTK"]["relevance"] == 0 and found["SSTK"]["role"] == "boilerplate"


def test_headline_mention_outranks_passing_mention():
    record = tag(
        "The company raised guidance. Rival Microsoft was also mentioned once near the end.",
        title="Oracle Beats Estimates As Cloud Sales Jump",
    )
    scores = {e["ticker"]: e["relevance"] for e in record["entities"]}
    assert scores["ORCL"] > scores["MSFT"]
    assert record["entities"][0]["ticker"] == "ORCL"


@settings(max_examples=60, deadline=None)
@given(
    prefix=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
)
def test_offsets_index_the_text_as_given(prefix):
    text = (
        prefix + " Jeff Bezos’ Blue Origin signed with Tilray (NASDAQ: TLRY). Café Apple Inc. too"
    )
    for entity in tag(text)["entities"]:
        for m in entity["mentions"]:
            assert text[m["start"] : m["end"]] == m["text"]


def test_corpus_path_agrees_with_one_article_path():
    texts = [SEED, "Apple and Microsoft rose.", "Gap Inc. fell; $TSLA too.", ""]
    frame = pl.DataFrame(
        {"article_id": [str(i) for i in range(len(texts))], "title": "", "body": texts}
    )
    corpus, _ = tag_articles(frame)
    for i, text in enumerate(texts):
        one = [(e["name"], e["relevance"], e["role"]) for e in tag(text)["entities"]]
        many = corpus.filter(pl.col("article_id") == str(i)).sort("entity_idx")
        assert one == list(zip(many["name"], many["relevance"], many["role"], strict=True))
