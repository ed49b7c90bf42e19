// The public pages: status, tracking-code lookup (proof verified in the
// browser), results with SVG charts, and a small block explorer.
"use strict";
(function () {
  const { t, $, el } = EV;
  const page = () => document.body.dataset.page;
  const alertMsg = (s) => { $("#alert").textContent = s || ""; };
  // alertErr shows an error (its sentence, and its technical details
  // folded); nothing for the list of elections, which the page shows.
  const alertErr = (e) => EV.sayError($("#alert"), e);

  async function electionInfo() {
    const id = await EV.electionID();
    const info = await EV.loadElection(id);
    $("#election-title").textContent = info.manifest.title + " (" + id + ")";
    return info;
  }

  // ---- status
  async function status() {
    await EV.loadNodes();
    const info = await electionInfo().catch((e) => { alertErr(e); return null; });
    $("#loading").textContent = "";
    if (!info && !EV.params.get("election") && $("#election-list")) return; // several elections: the list
    if (info) {
      const r = info.record, m = info.manifest;
      const rows = [["status.phase", t("phase.name." + r.phase)], ["status.opens", EV.fmtTime(m.start)], ["status.closes", EV.fmtTime(m.end)],
        ["status.ballots", r.ballots_cast], ["status.counted", info.counted],
        ["status.replaced", r.ballots_replaced], ["status.audited", r.audited]];
      for (const [k, v] of rows) $("#election-table").append(el("tr", {}, el("th", { scope: "row", text: t(k) }), el("td", { text: String(v) })));
    }
    let latest = null;
    for (let i = 0; i < EV.nodes.length; i++) {
      const tr = el("tr", {}, el("th", { scope: "row", text: EV.nodeName(i) }));
      $("#nodes-table").append(tr);
      try {
        const ctl = new AbortController();
        setTimeout(() => ctl.abort(), 4000);
        const s = await (await fetch(EV.nodes[i] + "/api/status", { cache: "no-store", signal: ctl.signal })).json();
        tr.append(el("td", { class: "ok", text: "✓ " + t("status.up") }), el("td", { text: String(s.latest_height) }));
        if (!latest || s.latest_height > latest.latest_height) latest = s;
      } catch (e) {
        tr.append(el("td", { class: "bad", text: "✗ " + t("status.down") }), el("td", { text: "—" }));
      }
    }
    if (latest) $("#election-table").append(el("tr", {}, el("th", { scope: "row", text: t("status.block") }),
      el("td", {}, el("a", { href: "/explorer?height=" + latest.latest_height, text: String(latest.latest_height) }), " · " + EV.fmtTime(latest.latest_block_time, true))));
    try {
      const v = await EV.pinValidators();
      $("#validators").textContent = t("status.validators", { hash: v.hash.slice(0, 16), count: v.count, power: v.total });
    } catch (e) { alertErr(e); }
  }

  // ---- lookup
  async function lookup() {
    await EV.loadNodes();
    let info = null, handle = 0;
    const form = $("#lookup-form"), out = $("#lookup-result");
    const q = EV.params.get("code");
    if (q) $("#tracking-code").value = q;
    // The election first: with several on the chain, the page lists them.
    try { info = await electionInfo(); } catch (e) { alertErr(e); if (e.listed) return; }
    const problem = (err) => { const d = el("div", {}); EV.sayError(d, err, "error"); out.append(d); };
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      out.textContent = "";
      alertMsg("");
      const ev = await EV.wasm;
      const n = ev.normalizeTrackingCode($("#tracking-code").value);
      if (n.error) { problem(EV.fail(t("lookup.bad"), n.error)); $("#tracking-code").focus(); return; }
      try {
        if (!info) info = await electionInfo();
        if (!handle) {
          const h = ev.loadElection(JSON.stringify(info.manifest), info.record.joint_key || "");
          handle = h.error ? 0 : h.handle;
        }
        if (!EV.validators) await EV.pinValidators();
        const r = await EV.api("/api/elections/" + encodeURIComponent(info.election) + "/ballots/" + n.code);
        if (r.status === 404) { out.append(el("p", { class: "warn", text: t("lookup.notFound", { code: n.code }) })); return; }
        if (r.status !== 200) { problem(EV.httpFail(r)); return; }
        const b = r.body;
        out.append(el("p", { text: t("lookup.found", { code: b.tracking_code, height: b.record.height, index: b.record.index }) }));
        out.append(el("p", { text: b.audited ? t("lookup.audited") : b.record.replaced_by ? t("lookup.replaced") : t("lookup.counts") }));
        const v = ev.verifyReceipt(JSON.stringify(b.receipt), EV.validators.json, EV.validators.chainID, handle);
        const p = el("div", { id: "lookup-verified" });
        if (v.error || v.trackingCode !== b.tracking_code) EV.say(p, t("cast.verifyFailed"), (v.step || "tracking-code") + ": " + (v.error || v.trackingCode), "error");
        else { p.className = "ok"; p.dataset.verified = "true"; p.textContent = t("cast.verified", { code: v.trackingCode, height: v.height, signers: v.signers, validators: v.validators }); }
        out.append(p);
        out.append(el("p", {}, el("a", { href: "/explorer?height=" + b.record.height, text: t("explorer.block", { height: b.record.height }) }), " · ",
          el("a", { id: "lookup-board", href: "/board?q=" + encodeURIComponent(b.tracking_code) + "&election=" + encodeURIComponent(info.election), text: t("lookup.board") })));
      } catch (err) { alertErr(err); }
    });
    if (q) form.requestSubmit();
  }

  // ---- results
  // percents returns each count's share of the total in tenths of a per
  // cent, rounded by the largest-remainder method so that they add up to
  // exactly 100.0 (ties to the earlier selection); all 0 for a total of 0.
  function percents(counts) {
    const total = counts.reduce((a, b) => a + b, 0);
    if (!total) return counts.map(() => 0);
    const exact = counts.map((c) => (c * 1000) / total);
    const out = exact.map(Math.floor);
    let left = 1000 - out.reduce((a, b) => a + b, 0);
    const order = exact.map((x, i) => [x - Math.floor(x), i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (let k = 0; left > 0; k++, left--) out[order[k][1]]++;
    return out.map((x) => x / 10);
  }
  const fmtPct = (p) => EV.fmtNumber(p, 1) + "\u00a0%";
  function chart(contest, counts) {
    const w = 600, row = 34, left = 190, pad = 6, max = Math.max(1, ...counts);
    const pcts = percents(counts), total = counts.reduce((a, b) => a + b, 0);
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    const h = row * counts.length + pad;
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    svg.setAttribute("class", "chart");
    svg.setAttribute("role", "img");
    const desc = contest.selections.map((s, i) => s.title + ": " + counts[i]).join(", ");
    svg.setAttribute("aria-label", contest.title + ": " + desc);
    const mk = (tag, attrs, text) => { const n = document.createElementNS(svg.namespaceURI, tag); for (const k in attrs) n.setAttribute(k, attrs[k]); if (text != null) n.textContent = text; return n; };
    contest.selections.forEach((s, i) => {
      const y = pad + i * row, bw = Math.round((w - left - 110) * counts[i] / max);
      svg.append(mk("text", { x: 0, y: y + 18 }, s.title.length > 26 ? s.title.slice(0, 25) + "…" : s.title));
      svg.append(mk("rect", { class: "bar", x: left, y: y + 4, width: Math.max(bw, 1), height: 20 }));
      const pct = total ? " (" + fmtPct(pcts[i]) + ")" : "";
      svg.append(mk("text", { x: left + bw + 6, y: y + 18 }, String(counts[i]) + pct));
    });
    return svg;
  }
  async function results() {
    await EV.loadNodes();
    let info;
    try { info = await electionInfo(); } catch (e) { alertErr(e); $("#loading").textContent = ""; return; }
    $("#loading").textContent = "";
    const r = info.record;
    if (!r.result || !r.result.length) {
      const m = info.manifest, now = EV.now();
      const before = r.phase === "ceremony" || r.phase === "ready";
      const when = before ? (now < Date.parse(m.start) ? "results.opens" : "phase.late")
        : r.phase === "open" && now < Date.parse(m.end) ? "results.closes" : "results.ended";
      $("#result-status").textContent = t("results.none") + " " + t(when, { start: EV.fmtTime(m.start), end: EV.fmtTime(m.end) });
      return;
    }
    const members = (info.manifest.trustees && info.manifest.trustees.members) || [];
    const names = (r.shares || []).map((l) => { const m = members.find((x) => x.index === l); return m ? m.name + " (" + l + ")" : String(l); });
    $("#result-status").textContent = t("results.verified", { height: r.result_height, trustees: names.join(", ") });
    // A weighted roll: the counts are weighted, and the number of ballots
    // stands beside them.
    const ballots = r.ballots_cast - r.ballots_replaced, weighted = r.weight_counted !== ballots;
    const summary = el("p", { id: "result-ballots", text: weighted ? t("results.weighted", { ballots, weight: r.weight_counted }) : t("results.ballots", { ballots }) });
    $("#result-status").after(summary);
    if (r.roll_count) {
      const pct = (n, of) => fmtPct(Math.round((1000 * n) / of) / 10);
      summary.after(el("p", { id: "result-turnout", text: weighted
        ? t("results.turnoutWeighted", { ballots, roll: r.roll_count, p: pct(ballots, r.roll_count), weight: r.weight_counted, total: r.roll_weight, pw: pct(r.weight_counted, r.roll_weight) })
        : t("results.turnout", { ballots, roll: r.roll_count, p: pct(ballots, r.roll_count) }) }),
        el("p", { class: "hint", text: t("results.rounding") }));
    }
    $("#result-command").textContent = EV.commands.verify(info.manifest.election_id);
    $("#result-check").hidden = false;
    for (const cr of r.result) {
      const c = info.manifest.contests.find((x) => x.id === cr.contest);
      if (!c) continue;
      const sec = el("section", { "aria-labelledby": "res-" + c.id }, el("h2", { id: "res-" + c.id, text: c.title }));
      sec.append(chart(c, cr.counts));
      const tbl = el("table", {}, el("caption", { class: "skip", text: c.title }));
      const pcts = percents(cr.counts), any = cr.counts.some((n) => n > 0);
      for (let i = 0; i < c.selections.length; i++) tbl.append(el("tr", {}, el("th", { scope: "row", text: c.selections[i].title }),
        el("td", { text: t(weighted ? "results.weightedVotes" : "results.votes", { n: cr.counts[i] }) }), el("td", { class: "pct", text: any ? fmtPct(pcts[i]) : "–" })));
      sec.append(tbl);
      // The contest's blank ballots, as rules.Blanks counts them (api.md).
      const bl = (info.blanks || []).find((x) => x.contest === c.id);
      if (bl) {
        const how = { encrypted: "results.blankEncrypted", derived: "results.blankDerived" }[bl.blank_kind];
        const text = bl.blank_kind === "impossible" ? t("results.blankImpossible")
          : bl.blank == null ? t("results.blankNotCounted")
          : t(weighted ? "results.blankWeighted" : "results.blank", { n: bl.blank }) + (how ? " " + t(how) : "");
        sec.append(el("p", { class: "blank", "data-kind": bl.blank_kind, text }));
      }
      $("#charts").append(sec);
    }
  }

  // ---- ballot board
  async function board() {
    await EV.loadNodes();
    let info;
    try { info = await electionInfo(); } catch (e) { alertErr(e); return; }
    const body = $("#board-table tbody"), more = $("#board-more"), stat = $("#board-status");
    let query = "", next = "", shown = 0;
    const row = (b) => {
      const status = b.status === "replaced" ? t("board.replaced", { code: b.replaced_by }) : t("board." + b.status);
      const state = el("td", { class: "status-" + b.status, text: status });
      return el("tr", {}, el("th", { scope: "row", class: "mono" }, el("a", { href: "/lookup?code=" + encodeURIComponent(b.tracking_code) + "&election=" + encodeURIComponent(info.election), text: b.tracking_code })),
        state, el("td", {}, el("a", { href: "/explorer?height=" + b.height, text: String(b.height) })));
    };
    const load = async () => {
      alertMsg("");
      const u = "/api/elections/" + encodeURIComponent(info.election) + "/board?limit=100&q=" + encodeURIComponent(query) + (next ? "&after=" + encodeURIComponent(next) : "");
      let r;
      try { r = await EV.api(u); } catch (e) { alertErr(e); more.hidden = true; return; }
      if (r.status !== 200) {
        if (r.status === 400) EV.say(stat, t("board.bad"), r.body.error);
        else alertErr(EV.httpFail(r));
        more.hidden = true;
        return;
      }
      for (const b of r.body.ballots) body.append(row(b));
      shown += r.body.ballots.length;
      next = r.body.next || "";
      more.hidden = !next;
      stat.textContent = shown ? t("board.count", { n: shown }) : query ? t("board.none", { q: query }) : t("board.empty");
    };
    $("#board-form").addEventListener("submit", (e) => {
      e.preventDefault();
      query = $("#board-query").value.trim(); next = ""; shown = 0; body.textContent = "";
      load();
    });
    more.addEventListener("click", async () => {
      const first = body.rows.length;
      await load();
      const a = body.rows[first] && body.rows[first].querySelector("a");
      if (a) a.focus();
    });
    if (EV.params.get("q")) $("#board-query").value = EV.params.get("q");
    query = $("#board-query").value.trim();
    await load();
  }

  // ---- explorer
  async function explorer() {
    await EV.loadNodes();
    const showBlock = async (height) => {
      const d = $("#block-detail");
      d.textContent = "";
      let r;
      try { r = await EV.api("/api/blocks/" + encodeURIComponent(height)); } catch (e) { r = { error: e }; }
      if (r.status !== 200) {
        const err = r.error || (r.status === 400 ? EV.fail(t("explorer.badHeight"), r.body.error) : r.status === 404 ? EV.fail(t("explorer.noBlock", { height }), r.body.error) : EV.httpFail(r));
        const p = el("div", {});
        EV.sayError(p, err, "error");
        d.append(p);
        return;
      }
      const b = r.body;
      const signed = (b.commit.signatures || []).filter((s) => s.block_id_flag === 2).length;
      d.append(el("h2", { id: "block-title", tabindex: "-1", text: t("explorer.block", { height: b.height }) }),
        el("p", { class: "mono", text: t("explorer.hash") + ": " + b.block_id.hash }),
        el("p", { text: t("explorer.time") + ": " + EV.fmtTime(b.header.time, true) + " · " + t("explorer.signers", { n: signed, total: (b.commit.signatures || []).length }) }));
      const ul = el("ul", { class: "mono", id: "block-txs" });
      for (const [i, tx] of b.txs.entries()) {
        const info = (b.tx_info || [])[i] || { kind: "?" };
        const li = el("li", {}, el("span", { class: "tx-kind", text: t("kind." + info.kind) !== "kind." + info.kind ? t("kind." + info.kind) : info.kind }), " " + tx.slice(0, 16) + "…");
        if (info.tracking_code) li.append(" · ", el("a", { href: "/board?q=" + encodeURIComponent(info.tracking_code) + (info.election ? "&election=" + encodeURIComponent(info.election) : ""), text: t("explorer.ballotCode", { code: info.tracking_code }) }));
        ul.append(li);
      }
      d.append(el("p", { text: t("explorer.txs") + ": " + b.txs.length }), ul);
      $("#block-title").focus();
    };
    $("#block-form").addEventListener("submit", (e) => { e.preventDefault(); showBlock($("#block-height").value.trim()); });
    let st;
    try { st = await EV.api("/api/status"); } catch (e) { alertErr(e); return; }
    if (st.status !== 200) { alertErr(EV.httpFail(st)); return; }
    const top = st.body.latest_height;
    for (let h = top; h > Math.max(0, top - 10); h--) {
      const r = await EV.api("/api/blocks/" + h).catch(() => null);
      if (!r || r.status !== 200) continue;
      const b = r.body;
      $("#blocks-table").append(el("tr", {}, el("td", {}, el("a", { href: "/explorer?height=" + h, text: String(h) })),
        el("td", { text: EV.fmtTime(b.header.time, true) }), el("td", { text: String(b.txs.length) }), el("td", { class: "mono", text: b.block_id.hash.slice(0, 16) + "…" })));
    }
    if (EV.params.get("height")) showBlock(EV.params.get("height"));
  }

  document.addEventListener("DOMContentLoaded", () => {
    const f = { status, lookup, board, results, explorer }[page()];
    if (f) f().finally(() => { document.body.dataset.ready = "true"; });
  });
})();
