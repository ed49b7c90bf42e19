// Shared by every page: the string table and the language, the list of
// nodes and failover, pinning the validator set, loading the election (or
// listing the chain's elections) and the WebAssembly module, times with
// their time zone, and messages with their technical details folded away.
// No framework, nothing loaded from elsewhere.
"use strict";
(function () {
  const E = (window.EV = {});
  const params = new URLSearchParams(location.search);
  // The language: ?lang=xx (remembered for the next pages), else the one
  // remembered, else the first of the browser's languages with a table,
  // else English.
  const LANG_KEY = "evote.lang";
  const stored = () => { try { return localStorage.getItem(LANG_KEY); } catch (e) { return null; } };
  const known = (l) => (l && EVOTE_STRINGS[l.slice(0, 2).toLowerCase()] ? l.slice(0, 2).toLowerCase() : "");
  const browserLangs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"];
  const lang = known(params.get("lang")) || known(stored()) || browserLangs.map(known).find((l) => l) || "en";
  if (known(params.get("lang"))) { try { localStorage.setItem(LANG_KEY, lang); } catch (e) { /* not kept */ } }
  const table = EVOTE_STRINGS[lang];
  document.documentElement.lang = lang;
  E.lang = lang;
  // E.locale formats dates and numbers: the browser's own variant of the
  // page's language (en-GB, fr-CH, …) where it has one.
  E.locale = browserLangs.find((l) => known(l) === lang) || lang;
  // t returns the text of key with {name} replaced by vars.name.
  const t = (E.t = function (key, vars) {
    let s = table[key] || EVOTE_STRINGS.en[key] || key;
    return s.replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? String(vars[k]) : m));
  });
  // tn is t for a count n: key + "." + the plural category of n in the
  // page's language ("one", "other", …, Intl.PluralRules), falling back to
  // key + ".other"; vars.n is n.
  E.tn = function (key, n, vars) {
    let cat = n === 1 ? "one" : "other", shown = String(n);
    try { cat = new Intl.PluralRules(lang).select(n); shown = n.toLocaleString(E.locale); } catch (e) { /* no Intl */ }
    const k = table[key + "." + cat] || EVOTE_STRINGS.en[key + "." + cat] ? key + "." + cat : key + ".other";
    return E.t(k, Object.assign({ n: shown }, vars));
  };
  E.params = params;
  E.$ = (sel) => document.querySelector(sel);
  const el = (E.el = function (tag, attrs, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") n.textContent = v; else if (k.startsWith("on")) n.addEventListener(k.slice(2), v); else if (v !== false && v != null) n.setAttribute(k, v === true ? "" : v);
    }
    for (const c of kids) if (c != null) n.append(c);
    return n;
  });
  // The commands the pages show (docs/ui.md). They name this page's node,
  // whose address serves the read-only RPC the evote program needs, so each
  // runs as shown (see "command.rpc"); web/uitest's TestPausedNode runs
  // them.
  const origin = () => location.origin;
  E.commands = {
    verifyAudit: (file) => "evote verify-audit --node " + origin() + " " + file,
    verify: (id) => "evote verify --node " + origin() + " --election-id " + id,
  };
  E.show = function (node, text, cls) { node.textContent = text; if (cls !== undefined) node.className = cls; };

  // ---- messages: a plain sentence for the voter; what the node or the
  // module said exactly (Go error text) only in a folded "Technical
  // details" element.
  // fail returns an Error whose message is the sentence to show (plain)
  // and whose detail is the raw text.
  E.fail = function (sentence, detail) {
    const err = new Error(sentence);
    err.plain = true;
    if (detail) err.detail = String(detail);
    return err;
  };
  // details returns the folded element holding detail (null for none).
  E.details = (detail) => detail ? el("details", { class: "tech" }, el("summary", { text: t("tech.details") }), el("code", { class: "mono", text: String(detail) })) : null;
  // say puts sentence (and the folded detail) into node.
  E.say = function (node, sentence, detail, cls) {
    node.textContent = sentence || "";
    const d = E.details(detail);
    if (d) node.append(" ", d);
    if (cls !== undefined) node.className = cls;
  };
  // sayError shows an Error of E.fail; any other Error's message is
  // detail, behind a general sentence.
  E.sayError = function (node, err, cls) {
    if (err && err.listed) { node.textContent = ""; return; }
    if (err && err.plain) E.say(node, err.message, err.detail, cls);
    else E.say(node, t("err.unexpected"), err && (err.message || String(err)), cls);
  };
  // httpText is the sentence for an HTTP error status of a node.
  E.httpText = (status) => (table["http." + status] ? t("http." + status) : t("http.other", { status }));
  // httpFail is E.fail for an HTTP answer {status, body}: the sentence, and
  // the node's error text as detail.
  E.httpFail = (r, sentence) => E.fail((sentence ? sentence + " " : "") + E.httpText(r.status), "HTTP " + r.status + ((r.body && r.body.error) ? ": " + r.body.error : ""));

  // ---- times, with their time zone: "Sunday 6 December 2026 at 18:00 CET
  // (UTC+1)" in the page's language, in the browser's time zone.
  const offset = (d) => {
    const m = -d.getTimezoneOffset(), a = Math.abs(m);
    return "UTC" + (m === 0 ? "" : (m < 0 ? "\u2212" : "+") + Math.floor(a / 60) + (a % 60 ? ":" + String(a % 60).padStart(2, "0") : ""));
  };
  const FULL = { weekday: "long", year: "numeric", month: "long", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short" };
  const SHORT = { year: "numeric", month: "short", day: "numeric", hour: "numeric", minute: "2-digit", second: "2-digit", timeZoneName: "short" };
  // fmtTime formats s (RFC 3339, or anything Date reads); short gives a
  // compact form with seconds (block times).
  E.fmtTime = function (s, short) {
    const d = new Date(s);
    if (isNaN(d.getTime())) return String(s);
    try {
      const f = new Intl.DateTimeFormat(E.locale, short ? SHORT : FULL);
      const zone = (f.formatToParts(d).find((p) => p.type === "timeZoneName") || {}).value || "";
      // A zone named by its abbreviation (CET) gets its offset too; one
      // named by its offset (GMT+1, UTC) has it already.
      return f.format(d) + (/^(GMT|UTC)/.test(zone) ? "" : " (" + offset(d) + ")");
    } catch (e) { return d.toString(); }
  };
  // fmtNumber formats x with digits decimals in the page's language.
  E.fmtNumber = function (x, digits) {
    try { return x.toLocaleString(E.locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }); } catch (e) { return x.toFixed(digits); }
  };
  // now is the node's clock (the Date header of its last answer), which
  // is what the chain's block times follow, else the browser's.
  let skew = 0;
  E.now = () => Date.now() + skew;

  // Texts marked data-t get their translation.
  function translate() {
    for (const n of document.querySelectorAll("[data-t]")) n.textContent = t(n.dataset.t);
  }

  // Nodes: this node first, then the others it lists (/api/nodes). A
  // failed request moves on to the next node and makes it the current one.
  E.nodes = [location.origin];
  E.current = 0;
  E.nodeName = (i) => new URL(E.nodes[i]).host;
  E.loadNodes = async function () {
    try {
      const r = await fetch("/api/nodes", { cache: "no-store" });
      if (r.ok) for (const u of (await r.json()).nodes || []) if (!E.nodes.includes(u)) E.nodes.push(u);
    } catch (e) { /* this node alone */ }
    return E.nodes;
  };
  // api fetches path from the current node, trying the others in turn.
  // It resolves to {status, body} for any HTTP answer; it rejects only when
  // no node answers.
  E.api = async function (path, opts) {
    let lastErr;
    for (let k = 0; k < E.nodes.length; k++) {
      const i = (E.current + k) % E.nodes.length;
      try {
        const ctl = new AbortController();
        const timer = setTimeout(() => ctl.abort(), (opts && opts.timeout) || 8000);
        const r = await fetch(E.nodes[i] + path, { cache: "no-store", signal: ctl.signal });
        if (r.status === 503 && k < E.nodes.length - 1) { clearTimeout(timer); lastErr = new Error("503"); continue; }
        const date = Date.parse(r.headers.get("Date") || "");
        if (!isNaN(date)) skew = date - Date.now();
        // opts.as: "text" or "bytes" (a Uint8Array) for the body of a 200
        // answer; an error answer is always read as JSON.
        let body;
        if (r.ok && opts && opts.as === "bytes") body = new Uint8Array(await r.arrayBuffer());
        else if (r.ok && opts && opts.as === "text") body = await r.text();
        else body = await r.json().catch(() => ({}));
        // The deadline covers the body too: a node that stalls in the
        // middle of it is a node that does not answer.
        clearTimeout(timer);
        if (ctl.signal.aborted) throw new Error("timeout reading the answer");
        if (i !== E.current) { E.current = i; if (E.onNodeChange) E.onNodeChange(i); }
        return { status: r.status, body };
      } catch (e) {
        lastErr = e;
        if (E.onUnreachable) E.onUnreachable(i);
      }
    }
    const err = E.fail(t("err.allUnreachable"), lastErr && lastErr.message);
    err.unreachable = true;
    throw err;
  };

  // The WebAssembly module: evote's Go code (web/ui/wasm).
  E.wasm = new Promise((resolve, reject) => {
    window.evoteReady = () => resolve(window.evote);
    if (!window.WebAssembly || !window.Go) { reject(E.fail(t("err.wasm"), "WebAssembly is not available")); return; }
    const go = new Go();
    WebAssembly.instantiateStreaming(fetch("/static/evote.wasm"), go.importObject)
      .then((res) => go.run(res.instance))
      .catch((e) => reject(E.fail(t("err.wasm"), e.message)));
  });

  // pinValidators reads every node's validator set, checks each against
  // its hash in the module, and pins the set if all nodes that answer agree.
  // The nodes are asked at once, each for at most 5 s: a paused or
  // partitioned node answers nothing and closes nothing.
  E.pinValidators = async function () {
    const ev = await E.wasm;
    let pinned = null;
    const ask = async (base) => {
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), 5000);
      try {
        const r = await fetch(base + "/api/validators", { cache: "no-store", signal: ctl.signal });
        return r.ok ? await r.text() : null;
      } catch (e) { return null; } finally { clearTimeout(timer); }
    };
    const answers = await Promise.all(E.nodes.map(ask));
    for (const [k, base] of E.nodes.entries()) {
      const text = answers[k];
      if (text === null) continue;
      const v = ev.validatorsHash(text);
      if (v.error) continue; // a node whose answer does not check out is not heard
      if (!pinned) pinned = { json: text, hash: v.hash, chainID: v.chainID, count: v.count, total: v.total };
      else if (v.hash !== pinned.hash || v.chainID !== pinned.chainID) {
        throw E.fail(t("err.validators"), new URL(base).host + ": " + v.chainID + " " + v.hash.slice(0, 12) + " \u2260 " + pinned.chainID + " " + pinned.hash.slice(0, 12));
      }
    }
    if (!pinned) throw E.fail(t("err.allUnreachable"));
    E.validators = pinned;
    return pinned;
  };

  // electionID is ?election=ID, else the election on the chain if there is
  // one. With several, the page lists them (each a link with ?election=ID)
  // and electionID rejects with err.listed set: the newest does not
  // silently take over.
  E.electionID = async function () {
    const id = params.get("election");
    if (id) return id;
    const r = await E.api("/api/elections");
    if (r.status !== 200) throw E.httpFail(r, t("err.election"));
    const list = (r.body && r.body.elections) || [];
    if (!list.length) throw E.fail(t("err.noElection"));
    if (list.length === 1) return list[0].election;
    listElections(list);
    const err = E.fail(t("elections.title"));
    err.listed = true;
    throw err;
  };
  // listElections shows the chain's elections in place of the page's
  // content: title (a link to this page for it), phase and voting window.
  function listElections(list) {
    const main = E.$("main");
    for (const n of main.children) if (n.tagName !== "H1" && n.id !== "alert") n.hidden = true;
    for (const n of document.querySelectorAll("body > footer")) n.hidden = true;
    const ul = el("ul", { class: "elections", id: "election-list" });
    for (const e of list) {
      const q = new URLSearchParams(location.search);
      q.set("election", e.election);
      ul.append(el("li", {},
        el("a", { href: location.pathname + "?" + q.toString(), text: e.title || e.election }), " ",
        el("span", { class: "mono", text: "(" + e.election + ")" }),
        el("br"), el("span", { text: t("elections.phase", { phase: t("phase.name." + e.phase) }) }),
        e.start ? el("br") : null, e.start ? el("span", { text: t("elections.window", { start: E.fmtTime(e.start), end: E.fmtTime(e.end) }) }) : null));
    }
    main.append(el("section", { id: "elections", "aria-labelledby": "elections-title" },
      el("h2", { id: "elections-title", text: t("elections.title") }), el("p", { text: t("elections.intro") }), ul));
  }
  // loadElection returns the /api/elections/{id} answer with the manifest
  // parsed.
  E.loadElection = async function (id) {
    const r = await E.api("/api/elections/" + encodeURIComponent(id));
    if (r.status === 404) throw E.fail(t("err.unknownElection", { id }), r.body.error);
    if (r.status !== 200) throw E.httpFail(r, t("err.election"));
    const info = r.body;
    info.manifest = info.record.manifest;
    info.manifestText = JSON.stringify(info.record.manifest);
    return info;
  };

  E.download = function (name, text) {
    const a = el("a", { href: URL.createObjectURL(new Blob([text], { type: "application/json" })), download: name });
    document.body.append(a); a.click(); a.remove();
  };

  // keep is the query that the pages' links carry on: the election and
  // the language, when the address names them.
  E.keep = function (extra) {
    const q = new URLSearchParams(extra || "");
    for (const k of ["election", "lang"]) if (params.get(k) && !q.has(k)) q.set(k, params.get(k));
    const s = q.toString();
    return s ? "?" + s : "";
  };

  // The site header: the navigation (kept on ?election= and ?lang=) and
  // the language picker (links to this page in each language).
  function header() {
    const here = location.pathname;
    const links = [["/", "nav.vote"], ["/status", "nav.status"], ["/lookup", "nav.lookup"], ["/board", "nav.board"], ["/results", "nav.results"], ["/explorer", "nav.explorer"]];
    const ul = el("ul");
    for (const [href, key] of links) {
      ul.append(el("li", {}, el("a", { href: href + E.keep(), "aria-current": here === href ? "page" : false, text: t(key) })));
    }
    const langs = el("ul", { id: "lang-picker" });
    for (const code of Object.keys(EVOTE_STRINGS)) {
      const q = new URLSearchParams(location.search);
      q.set("lang", code);
      langs.append(el("li", {}, el("a", { href: here + "?" + q.toString(), lang: code, hreflang: code, "aria-current": code === lang ? "true" : false, text: EVOTE_STRINGS[code]["lang.name"] })));
    }
    const h = el("header", { class: "site" }, el("a", { class: "skip", href: "#main", text: t("skip") }),
      el("p", { class: "brand", text: "evote" }), el("nav", { "aria-label": t("nav.label") }, ul),
      el("nav", { class: "langs", "aria-label": t("lang.label") }, langs));
    document.body.prepend(h);
    const page = links.find(([href]) => href === here);
    if (page) document.title = t(page[1]) + " \u2014 evote";
  }
  document.addEventListener("DOMContentLoaded", () => { translate(); header(); });
})();
