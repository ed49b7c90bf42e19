// Shared by every page: the string table, the list of nodes and failover,
// pinning the validator set, loading the election and the WebAssembly
// module. No framework, nothing loaded from elsewhere.
"use strict";
(function () {
  const E = (window.EV = {});
  const params = new URLSearchParams(location.search);
  const langs = [params.get("lang")].concat(navigator.languages || [navigator.language || "en"]);
  let table = EVOTE_STRINGS.en;
  for (const l of langs) {
    if (l && EVOTE_STRINGS[l.slice(0, 2)]) { table = EVOTE_STRINGS[l.slice(0, 2)]; document.documentElement.lang = l.slice(0, 2); break; }
  }
  // t returns the text of key with {name} replaced by vars.name.
  E.t = function (key, vars) {
    let s = table[key] || EVOTE_STRINGS.en[key] || key;
    return s.replace(/\{(\w+)\}/g, (m, k) => (vars && k in vars ? String(vars[k]) : m));
  };
  // tn is t for a count n: key + "." + the plural category of n in the
  // page's language ("one", "other", …, Intl.PluralRules), falling back to
  // key + ".other"; vars.n is n.
  E.tn = function (key, n, vars) {
    const lang = document.documentElement.lang || "en";
    let cat = n === 1 ? "one" : "other", shown = String(n);
    try { cat = new Intl.PluralRules(lang).select(n); shown = n.toLocaleString(lang); } catch (e) { /* no Intl */ }
    const k = table[key + "." + cat] || EVOTE_STRINGS.en[key + "." + cat] ? key + "." + cat : key + ".other";
    return E.t(k, Object.assign({ n: shown }, vars));
  };
  E.params = params;
  E.$ = (sel) => document.querySelector(sel);
  E.el = function (tag, attrs, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "text") n.textContent = v; else if (k.startsWith("on")) n.addEventListener(k.slice(2), v); else if (v !== false && v != null) n.setAttribute(k, v === true ? "" : v);
    }
    for (const c of kids) if (c != null) n.append(c);
    return n;
  };
  // The commands the pages show (docs/ui.md). They name this page's node,
  // whose address serves the read-only RPC the evote program needs, so each
  // runs as shown (see "command.rpc"); web/uitest's TestPausedNode runs
  // them.
  const origin = () => location.origin;
  E.commands = {
    verifyAudit: (file) => "evote verify-audit --node " + origin() + " " + file,
    verify: (id) => "evote verify --node " + origin() + " --election-id " + id,
  };
  E.show = function (el, text, cls) { el.textContent = text; if (cls !== undefined) el.className = cls; };

  // Texts marked data-t get their translation.
  function translate() {
    for (const n of document.querySelectorAll("[data-t]")) n.textContent = E.t(n.dataset.t);
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
    const err = new Error(E.t("err.allUnreachable"));
    err.cause = lastErr;
    err.unreachable = true;
    throw err;
  };

  // The WebAssembly module: evote's Go code (web/ui/wasm).
  E.wasm = new Promise((resolve, reject) => {
    window.evoteReady = () => resolve(window.evote);
    if (!window.WebAssembly || !window.Go) { reject(new Error("WebAssembly is not available")); return; }
    const go = new Go();
    WebAssembly.instantiateStreaming(fetch("/static/evote.wasm"), go.importObject)
      .then((res) => go.run(res.instance))
      .catch(reject);
  });

  // pinValidators reads every node's validator set, checks each against
  // its hash in the module, and pins the set if all nodes that answer agree.
  // The nodes are asked at once, each for at most 5 s: a paused or
  // partitioned node answers nothing and closes nothing.
  E.pinValidators = async function () {
    const ev = await E.wasm;
    let pinned = null;
    const seen = [];
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
      try {
        const text = answers[k];
        if (text === null) continue;
        const v = ev.validatorsHash(text);
        if (v.error) throw new Error(v.error);
        seen.push(v.hash);
        if (!pinned) pinned = { json: text, hash: v.hash, chainID: v.chainID, count: v.count, total: v.total };
        else if (v.hash !== pinned.hash || v.chainID !== pinned.chainID) {
          throw new Error(E.t("err.validators", { detail: new URL(base).host + ": " + v.hash.slice(0, 12) + " ≠ " + pinned.hash.slice(0, 12) }));
        }
      } catch (e) {
        if (String(e.message).includes("authorities")) throw e;
      }
    }
    if (!pinned) throw new Error(E.t("err.allUnreachable"));
    E.validators = pinned;
    return pinned;
  };

  // electionID is ?election=ID, else the most recent election on the chain.
  E.electionID = async function () {
    const id = params.get("election");
    if (id) return id;
    const r = await E.api("/api/elections");
    const list = (r.body && r.body.elections) || [];
    if (!list.length) throw new Error(E.t("err.noElection"));
    return list[0].election;
  };
  // loadElection returns the /api/elections/{id} answer with the manifest
  // parsed.
  E.loadElection = async function (id) {
    const r = await E.api("/api/elections/" + encodeURIComponent(id));
    if (r.status === 404) throw new Error(E.t("err.unknownElection", { id }));
    if (r.status !== 200) throw new Error(r.body.error || "HTTP " + r.status);
    const info = r.body;
    info.manifest = info.record.manifest;
    info.manifestText = JSON.stringify(info.record.manifest);
    return info;
  };

  E.download = function (name, text) {
    const a = E.el("a", { href: URL.createObjectURL(new Blob([text], { type: "application/json" })), download: name });
    document.body.append(a); a.click(); a.remove();
  };
  E.fmtTime = (s) => { try { return new Date(s).toLocaleString(); } catch (e) { return s; } };

  // The site header with the navigation, kept on ?election=.
  function header() {
    const keep = params.get("election") ? "?election=" + encodeURIComponent(params.get("election")) : "";
    const here = location.pathname;
    const links = [["/", "nav.vote"], ["/status", "nav.status"], ["/lookup", "nav.lookup"], ["/board", "nav.board"], ["/results", "nav.results"], ["/explorer", "nav.explorer"]];
    const ul = E.el("ul");
    for (const [href, key] of links) {
      ul.append(E.el("li", {}, E.el("a", { href: href + keep, "aria-current": here === href ? "page" : false, text: E.t(key) })));
    }
    const h = E.el("header", { class: "site" }, E.el("a", { class: "skip", href: "#main", text: E.t("skip") }),
      E.el("p", { class: "brand", text: "evote" }), E.el("nav", { "aria-label": "evote" }, ul));
    document.body.prepend(h);
  }
  document.addEventListener("DOMContentLoaded", () => { translate(); header(); });
})();
