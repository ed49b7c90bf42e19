// The voting page: code → key → the key's entry on the roll (ballot style
// and weight) → choices → review → encrypt → cast or audit → receipt
// verified in the browser. The code, the key and the ballot's secrets stay
// in the WebAssembly module (behind handles).
"use strict";
(function () {
  const { t, $, el } = EV;
  const V = { ev: null, id: "", info: null, election: 0, credential: 0, style: "", weight: 1, ballot: null, choices: null };
  const steps = ["step-code", "step-choose", "step-review", "step-encrypted", "step-audit", "step-cast"];

  function go(step) {
    for (const s of steps) $("#" + s).hidden = s !== step;
    const h = $("#" + step + " h2");
    if (h) h.focus();
  }
  function alertMsg(text) { $("#alert").textContent = text || ""; }
  // showAlert shows err (a sentence, its details folded), with a button to
  // reload the page when retry is set.
  function showAlert(err, retry) {
    EV.sayError($("#alert"), err);
    if (retry) $("#alert").append(" ", el("button", { type: "button", class: "secondary", text: t("common.retry"), onclick: () => location.reload() }));
  }

  async function init() {
    $("#phase").textContent = t("load.wasm");
    try {
      await EV.loadNodes();
      V.ev = await EV.wasm;
      $("#phase").textContent = t("load.election");
      V.id = await EV.electionID();
      V.info = await EV.loadElection(V.id);
    } catch (e) {
      $("#phase").textContent = "";
      $("#phase").hidden = true;
      if (!e.listed) showAlert(e, true); // else the page lists the chain's elections
      return;
    }
    const m = V.info.manifest;
    $("#title").textContent = m.title;
    document.title = m.title + " — evote";
    $("#footer-election").textContent = V.id;
    try { await EV.pinValidators(); } catch (e) { showAlert(e); }
    showPhase();
  }

  // showPhase says where the election stands. While voting is open (on
  // the chain, and within its window by the node's clock) it shows the
  // code step; before, it says when voting opens, and looks again then
  // (every 5 s once the opening time has passed).
  function showPhase() {
    const m = V.info.manifest, rec = V.info.record, now = EV.now();
    const start = Date.parse(m.start), end = Date.parse(m.end);
    const times = { start: EV.fmtTime(m.start), end: EV.fmtTime(m.end) };
    let key = "";
    if (rec.phase === "closed" || rec.phase === "tallied") key = "phase." + rec.phase;
    else if (now >= end) key = "phase.ended";
    else if (now >= start && rec.phase !== "open") key = "phase.late";
    else if (now < start) key = rec.phase === "ceremony" ? "phase.ceremony" : "phase.notYet";
    if (key) {
      $("#phase").textContent = t(key, times);
      $("#phase").className = "alert";
      if (key === "phase.late" || key === "phase.ceremony" || key === "phase.notYet") {
        setTimeout(async () => {
          try { V.info = await EV.loadElection(V.id); } catch (e) { /* look again later */ }
          showPhase();
        }, Math.min(Math.max(start - now, 5000), 10 * 60 * 1000));
      }
      return;
    }
    $("#phase").textContent = t("phase.open", times);
    $("#phase").className = "notice";
    const h = V.ev.loadElection(JSON.stringify(m), rec.joint_key);
    if (h.error) { showAlert(EV.fail(t("err.module"), h.error), true); return; }
    V.election = h.handle;
    go("step-code");
    $("#code").focus();
  }

  // ---- 1. code
  function codeFeedback(final) {
    const input = $("#code"), out = $("#code-status");
    const st = V.ev.checkCode(input.value);
    let msg = "", bad = false;
    switch (st.state) {
      case "incomplete": msg = t("code.incomplete", { n: st.symbols }); bad = final; break;
      case "valid": msg = t("code.valid"); break;
      case "bad character": msg = t("code.badChar", { pos: st.offset + 1 }); bad = true; break;
      case "too long": msg = t("code.tooLong", { pos: st.offset + 1 }); bad = true; break;
      case "bad checksum":
        msg = t("code.badChecksum"); bad = true;
        if (st.suspects.length === 1) { const i = st.suspects[0]; msg += " " + t("code.suspect1", { pos: i + 1, group: Math.floor(i / 4) + 1, col: (i % 4) + 1 }); }
        if (st.suspects.length === 2) msg += " " + t("code.suspect2", { pos1: st.suspects[0] + 1, pos2: st.suspects[1] + 1 });
        break;
    }
    out.textContent = msg;
    out.className = bad ? "error" : st.state === "valid" ? "ok" : "hint";
    input.setAttribute("aria-invalid", bad ? "true" : "false");
    return st;
  }
  $("#code").addEventListener("input", () => codeFeedback(false));
  $("#code-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const st = codeFeedback(true);
    if (st.state !== "valid") { $("#code").focus(); return; }
    $("#code-form").hidden = true;
    $("#derive").hidden = false;
    $("#derive-progress").hidden = false;
    $("#derive-status").textContent = t("derive.working");
    // The roll's index says nothing about the voter: fetch it while the
    // key is derived.
    const index = fetchRollIndex();
    index.catch(() => { /* reported after the derivation */ });
    setTimeout(async () => {
      const code = $("#code").value;
      const r = V.ev.deriveCredential(code, V.id, V.info.record.roll_header);
      if (r.error) { codeRefused(EV.fail(t("derive.failed"), r.error), true); return; }
      if (V.credential) V.ev.forgetCredential(V.credential);
      V.credential = r.handle;
      const done = t("derive.done", { ms: Math.round(r.ms) });
      $("#derive-status").textContent = done + " " + t("roll.checking");
      let entry;
      try { entry = await checkRoll(await index); } catch (err) { codeRefused(err, !err.notOnRoll); return; }
      $("#code").value = "";
      $("#derive-progress").hidden = true;
      $("#derive-status").textContent = done;
      V.style = entry.style;
      V.weight = entry.weight;
      buildContests();
      go("step-choose");
    }, 60);
  });

  // codeRefused takes the voter back to the code with err's message, the
  // code kept in the field when keep is set (a failure that retyping would
  // not fix), else cleared to be typed again.
  function codeRefused(err, keep) {
    if (V.credential) { V.ev.forgetCredential(V.credential); V.credential = 0; }
    $("#contests").textContent = ""; // no ballot for a refused code
    $("#derive").hidden = true; $("#derive-progress").hidden = true; $("#code-form").hidden = false;
    if (!keep) $("#code").value = "";
    EV.sayError($("#code-status"), err, "error");
    $("#code").setAttribute("aria-invalid", keep ? "false" : "true");
    $("#code").focus();
  }

  // ---- 1b. the key on the roll (docs/ui.md): the index of the roll, then
  // the one chunk whose key range holds the key, checked against the roll
  // hash in the module; it gives the key's ballot style and weight.
  const rollPath = () => "/api/elections/" + encodeURIComponent(V.id) + "/roll";
  async function rollGet(path, as, notFound) {
    let r;
    try { r = await EV.api(path, { as }); } catch (e) { throw EV.fail(t("roll.unreachable"), e.detail); }
    if (r.status === 404) throw EV.fail(notFound, r.body && r.body.error);
    if (r.status !== 200) throw EV.fail(t("roll.http", { status: r.status }), r.body && r.body.error);
    return r.body;
  }
  function fetchRollIndex() { return rollGet(rollPath(), "text", t("roll.notLoaded")); }
  function rollFailure(res) {
    switch (res.step) {
      case "incomplete": return EV.fail(t("roll.incomplete", { loaded: res.loaded, chunks: res.chunks }), res.error);
      case "chunk": return EV.fail(t("roll.badChunk"), res.error);
      default: return EV.fail(t("roll.badIndex"), res.error);
    }
  }
  // checkRoll resolves to the key's {style, weight}, or rejects with the
  // message to show (err.notOnRoll for a key that is not on the roll).
  async function checkRoll(indexText) {
    const hash = V.info.record.roll_hash || "";
    const c = V.ev.rollChunk(indexText, V.credential, hash);
    if (c.error) throw rollFailure(c);
    const chunk = await rollGet(rollPath() + "/" + c.chunk, "bytes", t("roll.chunkMissing", { chunk: c.chunk + 1, chunks: c.chunks }));
    const l = V.ev.rollLookup(V.credential, c.chunk, chunk);
    if (l.error) throw rollFailure(l);
    if (!l.onRoll) { const err = EV.fail(t("roll.notOnRoll")); err.notOnRoll = true; throw err; }
    if (!contestsOf(l.style)) throw EV.fail(t("roll.unknownStyle", { style: l.style }));
    return l;
  }

  // ---- 2. choices
  // contestsOf returns the contests of ballot style id in manifest order,
  // or null if the manifest has no such style. A manifest without styles
  // has the one style "all" (ballot.DefaultStyleID) of every contest.
  function contestsOf(id) {
    const m = V.info.manifest;
    if (!m.styles || !m.styles.length) return id === "all" ? m.contests : null;
    const s = m.styles.find((x) => x.id === id);
    return s ? m.contests.filter((c) => s.contests.includes(c.id)) : null;
  }
  // The contests of the voter's style, which the roll gives their key.
  const styleContests = () => contestsOf(V.style);
  function bounds(c) {
    const n = c.selections.length, r = c.rule;
    switch (r.kind) {
      case "exactly": return [r.count, r.count];
      case "up-to": return [0, r.max];
      case "range": return [r.min, r.max];
      default: return [0, n];
    }
  }
  // ruleText is the contest's rule as a sentence ("Choose up to 3 of 7.").
  function ruleText(c) {
    const n = c.selections.length, r = c.rule;
    switch (r.kind) {
      case "exactly": return t("rule.exactly", { count: r.count, n });
      case "up-to": return t("rule.upTo", { max: r.max, n });
      case "range": return r.min === r.max ? t("rule.exactly", { count: r.min, n }) : t("rule.range", { min: r.min, max: r.max, n });
      default: return t("rule.any", { n });
    }
  }
  // showWeight fills the weight notices (choices, review, receipt): shown
  // only when the voter's vote counts more than once.
  function showWeight() {
    for (const n of document.querySelectorAll(".weight")) {
      n.hidden = V.weight === 1;
      n.textContent = V.weight === 1 ? "" : EV.tn("weight.counts", V.weight);
    }
  }
  function buildContests() {
    const box = $("#contests");
    box.textContent = "";
    showWeight();
    const styles = V.info.manifest.styles || [];
    $("#style-shown").hidden = styles.length < 2;
    $("#style-shown").textContent = styles.length < 2 ? "" : t("choose.styleIs", { style: V.style });
    styleContests().forEach((c, ci) => {
      const [lo, hi] = bounds(c);
      const radio = lo === 1 && hi === 1;
      const fs = el("fieldset", { id: "contest-" + ci, "aria-describedby": "rule-" + ci + " count-" + ci });
      fs.append(el("legend", { text: c.title }));
      if (c.description) fs.append(el("p", { text: c.description }));
      fs.append(el("p", { class: "rule", id: "rule-" + ci, text: ruleText(c) }));
      c.selections.forEach((s, si) => {
        const id = "sel-" + ci + "-" + si;
        const input = el("input", { type: radio ? "radio" : "checkbox", id, name: "contest-" + ci, value: s.id, "data-contest": c.id });
        input.addEventListener("change", () => countContest(ci, c));
        fs.append(el("div", { class: "choice" }, input, el("label", { for: id, text: s.title })));
      });
      fs.append(el("p", { class: "count", id: "count-" + ci, "aria-live": "polite" }));
      box.append(fs);
      countContest(ci, c, true);
    });
  }
  // countContest shows the count and any over- or under-vote; it returns
  // false when the contest cannot be cast as it is.
  function countContest(ci, c, quiet) {
    const [lo, hi] = bounds(c);
    const n = document.querySelectorAll('#contest-' + ci + ' input:checked').length;
    const out = $("#count-" + ci);
    let ok = true, cls = "count", msg;
    if (n > hi) { ok = false; cls += " over"; msg = t("choose.over", { n, rule: ruleText(c), extra: n - hi }); }
    else if (n < lo) { ok = false; cls += " under"; msg = t("choose.under", { n, rule: ruleText(c) }); }
    else if (n === 0) { cls += " under"; msg = t("choose.blank"); }
    else { msg = t("choose.count", { n }) + (n < hi ? " " + t("choose.fewer", { more: hi - n }) : ""); }
    if (!(quiet && n === 0 && lo > 0)) { out.textContent = msg; out.className = cls; }
    else { out.textContent = t("choose.count", { n: 0 }); out.className = "count"; }
    return ok;
  }
  function readChoices() {
    const choices = {};
    let ok = true, firstBad = null;
    styleContests().forEach((c, ci) => {
      choices[c.id] = [...document.querySelectorAll('#contest-' + ci + ' input:checked')].map((x) => x.value);
      if (!countContest(ci, c)) { ok = false; if (!firstBad) firstBad = $("#contest-" + ci + " input"); }
    });
    return { style: V.style, choices, ok, firstBad };
  }
  $("#choose-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const r = readChoices();
    if (!r.ok) { $("#choose-error").textContent = t("choose.fix"); r.firstBad.focus(); return; }
    $("#choose-error").textContent = "";
    V.choices = { style: r.style, choices: r.choices };
    const dl = $("#review");
    dl.textContent = "";
    for (const c of styleContests()) {
      dl.append(el("dt", { text: c.title }));
      const picked = c.selections.filter((s) => r.choices[c.id].includes(s.id)).map((s) => s.title);
      dl.append(el("dd", { text: picked.length ? picked.join(", ") : t("review.none") }));
    }
    go("step-review");
  });
  $("#back-choose").addEventListener("click", () => go("step-choose"));

  // ---- 3–4. encrypt, then cast or audit
  function encrypt() {
    $("#encrypt-status").textContent = t("encrypt.working");
    $("#encrypt").disabled = true;
    setTimeout(() => {
      const r = V.ev.encryptBallot(V.election, V.credential, JSON.stringify(V.choices));
      $("#encrypt").disabled = false;
      $("#encrypt-status").textContent = "";
      if (r.error) { showAlert(EV.fail(t("encrypt.failed"), r.error)); return; }
      alertMsg("");
      V.ballot = r;
      $("#tracking").textContent = r.trackingCode;
      go("step-encrypted");
    }, 30);
  }
  $("#encrypt").addEventListener("click", encrypt);

  $("#audit").addEventListener("click", () => {
    const a = V.ev.auditBallot(V.ballot.handle, V.credential);
    V.ballot = null;
    if (a.error) { showAlert(EV.fail(t("audit.error"), a.error)); go("step-review"); return; }
    $("#audit-title").textContent = t("audit.title", { code: a.trackingCode });
    const file = "audit-" + a.trackingCode + ".json"; // the name #audit-save saves it under
    $("#audit-explain").textContent = t("audit.explain", { file: file });
    $("#audit-command").textContent = EV.commands.verifyAudit(file);
    const v = V.ev.verifyAudit(V.election, a.audit);
    const dl = $("#audit-choices");
    dl.textContent = "";
    if (v.error) EV.say($("#audit-result"), t("audit.failed"), v.error, "error");
    else {
      $("#audit-result").textContent = t("audit.verified"); $("#audit-result").className = "ok";
      for (const c of styleContests()) {
        dl.append(el("dt", { text: c.title }));
        const picked = c.selections.filter((s) => (v.choices[c.id] || []).includes(s.id)).map((s) => s.title);
        dl.append(el("dd", { text: picked.length ? picked.join(", ") : t("review.none") }));
      }
    }
    V.auditFile = a.audit;
    V.auditCode = a.trackingCode;
    $("#audit-chain").textContent = "";
    go("step-audit");
    // Publish the audit: the ballot is spoiled on the chain too.
    send({ type: "audit", election: V.id, audit: JSON.parse(a.audit) }, (m) => {
      if (m.type === "ack") { $("#audit-chain").textContent = t("audit.sent"); return; }
      if (m.type === "committed") { $("#audit-chain").textContent = t("audit.published", { height: m.receipt.height }); return "done"; }
      if (m.type === "throttled") return "retry";
      if (m.type === "rejected" || m.type === "error" || m.type === "unreachable") {
        const err = refusal(m);
        EV.say($("#audit-chain"), t("audit.refused", { message: err.message }), err.detail, "error");
        return "done";
      }
      if (m.type === "pending") return "done";
    });
  });
  $("#audit-save").addEventListener("click", () => EV.download("audit-" + V.auditCode + ".json", V.auditFile));
  $("#audit-again").addEventListener("click", () => { go("step-review"); encrypt(); });

  // send runs one websocket request on the current node, moving to the
  // next node when the connection fails or is lost before a final answer
  // (re-sending a cast or audit is safe: it never counts twice). onMsg
  // returns "done" on a final answer.
  //
  // A paused, partitioned or stuck node closes nothing, and a page cannot
  // send websocket pings: so the page also moves on when the websocket has
  // not opened within OPEN_MS, when a heartbeat ("ping", which the node
  // answers with "pong" at once) or the request has had no message back
  // within SILENT_MS, or when the request has no answer within ANSWER_MS.
  const OPEN_MS = 4000, BEAT_MS = 1500, SILENT_MS = 4000, ANSWER_MS = 8000;
  function send(req, onMsg) {
    let tries = 0, finished = false;
    const attempt = (i) => {
      if (finished) return;
      if (tries++ >= EV.nodes.length * 2) { finished = true; onMsg({ type: "unreachable" }); return; }
      const id = req.type[0] + Math.random().toString(36).slice(2, 10);
      let ws, timers = [], waiting = 0, answered = false, beat = 0;
      const stop = () => { for (const x of timers) clearTimeout(x); timers = []; };
      // leave gives up on a silent node without waiting for its close.
      const leave = () => {
        stop();
        ws.onopen = ws.onmessage = ws.onclose = null;
        try { ws.close(); } catch (e) { /* closed */ }
        if (!finished) next(i, true);
      };
      const write = (m) => { if (!waiting) waiting = Date.now(); ws.send(JSON.stringify(m)); };
      try { ws = new WebSocket(EV.nodes[i].replace(/^http/, "ws") + "/ws"); } catch (e) { next(i); return; }
      timers.push(setTimeout(leave, OPEN_MS));
      ws.onopen = () => {
        stop();
        onMsg({ type: "sending", node: i });
        write(Object.assign({ id }, req));
        timers.push(setTimeout(() => { if (!answered) leave(); }, ANSWER_MS));
        timers.push(setInterval(() => {
          // Silence counts from the oldest message not followed by any
          // answer (a late timer in a background tab is not silence).
          if (waiting && Date.now() - waiting > SILENT_MS) { leave(); return; }
          if (Date.now() - beat >= BEAT_MS) { beat = Date.now(); try { write({ type: "ping", id: id + "-p" }); } catch (e) { /* closing */ } }
        }, 500));
      };
      ws.onmessage = (ev) => {
        waiting = 0;
        let m; try { m = JSON.parse(ev.data); } catch (e) { return; }
        if (m.type === "pong" || (m.id && m.id !== id)) return;
        answered = true;
        const r = onMsg(m, (follow) => write(Object.assign({ id }, follow)));
        if (r === "done") { finished = true; stop(); ws.close(); }
        if (r === "retry") { finished = false; stop(); ws.onclose = null; ws.close(); setTimeout(() => attempt(i), m.retry_after_ms || 500); }
      };
      ws.onclose = () => { stop(); if (!finished) next(i); };
    };
    const next = (i, silent) => {
      const j = (i + 1) % EV.nodes.length;
      if (j !== i) onMsg({ type: "moved", from: i, to: j, silent: !!silent });
      EV.current = j;
      setTimeout(() => attempt(j), 300);
    };
    attempt(EV.current);
  }

  function log(text, cls) { $("#cast-log").append(el("li", { text, class: cls || false })); }
  // refusal is the sentence (EV.fail) for a final answer that is not a
  // receipt: a rejection (its code's sentence), a websocket error (its
  // close code's), or no node reachable. The node's own words are the
  // technical details.
  function refusal(m) {
    const sentence = (prefix, code) => (t(prefix + code) !== prefix + code ? t(prefix + code) : t(prefix + "other"));
    if (m.type === "rejected") return EV.fail(sentence("rej.", m.code), "code " + m.code + (m.reason ? ": " + m.reason : ""));
    if (m.type === "error") return EV.fail(sentence("ws.", m.close_code), (m.close_code ? "close " + m.close_code + ": " : "") + (m.reason || ""));
    return EV.fail(t("err.allUnreachable"));
  }

  $("#cast").addEventListener("click", () => {
    const b = V.ballot;
    V.ballot = null;
    V.ev.forgetBallot(b.handle); // the secrets are not needed any more
    $("#cast-log").textContent = "";
    $("#cast-result").textContent = "";
    $("#cast-result").className = "";
    delete $("#cast-result").dataset.verified;
    $("#receipt-save").hidden = true;
    $("#revote").hidden = true;
    $("#cast-tracking").textContent = b.trackingCode;
    $("#cast-title").textContent = t("cast.title");
    $("#cast-title").classList.remove("done");
    go("step-cast");
    let asked = false;
    send({ type: "cast", election: V.id, cast: b.cast }, (m, follow) => {
      switch (m.type) {
        case "sending": log(t("cast.sending", { node: EV.nodeName(m.node) })); return;
        case "moved": log(t(m.silent ? "cast.silent" : "cast.moved", { from: EV.nodeName(m.from), to: EV.nodeName(m.to) }), "warn"); return;
        case "ack": log(t("cast.ack")); return;
        case "throttled": log(t("throttled", { ms: m.retry_after_ms })); return "retry";
        case "committed": case "receipt":
          showReceipt(m.receipt, b.trackingCode); return "done";
        case "pending":
          log(t("cast.pending"));
          setTimeout(() => follow({ type: "receipt", election: V.id, tracking_code: b.trackingCode }), 2000);
          asked = true;
          return;
        case "rejected":
          if (m.code === 8 || (m.code === 15 && asked)) {
            // Already on the chain (a re-send), or not yet in a block.
            setTimeout(() => follow(m.code === 8 ? { type: "receipt", election: V.id, tracking_code: b.trackingCode } : { type: "cast", election: V.id, cast: b.cast }), m.code === 8 ? 0 : 1000);
            asked = m.code === 8;
            return;
          }
          castFailed(m);
          return "done";
        case "error": case "unreachable": castFailed(m); return "done";
      }
    });
  });

  function castFailed(m) {
    const err = refusal(m);
    EV.say($("#cast-result"), err.message, err.detail, "error");
    alertMsg(err.message);
    if (m.type === "rejected" && (m.code === 6 || m.code === 19)) { // wrong credential or style: back to the code
      V.ev.forgetCredential(V.credential); V.credential = 0;
      $("#code-form").hidden = false; $("#derive").hidden = true;
      go("step-code"); $("#code").focus();
      return;
    }
    if (m.type === "rejected" && (m.code === 3 || m.code === 4)) { $("#phase").textContent = t("phase.closed"); $("#phase").className = "alert"; return; }
    $("#revote").hidden = false;
  }

  function showReceipt(receipt, code) {
    log(t("cast.committed", { height: receipt.height }), "ok");
    log(t("cast.verifying"));
    const text = JSON.stringify(receipt);
    V.receipt = text;
    $("#receipt-save").hidden = false;
    $("#revote").hidden = false;
    if (!EV.validators) { EV.say($("#cast-result"), t("cast.verifyFailed"), "validators: " + t("err.allUnreachable"), "error"); return; }
    const v = V.ev.verifyReceipt(text, EV.validators.json, EV.validators.chainID, V.election);
    if (v.error || v.trackingCode !== code) {
      EV.say($("#cast-result"), t("cast.verifyFailed"), (v.step || "tracking-code") + ": " + (v.error || v.trackingCode + " \u2260 " + code), "error");
      return;
    }
    alertMsg("");
    $("#cast-result").textContent = t("cast.verified", { code: v.trackingCode, height: v.height, signers: v.signers, validators: v.validators });
    $("#cast-result").className = "ok";
    $("#cast-result").dataset.verified = "true";
    // The headline says it plainly, above the tracking code.
    $("#cast-title").textContent = t("cast.done");
    $("#cast-title").classList.add("done");
    $("#cast-title").focus();
  }
  $("#receipt-save").addEventListener("click", () => EV.download("receipt-" + $("#cast-tracking").textContent + ".json", V.receipt));
  // A re-vote starts from an empty ballot: nothing of the last one is kept.
  $("#revote").addEventListener("click", () => {
    alertMsg("");
    V.choices = null;
    $("#review").textContent = "";
    $("#choose-error").textContent = "";
    buildContests();
    go("step-choose");
  });

  document.addEventListener("DOMContentLoaded", init);
})();
