"""Tagging as of the story's date: companies with every later fate, renames, ticker changes,
reused tickers, non-US companies with their US lines, look-alike names, Reuters-style codes and
non-US exchange markers. Each story is written here for the case it tests."""

import pytest

from tagger import tag


def company(text: str, published: str, mention: str) -> dict:
    """The entity of `text` one of whose mentions reads `mention`."""
    record = tag(text, published=published)
    for entity in record["entities"]:
        if any(m["text"] == mention for m in entity["mentions"]):
            return entity
    raise AssertionError(f"no entity mentioned as {mention!r}: {record['entities']}")


TWITTER = "Twitter said its board accepted the offer. Twitter shares rose 5%."
ACTIVISION = "Activision Blizzard said bookings rose; Activision Blizzard shares gained 2%."
CONNS = "Conn's Inc. said same-store sales fell 9% and its shares slid."
CREDIT_SUISSE = "Credit Suisse said it would cut jobs; Credit Suisse shares fell."


@pytest.mark.parametrize(
    ("text", "published", "mention", "status", "ticker", "parent", "reason"),
    [
        # listed then: listed, whatever happened later
        (TWITTER, "2022-04-25", "Twitter", "listed", "TWTR", None, None),
        (ACTIVISION, "2022-01-18", "Activision Blizzard", "listed", "ATVI", None, None),
        (CONNS, "2023-06-01", "Conn's", "listed", "CONN", None, None),
        # taken private
        (
            TWITTER,
            "2023-03-01",
            "Twitter",
            "private",
            None,
            None,
            "taken private 2022-10-28, was TWTR",
        ),
        # acquired by a listed company: its ticker on the story's date is the parent
        (
            ACTIVISION,
            "2024-11-01",
            "Activision Blizzard",
            "private",
            None,
            "MSFT",
            "part of Microsoft since 2023-10-13, was ATVI",
        ),
        # taken over while its home line stayed in the non-US data
        (CREDIT_SUISSE, "2023-03-20", "Credit Suisse", "listed", "CSGN.SW", None, None),
        (
            CREDIT_SUISSE,
            "2024-05-02",
            "Credit Suisse",
            "private",
            None,
            "UBSG.SW",
            "part of UBS Group AG since 2023-06-09, was CSGN.SW",
        ),
        # bankrupt
        (
            CONNS,
            "2025-02-03",
            "Conn's",
            "private",
            None,
            None,
            "delisted 2024-08-05 after bankruptcy, was CONN",
        ),
    ],
)
def test_a_company_as_it_was_on_the_story_s_date(
    text, published, mention, status, ticker, parent, reason
):
    entity = company(text, published, mention)
    assert (entity["status"], entity["ticker"], entity["parent_ticker"]) == (status, ticker, parent)
    assert entity["reason"] == reason
    assert entity["as_of"] == published


def test_companies_delisted_before_2026_are_found_by_name():
    text = (
        "Celgene, Aspen Technology, Beacon Roofing Supply and Faro Technologies all rose "
        "while Denny's Corp fell."
    )
    found = {e["name"]: e["ticker"] for e in tag(text, published="2019-05-01")["entities"]}
    assert set(found.values()) >= {"CELG", "AZPN", "BECN", "FARO", "DENN"}


def test_a_rename_and_a_ticker_change_keep_one_company():
    before = company("Facebook shares fell after the report.", "2021-03-01", "Facebook")
    after = company("Meta shares rose after the report.", "2023-03-01", "Meta")
    assert before["entity_id"] == after["entity_id"] == "CIK:1326801"
    assert (before["name"], before["ticker"]) == ("Facebook Inc.", "FB")
    assert after["ticker"] == "META"
    # the day of the ticker change
    assert company("$FB fell.", "2022-06-08", "$FB")["ticker"] == "FB"
    assert company("$META rose.", "2022-06-09", "$META")["ticker"] == "META"
    tickers = [line["ticker"] for line in after["listings"]]
    assert tickers.index("FB") >= 0 and "META" in tickers


def test_a_reused_ticker_names_the_company_of_its_date():
    assert company("$FB fell 3%.", "2020-02-03", "$FB")["entity_id"] == "CIK:1326801"
    fund = company("$FB fell 3%.", "2025-09-02", "$FB")
    assert fund["entity_id"] != "CIK:1326801" and fund["ticker"] == "FB"


def test_a_name_passes_to_the_listed_company_that_bears_it_once_its_first_holder_has_left():
    # Aviva's US line (AV) ended in December 2016; Aviva plc stayed listed in London
    text = "Aviva said operating profit rose."
    assert company(text, "2015-05-04", "Aviva")["ticker"] == "AV"
    plc = company(text, "2023-05-02", "Aviva")
    assert (plc["status"], plc["ticker"], plc["exchange"]) == ("listed", "AV.L", "LSE")
    # Siemens' US line ended in 2014; Siemens AG stayed listed in Frankfurt
    assert company("Siemens said orders rose.", "2023-11-30", "Siemens")["ticker"] == "SIE.DE"


@pytest.mark.parametrize(
    ("text", "published", "mention", "ticker"),
    [
        # UBS AG issues the ETRACS notes under the name; UBS Group is the bank
        ("UBS said profit rose.", "2015-05-04", "UBS", "UBSG.SW"),
        ("UBS said profit rose.", "2025-05-05", "UBS", "UBSG.SW"),
        # a Dorsey Wright note listed as "Bank Of Montreal" in 2017-2021
        ("Bank of Montreal said profit rose.", "2019-05-28", "Bank of Montreal", "BMO.TO"),
        # iPath notes and preferred trusts carried these names
        ("Barclays agreed to pay $2 billion.", "2018-03-29", "Barclays", "BARC.L"),
        ("Deutsche Bank said it would cut jobs.", "2016-10-03", "Deutsche Bank", "DBK.DE"),
    ],
)
def test_a_bank_is_not_the_notes_it_issues(text, published, mention, ticker):
    assert company(text, published, mention)["ticker"] == ticker


@pytest.mark.parametrize(
    ("mention", "ticker"),
    [
        # the Nasdaq directory names BNS "Bank Nova Scotia Halifax Pfd 3 Ordinary Shares": the
        # common shares, and so one company with its Toronto line
        ("Scotiabank", "BNS.TO"),
        # "Preferred Bank - Common Stock" is a bank's common stock, not a preferred
        ("Preferred Bank", "PFBC"),
        # short names news uses
        ("BMO", "BMO.TO"),
        ("SocGen", "GLE.PA"),
        ("Bradesco", "BBDC3.SA"),
    ],
)
def test_banks_by_the_names_news_gives_them(mention, ticker):
    entity = company(f"{mention} said quarterly profit rose.", "2024-03-01", mention)
    assert (entity["status"], entity["ticker"]) == ("listed", ticker)


@pytest.mark.parametrize(
    "text",
    [
        # "Total" would otherwise make every "Total revenue" TotalEnergies
        "Total revenue rose 5% to $3 billion.",
        "Net sales rose 4% in the quarter.",
    ],
)
def test_a_word_opening_a_line_of_the_accounts_is_no_company(text):
    for published in ("2019-05-02", "2023-05-02"):
        assert tag(text, published=published)["entities"] == []


def test_a_company_named_by_an_ordinary_word_still_opens_a_sentence():
    assert company("Total said it would buy assets.", "2019-05-06", "Total")["ticker"] == "TOT"
    assert company("Target sales fell 3%.", "2024-05-22", "Target")["ticker"] == "TGT"


def test_listed_later():
    spacex = company("SpaceX launched again.", "2024-05-10", "SpaceX")
    assert (spacex["status"], spacex["reason"]) == ("private", "listed later, SPCX, 2026-06-12")


@pytest.mark.parametrize(
    ("text", "mention", "ticker", "exchange", "currency", "us_ticker"),
    [
        ("Samsung Electronics raised its dividend.", "Samsung Electronics", "005930.KS", "KSC",
         "KRW", "SSNLF"),
        ("Nestle cut its sales forecast.", "Nestle", "NESN.SW", "EBS", "CHF", "NSRGY"),
        ("Airbus delivered 60 jets in May.", "Airbus", "AIR.PA", "PAR", "EUR", "EADSY"),
        ("Nissan said it would cut 9,000 jobs.", "Nissan", "7201.T", "JPX", "JPY", None),
        ("Norsk Hydro raised aluminium output.", "Norsk Hydro", "NHY.OL", "OSL", "NOK", None),
        ("Toyota Motor raised its forecast.", "Toyota Motor", "7203.T", "JPX", "JPY", "TM"),
        ("Rio Tinto raised iron ore output.", "Rio Tinto", "RIO.L", "LSE", "GBP", "RIO"),
    ],
)  # fmt: skip
def test_a_non_us_company_resolves_to_its_home_listing(
    text, mention, ticker, exchange, currency, us_ticker
):
    entity = company(text, "2024-03-01", mention)
    assert (entity["ticker"], entity["exchange"], entity["currency"]) == (
        ticker,
        exchange,
        currency,
    )
    if us_ticker:
        assert entity["us_ticker"] == us_ticker
    roles = {line["ticker"]: line["role"] for line in entity["listings"]}
    assert roles[ticker] == "primary"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (("Tencent Holdings", "0700.HK"), ("Tencent Music", "TME")),
        (("Samsung Electronics", "005930.KS"), ("Samsung SDI", "006400.KS")),
        (("Samsung Electronics", "005930.KS"), ("Samsung Biologics", "207940.KS")),
        (("Toyota Motor", "7203.T"), ("Toyota Industries", "6201.T")),
        (("SoftBank Group", "9984.T"), ("SoftBank Corp", "9434.T")),
        (("Rio Tinto plc", "RIO.L"), ("Rio Tinto Ltd", "RIO.AX")),
    ],
)
def test_look_alike_companies_are_kept_apart(one, other):
    text = f"{one[0]} shares rose while {other[0]} shares fell."
    assert company(text, "2024-03-01", one[0])["ticker"] == one[1]
    assert company(text, "2024-03-01", other[0])["ticker"] == other[1]


@pytest.mark.parametrize(
    ("text", "mention", "ticker"),
    [
        ("Norsk Hydro NHY.OL fell 3% in Oslo.", "NHY.OL", "NHY.OL"),
        ("Shares of Toyota 7203.T rose.", "7203.T", "7203.T"),
        ("Alcoa AA.N slid after the results.", "AA.N", "AA"),
        ("Samsung Electronics (KRX: 005930) rose.", "KRX: 005930", "005930.KS"),
        ("Tencent (HKEX: 700) rose.", "HKEX: 700", "0700.HK"),
    ],
)
def test_reuters_codes_and_non_us_exchange_markers(text, mention, ticker):
    entity = company(text, "2024-03-01", mention)
    assert entity["ticker"] == ticker
    assert entity["components"]["marker"]


def test_abbreviations_with_dots_are_no_reuters_codes():
    names = {e["name"] for e in tag("J.P. Morgan said the U.K. economy slowed.")["entities"]}
    assert names == {"JPMorgan Chase"}


def test_the_output_contract_carries_the_listing_history():
    entity = company("Meta shares rose.", "2023-03-01", "Meta")
    assert set(entity) >= {"entity_id", "us_ticker", "as_of", "listings", "currency"}
    line = entity["listings"][0]
    assert set(line) == {"ticker", "exchange", "mic", "currency", "role", "from", "to"}


@pytest.mark.parametrize(
    "title, body",
    [
        ("Twitter board accepts Musk offer", "The company said the deal values it at $44 billion."),
        ("Musk deal: what comes next", "Twitter's board accepted the offer on Monday."),
        ("Musk deal: what comes next", "A Twitter spokesperson declined to comment."),
    ],
)
def test_a_company_s_board_or_spokesperson_makes_an_ordinary_word_a_company(title, body):
    found = tag(body, title=title, published="2022-04-25")["entities"]
    assert [(e["ticker"], e["status"]) for e in found] == [("TWTR", "listed")]


@pytest.mark.parametrize(
    "title, body",
    [
        ("Get On Board With These Stocks", "Three picks for the year."),
        ("Cruise lines", "On board the ship, passengers waited for news."),
    ],
)
def test_on_board_is_not_a_company(title, body):
    assert tag(body, title=title, published="2024-04-25")["entities"] == []
