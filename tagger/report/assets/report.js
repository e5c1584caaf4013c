/* market-tagger reports: the story table of index.html, drawn from the story data
 * (data/stories-NNNN.js, each a call of taggerStories([...])): sorting, filtering, search and
 * pages. Part of market-tagger (MIT licence); no dependencies, works from disk (file://).
 *
 * A story: f folder, t published (UTC, ISO 8601 or a date), h headline, u article address,
 * p publisher, c companies [name, ticker, role, relevance, status, parent, why not studied],
 * r measured events [label, car and p per window...], n note (a story without companies).
 */
"use strict";

const taggerData = [];

function taggerStories(rows) {
  for (const row of rows) taggerData.push(row);
}

(function () {
  const PAGE = 50;
  const MAX_CHIPS = 10;
  const DEFAULT_DIRECTION = { time: -1, headline: 1, relevance: -1 };
  const state = { key: "time", direction: -1, page: 0, rows: [] };
  let windows = [];

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "className") node.className = value;
      else node.setAttribute(name, value);
    }
    for (const child of children) {
      if (child === null || child === undefined || child === "") continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function percent(value) {
    const text = (value * 100).toFixed(2);
    return (value > 0 ? "+" : "") + text.replace("-", "\u2212") + "%";
  }

  function stars(p) {
    if (p === null || p === undefined) return "";
    return p < 0.01 ? "***" : p < 0.05 ? "**" : p < 0.1 ? "*" : "";
  }

  function prepare(story) {
    const words = [story.h, story.p, story.f];
    const tickers = new Set();
    let relevance = -1;
    for (const [name, ticker, , rel, , parent] of story.c) {
      words.push(name, ticker, parent);
      if (ticker) tickers.add(ticker.toUpperCase());
      if (parent) tickers.add(parent.toUpperCase());
      relevance = Math.max(relevance, rel);
    }
    story.search = words.filter(Boolean).join(" \u0001 ").toLowerCase();
    story.tickers = tickers;
    story.relevance = relevance;
  }

  function readFilters(form) {
    const data = new FormData(form);
    return {
      q: (data.get("q") || "").trim().toLowerCase().split(/\s+/).filter(Boolean),
      tickers: (data.get("ticker") || "").toUpperCase().split(/[\s,]+/).filter(Boolean),
      from: data.get("from") || "",
      to: data.get("to") || "",
      relevance: data.get("relevance") === "" ? null : Number(data.get("relevance")),
      measured: data.get("measured") === "on",
    };
  }

  function matches(story, f) {
    if (f.measured && story.r.length === 0) return false;
    if (f.from || f.to) {
      const day = story.t.slice(0, 10);
      if (!day || (f.from && day < f.from) || (f.to && day > f.to)) return false;
    }
    for (const word of f.q) if (!story.search.includes(word)) return false;
    if (f.tickers.length && !f.tickers.some((t) => story.tickers.has(t))) return false;
    if (f.relevance !== null) {
      const wanted = f.tickers.length ? new Set(f.tickers) : null;
      const ok = story.c.some(
        ([, ticker, , rel, , parent]) =>
          rel >= f.relevance &&
          (!wanted || wanted.has((ticker || "").toUpperCase()) || wanted.has((parent || "").toUpperCase()))
      );
      if (!ok) return false;
    }
    return true;
  }

  function sortValue(story, key) {
    if (key === "time") return story.t || null;
    if (key === "headline") return story.h.toLowerCase();
    if (key === "relevance") return story.relevance < 0 ? null : story.relevance;
    const window = Number(key.slice(3));
    const first = story.r[0];
    return first ? first[1 + 2 * window] : null;
  }

  function sorted(rows) {
    const { key, direction } = state;
    const keyed = rows.map((story, i) => [sortValue(story, key), i, story]);
    keyed.sort((a, b) => {
      if (a[0] === null || b[0] === null) return a[0] === b[0] ? a[1] - b[1] : a[0] === null ? 1 : -1;
      if (a[0] < b[0]) return -direction;
      if (a[0] > b[0]) return direction;
      return a[1] - b[1];
    });
    return keyed.map((k) => k[2]);
  }

  function chip(company, form) {
    const [name, ticker, role, relevance, status, parent, why] = company;
    let classes = `chip role-${role} status-${status}`;
    if (why) classes += " unstudied";
    const tip = `${name}${ticker ? " (" + ticker + ")" : ""}: ${role}, relevance ${relevance}, ${status}` +
      (parent ? `, parent ${parent}` : "") + (why ? `. Not studied: ${why}` : "");
    const node = el(
      ticker || parent ? "button" : "span",
      { className: classes, title: tip, type: ticker || parent ? "button" : null },
      el("b", {}, ticker || name),
      status === "private" ? el("small", {}, "private" + (parent ? " \u00b7 " + parent : "")) : null,
      status === "unresolved" ? el("small", {}, "unresolved") : null,
      el("small", { className: "rel" }, relevance),
      why ? el("small", { className: "why" }, why.replace(/^no prices for .*/, "no prices")) : null
    );
    if (ticker || parent) {
      node.addEventListener("click", () => {
        form.elements.ticker.value = ticker || parent;
        update(form, true);
      });
    }
    return node;
  }

  function row(story, form) {
    const when = story.t
      ? el("td", { className: "when" }, el("b", {}, story.t.slice(0, 10)),
          story.t.length > 10 ? story.t.slice(11, 16) : "date only")
      : el("td", { className: "when" }, el("span", { className: "muted" }, "undated"));
    const link = el("a", { className: "headline", href: story.f + "/index.html" }, story.h);
    const source = el("div", { className: "src" }, story.p,
      story.u ? el("span", {}, story.p ? " \u00b7 " : "",
        el("a", { href: story.u, target: "_blank", rel: "noopener noreferrer external" }, "article \u2197")) : null);
    const chips = el("td", { className: "companies" });
    for (const company of story.c.slice(0, MAX_CHIPS)) chips.append(chip(company, form), " ");
    if (story.c.length > MAX_CHIPS) {
      chips.append(el("a", { href: story.f + "/index.html" }, `+${story.c.length - MAX_CHIPS} more`));
    }
    if (story.n) chips.append(el("span", { className: "muted" }, story.n));
    const cells = windows.map((label, w) => {
      const cell = el("td", { className: "num" });
      for (const event of story.r) {
        const car = event[1 + 2 * w];
        const p = event[2 + 2 * w];
        const line = el("div", {
          className: car > 0 ? "up" : car < 0 ? "down" : "",
          title: `${event[0]}, CAR ${label}` + (p === null ? "" : `, p = ${p.toFixed(3)}`),
        });
        if (story.r.length > 1) line.append(el("small", {}, event[0]));
        line.append(car === null ? "n/a" : percent(car), el("sup", {}, stars(p)));
        cell.append(line);
      }
      if (!story.r.length) cell.append(el("span", { className: "muted" }, "\u2013"));
      return cell;
    });
    return el("tr", {}, when, el("td", { className: "story" }, link, source), chips, ...cells);
  }

  function render(form) {
    const body = document.querySelector("#stories tbody");
    const pages = Math.max(1, Math.ceil(state.rows.length / PAGE));
    state.page = Math.min(state.page, pages - 1);
    const first = state.page * PAGE;
    const shown = state.rows.slice(first, first + PAGE);
    body.replaceChildren(...shown.map((story) => row(story, form)));
    const total = taggerData.length;
    const status = document.getElementById("status");
    status.textContent = state.rows.length
      ? `Showing ${first + 1}\u2013${first + shown.length} of ${state.rows.length.toLocaleString("en")} ` +
        `${state.rows.length === 1 ? "story" : "stories"}` +
        (state.rows.length < total ? ` (filtered from ${total.toLocaleString("en")})` : "")
      : total ? "No story matches the filters." : "No stories.";
    const pager = document.getElementById("pager");
    pager.replaceChildren();
    if (pages > 1) {
      const go = (page) => () => { state.page = page; render(form); save(form); window.scrollTo(0, 0); };
      const button = (text, page, disabled) => {
        const b = el("button", { type: "button", disabled: disabled }, text);
        b.addEventListener("click", go(page));
        return b;
      };
      pager.append(
        button("\u00ab first", 0, state.page === 0),
        button("\u2039 newer page", state.page - 1, state.page === 0),
        el("span", {}, `page ${state.page + 1} of ${pages}`),
        button("next page \u203a", state.page + 1, state.page === pages - 1),
        button("last \u00bb", pages - 1, state.page === pages - 1)
      );
    }
    for (const th of document.querySelectorAll("#stories th[data-key]")) {
      if (th.dataset.key === state.key) th.setAttribute("aria-sort", state.direction > 0 ? "ascending" : "descending");
      else th.removeAttribute("aria-sort");
    }
  }

  function update(form, firstPage) {
    const filters = readFilters(form);
    state.rows = sorted(taggerData.filter((story) => matches(story, filters)));
    if (firstPage) state.page = 0;
    render(form);
    save(form);
  }

  function save(form) {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) if (value) params.set(name, value);
    if (state.key !== "time" || state.direction !== -1) params.set("sort", (state.direction > 0 ? "" : "-") + state.key);
    if (state.page) params.set("page", String(state.page + 1));
    const hash = params.toString();
    history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
  }

  function restore(form) {
    const params = new URLSearchParams(location.hash.slice(1));
    for (const [name, value] of params) {
      const field = form.elements[name];
      if (!field) continue;
      if (field.type === "checkbox") field.checked = value === "on";
      else field.value = value;
    }
    const sort = params.get("sort");
    if (sort) {
      state.direction = sort.startsWith("-") ? -1 : 1;
      state.key = sort.replace(/^-/, "");
    }
    state.page = Math.max(0, Number(params.get("page") || 1) - 1);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const table = document.getElementById("stories");
    const form = document.getElementById("filters");
    windows = JSON.parse(table.dataset.windows);
    const tickers = new Set();
    for (const story of taggerData) {
      prepare(story);
      for (const t of story.tickers) tickers.add(t);
    }
    const list = document.getElementById("tickers");
    list.replaceChildren(...[...tickers].sort().map((t) => el("option", { value: t })));
    for (const th of table.querySelectorAll("th[data-key]")) {
      th.querySelector("button").addEventListener("click", () => {
        const key = th.dataset.key;
        if (state.key === key) state.direction = -state.direction;
        else {
          state.key = key;
          state.direction = DEFAULT_DIRECTION[key] || -1;
        }
        update(form, true);
      });
    }
    form.addEventListener("input", () => update(form, true));
    form.addEventListener("submit", (event) => event.preventDefault());
    form.addEventListener("reset", () => setTimeout(() => update(form, true)));
    restore(form);
    update(form, false);
    document.body.dataset.ready = "true";
  });
})();
