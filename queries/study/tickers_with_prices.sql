-- Which of the $wanted tickers (the events', their benchmarks' and the market's) have prices.
SELECT DISTINCT ticker FROM prices WHERE list_contains($wanted, ticker) ORDER BY ticker;
