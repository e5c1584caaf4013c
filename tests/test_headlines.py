"""Headline-style news (issue 8): title-case and all-capitals headlines, indices and fund brands,
broker ratings, short names of well-known companies and ticker lists. The headlines are written
for these tests; each family is a general rule, not one story."""

import pytest

from tagger import tag

DAY = "2024-05-10"


def listed(title: str, body: str = "", published: str = DAY) -> dict[str, dict]:
    """Listed entities of a story by ticker."""
    record = tag(body, title=title, published=published)
    return {e["ticker"]: e for e in record["entities"] if e["status"] == "listed"}


def tickers(title: str, body: str = "") -> set[str]:
    return set(listed(title, body))


# ------------------------------------------------------------------ ticker lists


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Tech Movers Update: IBM, ORCL, ADBE", {"IBM", "ORCL", "ADBE"}),
        ("Midday Gainers: IBM, CSCO and INTC", {"IBM", "CSCO", "INTC"}),
    ],
)
def test_a_ticker_list_is_read_whole(title, expected):
    assert tickers(title) == expected


# ------------------------------------------------------------------ title-case words


@pytest.mark.parametrize(
    "title",
    [
        "Chipmaker Slides On Weak Guidance",  # not On Holding
        "Oracle to Post Q2 Results",  # not Post Holdings
        "Corporate News For March 3",  # not News Corp
        "Retailer Will Target Younger Shoppers",  # not Target
        "Airline Stocks Mind The Gap As Fuel Costs Climb",  # not Gap
    ],
)
def test_ordinary_words_in_a_title_case_headline_are_not_names(title):
    assert tickers(title) <= {"ORCL"}


def test_a_title_case_name_with_a_company_cue_is_the_company():
    assert "CROX" in tickers("Crocs Closes Its Retail Stores For Two Weeks")
    assert {"GAP", "GPS"} & tickers("Gap Inc Shares Jump After Strong Quarter")  # GPS until 2024-08


def test_a_title_case_name_confirmed_in_the_body_is_the_company():
    found = tickers("Target Beats On Earnings", "Target Corp. said comparable sales rose 3%.")
    assert found == {"TGT"}


def test_not_is_no_verb_marker():
    assert "AAPL" in tickers("Buffett Has Billions In This Stock (Hint: It's Not Apple)")


def test_unknown_bank_ending_in_a_known_word_is_unresolved():
    record = tag("", title="Smalltown Federal Bancorp Q3 EPS", published=DAY)
    assert [e for e in record["entities"] if e["status"] == "listed"] == []
    names = {e["name"]: e["status"] for e in record["entities"]}
    assert names.get("Smalltown Federal Bancorp") == "unresolved"


def test_legal_suffix_does_not_bypass_the_longer_name():
    record = tag("", title="Acacia Settles Patent Suit With BMW of North America, LLC")
    names = {e["name"] for e in record["entities"]}
    assert not any(n.startswith(("America", "North America")) for n in names)


# ------------------------------------------------------------------ indices and exchanges


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("Stocks Slide As Nasdaq Drops 2%", "The Nasdaq Composite fell 2% and NASDAQ stocks slid."),
        ("Dow Jones Futures Fall", "The Dow fell 300 points; a Dow component led losses."),
        ("the Nasdaq and Dow fell", ""),
        ("Global Markets Retreat", "The S&P 500, Russell 2000, FTSE 100, Nikkei and DAX fell."),
        ("Nasdaq Hits Record High As Tech Rallies", ""),
    ],
)
def test_indices_and_exchanges_are_not_companies(title, body):
    assert not tickers(title, body) & {"NDAQ", "DOW", "SPGI", "LSEG.L", "FTSE"}


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Nasdaq Inc said it would buy a data firm", "NDAQ"),
        ("Dow Inc shares fell after the chemical maker cut its outlook", "DOW"),
        ("Dow to cut 2,000 jobs as chemical demand slumps", "DOW"),
        ("Nasdaq (NDAQ) to buy Adenza for $10.5 billion", "NDAQ"),
    ],
)
def test_the_exchange_or_chemical_company_itself_counts(title, expected):
    assert expected in tickers(title)


# ------------------------------------------------------------------ fund brands


@pytest.mark.parametrize(
    "title",
    [
        "Should SPDR S&P Retail ETF Be on Your Radar?",
        "iShares Bitcoin Trust Draws Record Inflows",
        "Invesco S&P 500 Equal Weight ETF Sees Outflows",
        "Vanguard Total Stock Market ETF Hits a High",
    ],
)
def test_fund_brands_are_not_their_sponsors(title):
    assert not tickers(title) & {"STT", "BLK", "IVZ"}


def test_a_named_fund_is_its_own_ticker():
    assert "QQQ" in tickers("Should Invesco QQQ Be on Your Investing Radar?")


# ------------------------------------------------------------------ brokers rating a company


@pytest.mark.parametrize(
    ("title", "subject", "broker"),
    [
        ("Piper Sandler Downgrades Moderna to Neutral", "MRNA", "PIPR"),
        ("Jefferies Maintains Buy on Alibaba, Lowers Price Target", "BABA", "JEF"),
        ("Morgan Stanley Upgrades Tesla to Overweight", "TSLA", "MS"),
    ],
)
def test_the_rated_company_is_the_subject_not_the_broker(title, subject, broker):
    record = tag("", title=title, published=DAY)
    first = record["entities"][0]
    assert subject in (first["ticker"], first["us_ticker"])
    brokers = [e for e in record["entities"] if e["ticker"] == broker]
    assert all(e["role"] == "source" and e["relevance"] <= 10 for e in brokers)


@pytest.mark.parametrize(
    ("title", "subject", "broker"),
    [
        ("Deutsche Bank Raises Price Target On Apple", "AAPL", "Deutsche Bank"),
        ("Barclays Cuts Tesla Price Target", "TSLA", "Barclays"),
        ("Mizuho Lifts Nvidia Target", "NVDA", "Mizuho"),
        ("RBC Capital Reiterates Sector Perform On Microsoft", "MSFT", "Royal Bank of Canada"),
        ("Morgan Stanley Turns Bearish On Apple", "AAPL", "Morgan Stanley"),
        ("Goldman Sachs Sees Upside In Nike Shares", "NKE", "Goldman Sachs"),
        ("JPMorgan Top Picks For 2024: Amazon, Microsoft", "AMZN", "JPMorgan"),
        # a broker that is a bank's subsidiary
        ("TD Cowen Maintains Outperform On Amazon", "AMZN", "TD Cowen"),
        # private brokers, known by the rating action alone
        ("Wedbush Raises PT to $250 on Tesla", "TSLA", "Wedbush"),
        ("Cantor Fitzgerald Maintains Nvidia at Overweight, Lifts PT", "NVDA", "Cantor"),
        ("DA Davidson Upgrades Zoom Video to Buy", "ZM", "D.A. Davidson"),
        ("Stifel Nicolaus Downgrades Best Buy to Hold", "BBY", "Stifel"),
    ],
)
def test_a_broker_found_by_its_rating_action_is_a_source(title, subject, broker):
    record = tag("", title=title, published=DAY)
    assert record["entities"][0]["ticker"] == subject
    (found,) = [e for e in record["entities"] if e["name"].startswith(broker)]
    assert (found["role"], found["relevance"]) == ("source", 0)


@pytest.mark.parametrize(
    "text",
    [
        "Goldman Sachs raised its quarterly dividend to $3 a share.",
        "Barclays cuts 5,000 jobs in its investment bank.",
        "JPMorgan raised its full-year forecast for net interest income.",
        "Intel cuts jobs to hold costs down.",
    ],
)
def test_a_bank_acting_for_itself_is_the_subject(text):
    (entity,) = tag(text, published=DAY)["entities"]
    assert entity["role"] == "subject" and entity["relevance"] > 0


def test_a_broker_is_a_source_in_the_body_too():
    record = tag(
        "Goldman Sachs upgraded Crocs to buy, citing strong demand.",
        title="Crocs Shares Jump After Upgrade",
        published=DAY,
    )
    by_ticker = {e["ticker"]: e for e in record["entities"]}
    assert record["entities"][0]["ticker"] == "CROX"
    assert by_ticker["GS"]["role"] == "source"


# ------------------------------------------------------------------ news outlets


def by_name(title: str, body: str = "") -> dict[str, dict]:
    return {e["name"]: e for e in tag(body, title=title, published=DAY)["entities"]}


@pytest.mark.parametrize(
    ("title", "body", "outlet", "subject"),
    [
        ("Jim Cramer On CNBC: Nvidia Still A Buy", "", "CNBC", "Nvidia"),
        ("Barron's Picks: 5 Stocks To Buy Now", "Apple leads the list.", "Barron's", "Apple Inc."),
        ("Benzinga Pro's Top Movers: Tesla Jumps", "", "Benzinga", "Tesla, Inc."),
        ("Zacks Rank #1 Stocks: Apple", "", "Zacks Investment Research", "Apple Inc."),
        ("", "Shares of Ford fell, MarketWatch reported.", "MarketWatch", "Ford Motor Company"),
        ("Meta Rises On WSJ Layoff Report", "", "WSJ", "Meta Platforms"),
    ],
)
def test_a_news_outlet_is_the_source_not_the_subject(title, body, outlet, subject):
    found = by_name(title, body)
    assert found[outlet]["role"] == "source" and found[outlet]["relevance"] <= 10
    assert found[subject]["role"] == "subject"


@pytest.mark.parametrize(
    ("title", "body", "outlet"),
    [
        ("", "Benzinga was acquired by Beringer Capital, the buyer said.", "Benzinga"),
        ("Seeking Alpha To Cut Jobs", "", "Seeking Alpha"),
        ("Bloomberg LP Weighs Sale Of Its News Unit", "", "Bloomberg L.P."),
    ],
)
def test_a_news_outlet_acting_as_a_company_is_the_subject(title, body, outlet):
    assert by_name(title, body)[outlet]["role"] == "subject"


# ------------------------------------------------------------------ short names


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Ford shares fell 3% after recall", {"F"}),
        ("GM and Delta also fell", {"GM", "DAL"}),
        ("Boeing", {"BA"}),
        ("Nvidia", {"NVDA"}),
        ("Alcoa", {"AA"}),
        ("EA Shares Rise After New Game Launch", {"EA"}),
    ],
)
def test_short_names_of_well_known_companies(title, expected):
    assert tickers(title) == expected


def test_a_surname_is_not_the_short_name():
    assert tickers("Harrison Ford stars in new film") == set()


# ------------------------------------------------------------------ all-capitals headlines


def test_all_capitals_headline_names_are_found():
    assert tickers("APPLE, MICROSOFT LEAD NASDAQ HIGHER") == {"AAPL", "MSFT"}


@pytest.mark.parametrize(
    "title",
    ["STOCKS FALL ON WEAK GUIDANCE", "DOW DROPS 500 POINTS AS YIELDS JUMP", "TARGET PRICE RAISED"],
)
def test_all_capitals_ordinary_words_are_not_tickers(title):
    assert tickers(title) == set()
