/// The review queue's page: one HTML document with its style and script inline, shipped inside the
/// binary (no external assets: the page works on a machine with no network, and nothing it shows
/// leaves the server). It reads `GET /review/api/queue` and writes `POST /review/api/verdicts`.
enum ReviewPage {
  static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Discern — review queue</title>
<style>
  :root { --bg:#fafaf8; --fg:#1d1d1b; --muted:#6b6b66; --line:#dcdcd6; --accent:#1f5fbf; --urgent:#b3261e; --review:#b26a00; --resources:#2e7d32; --none:#6b6b66; }
  * { box-sizing: border-box; }
  body { margin:0; font:15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--fg); background:var(--bg); }
  header { display:flex; align-items:center; gap:16px; padding:10px 18px; border-bottom:1px solid var(--line); background:#fff; }
  header h1 { font-size:16px; margin:0; }
  header .progress { color:var(--muted); }
  header .who { margin-left:auto; color:var(--muted); }
  header input { font:inherit; padding:2px 6px; width:10em; }
  main { display:grid; grid-template-columns: 300px 1fr; height: calc(100vh - 49px); }
  nav { border-right:1px solid var(--line); overflow:auto; background:#fff; }
  nav ol { list-style:none; margin:0; padding:0; }
  nav li { padding:8px 12px; border-bottom:1px solid var(--line); cursor:pointer; display:flex; gap:8px; align-items:baseline; }
  nav li.current { background:#eaf1fb; }
  nav li .snippet { overflow:hidden; text-overflow:ellipsis; white-space:nowrap; flex:1; }
  nav li .done { color:var(--resources); font-weight:600; }
  .tier { font-size:12px; font-weight:600; text-transform:uppercase; padding:1px 6px; border-radius:4px; color:#fff; white-space:nowrap; }
  .tier.urgent { background:var(--urgent); } .tier.review { background:var(--review); } .tier.resources { background:var(--resources); } .tier.none { background:var(--none); }
  section#item { overflow:auto; padding:18px 26px 40px; }
  .message { font-size:18px; line-height:1.6; background:#fff; border:1px solid var(--line); border-radius:6px; padding:14px 16px; white-space:pre-wrap; word-wrap:break-word; }
  .span { border-radius:3px; padding:0 1px; }
  .meta { color:var(--muted); margin:6px 0 14px; font-size:13px; }
  table { border-collapse:collapse; width:100%; margin:12px 0; background:#fff; }
  th, td { text-align:left; padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:middle; }
  th { font-size:12px; color:var(--muted); font-weight:600; text-transform:uppercase; }
  tr.selected td { background:#f2f6fc; }
  .bar { display:inline-block; height:8px; background:var(--accent); border-radius:2px; vertical-align:middle; }
  .verdict { font-weight:600; }
  .verdict.agree { color:var(--resources); } .verdict.disagree { color:var(--urgent); } .verdict.open { color:var(--muted); font-weight:400; }
  .legend span { margin-right:10px; font-size:13px; }
  .rationale { background:#fff; border-left:3px solid var(--accent); padding:8px 12px; }
  details { margin-top:10px; }
  .keys { color:var(--muted); font-size:13px; margin-top:18px; }
  kbd { font:12px ui-monospace, monospace; border:1px solid var(--line); border-bottom-width:2px; border-radius:3px; padding:0 4px; background:#fff; }
  #status { min-height:1.4em; color:var(--muted); }
  .empty { color:var(--muted); padding:40px; }
</style>
</head>
<body>
<header>
  <h1>Discern review queue</h1>
  <span class="progress" id="progress"></span>
  <span id="status" role="status" aria-live="polite"></span>
  <label class="who">moderator <input id="moderator" autocomplete="username"></label>
</header>
<main>
  <nav aria-label="queue"><ol id="queue"></ol></nav>
  <section id="item" aria-live="polite"></section>
</main>
<script>
"use strict";
const state = { items: [], labels: [], spanTypes: [], spanType: 0, current: 0, selected: 0, draft: null };
const token = new URLSearchParams(location.search).get("token");
const headers = token ? { "Authorization": "Bearer " + token } : {};
const spanColours = ["#ffe08a", "#b8e0ff", "#ffc4c4", "#c9f0c2", "#e4ccff", "#ffd8b0", "#c4f2ee", "#f0c4e4"];
const typeColour = {};
function colourOf(type) {
  if (!(type in typeColour)) typeColour[type] = spanColours[Object.keys(typeColour).length % spanColours.length];
  return typeColour[type];
}
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (key === "class") node.className = value; else if (key.startsWith("on")) node.addEventListener(key.slice(2), value); else node.setAttribute(key, value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}
function status(text) { document.getElementById("status").textContent = text; }

async function load() {
  const response = await fetch("/review/api/queue", { headers });
  if (!response.ok) { status("could not load the queue: " + response.status + " " + (await response.text())); return; }
  const body = await response.json();
  state.items = body.items;
  state.labels = body.labels;
  state.spanTypes = body.spanTypes;
  const first = state.items.findIndex(item => !item.reviewed);
  state.current = first < 0 ? 0 : first;
  startDraft();
  render();
}

// The moderator's verdicts on the current message before they are saved: start from what is
// stored, else from nothing (a label is open until confirmed or corrected).
function startDraft() {
  const item = state.items[state.current];
  if (!item) { state.draft = null; return; }
  state.draft = { verdicts: Object.assign({}, item.verdicts || {}), spans: (item.markedSpans || []).slice() };
  state.selected = 0;
}

function engineFlag(item, label) { const decision = item.record.labels[label]; return decision ? decision.flagged : false; }

function render() {
  const list = document.getElementById("queue");
  list.replaceChildren(...state.items.map((item, index) => el("li",
    { class: index === state.current ? "current" : "", "data-id": item.id, onclick: () => { state.current = index; startDraft(); render(); } },
    el("span", { class: "tier " + item.record.urgency.tier }, item.record.urgency.tier),
    el("span", { class: "snippet" }, item.record.text),
    item.reviewed ? el("span", { class: "done", title: "reviewed" }, "✓") : null)));
  const reviewed = state.items.filter(item => item.reviewed).length;
  document.getElementById("progress").textContent = reviewed + " of " + state.items.length + " reviewed";
  const section = document.getElementById("item");
  const item = state.items[state.current];
  if (!item) { section.replaceChildren(el("p", { class: "empty" }, "The queue is empty. Load an audit with discern serve --review FILE, or POST messages to /review/api/items.")); return; }
  section.replaceChildren(
    el("div", { class: "meta" }, "message ", el("strong", { id: "message-id" }, item.id), " · ",
      el("span", { class: "tier " + item.record.urgency.tier }, item.record.urgency.tier), " ", item.record.urgency.moderator || ""),
    messageView(item), legend(item), labelTable(item),
    el("div", { class: "rationale" }, item.record.rationale || ""),
    contributions(item),
    el("p", { class: "keys" },
      el("kbd", {}, "j"), "/", el("kbd", {}, "k"), " next/previous · ", el("kbd", {}, "↑"), el("kbd", {}, "↓"), " choose a label · ",
      el("kbd", {}, "y"), " applies · ", el("kbd", {}, "n"), " does not apply · ", el("kbd", {}, "x"), " correct (the opposite of the engine) · ",
      el("kbd", {}, "c"), " confirm the engine on every open label, save, next · ", el("kbd", {}, "Enter"), " save, next · ",
      el("kbd", {}, "s"), " skip · ", el("kbd", {}, "t"), " span type (", el("strong", { id: "span-type" }, state.spanTypes[state.spanType] || ""), ") · ",
      el("kbd", {}, "m"), " mark the selected words as a span of that type"));
}

// Spans are Unicode-scalar offsets (as every Discern record writes them); Array.from splits a string the same way.
function messageView(item) {
  const scalars = Array.from(item.record.text);
  const spans = item.record.spans.map(span => ({ start: span.start, end: span.end, type: span.type, title: span.type + (span.rule ? " (" + span.rule + ")" : "") }))
    .concat(state.draft.spans.map(span => ({ start: span.start, end: span.end, type: "marked: " + span.type, title: "marked by a moderator: " + span.type })));
  const view = el("div", { class: "message", id: "message" });
  const starts = new Set([0, scalars.length]);
  for (const span of spans) { starts.add(span.start); starts.add(span.end); }
  const cuts = Array.from(starts).sort((a, b) => a - b);
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [from, to] = [cuts[i], cuts[i + 1]];
    const covering = spans.filter(span => span.start <= from && span.end >= to);
    const text = scalars.slice(from, to).join("");
    if (covering.length === 0) { view.append(el("span", { "data-from": from }, text)); continue; }
    const top = covering[covering.length - 1];
    const piece = el("span", { class: "span", title: covering.map(span => span.title).join("; "), "data-from": from }, text);
    piece.style.background = colourOf(top.type);
    if (covering.length > 1) piece.style.boxShadow = "inset 0 -3px 0 " + colourOf(covering[0].type);
    view.append(piece);
  }
  return view;
}

function legend(item) {
  const types = Array.from(new Set(item.record.spans.map(span => span.type).concat(state.draft.spans.map(span => "marked: " + span.type))));
  return el("div", { class: "legend" }, ...types.map(type => { const key = el("span", { class: "span" }, type); key.style.background = colourOf(type); return key; }));
}

function labelTable(item) {
  const rows = state.labels.map((label, index) => {
    const decision = item.record.labels[label];
    if (!decision) return null;
    const verdict = state.draft.verdicts[label];
    const verdictText = verdict === undefined ? "open" : (verdict ? "applies" : "does not apply");
    const agreement = verdict === undefined ? "open" : (verdict === decision.flagged ? "agree" : "disagree");
    return el("tr", { class: index === state.selected ? "selected" : "", "data-label": label },
      el("td", {}, label),
      el("td", {}, decision.probability.toFixed(2) + " ", el("span", { class: "bar", style: "width:" + Math.round(decision.probability * 80) + "px" })),
      el("td", {}, decision.flagged ? "flagged" : "not flagged"),
      el("td", {}, decision.threshold.toFixed(2)),
      el("td", { class: "verdict " + agreement }, verdictText));
  });
  return el("table", { id: "labels" }, el("tr", {}, ...["label", "probability", "engine", "threshold", "your verdict"].map(name => el("th", {}, name))), ...rows);
}

function contributions(item) {
  const label = state.labels[state.selected];
  const decision = item.record.labels[label];
  if (!decision || !decision.contributions) return null;
  const rows = decision.contributions.slice(0, 12).map(term => el("tr", {},
    el("td", {}, term.feature), el("td", {}, String(term.value)), el("td", {}, term.weight.toFixed(3)), el("td", {}, term.contribution.toFixed(3))));
  return el("details", { open: "" }, el("summary", {}, "why " + label + ": logit " + decision.logit.toFixed(3) + " = bias " + decision.bias.toFixed(3) + " + contributions"),
    el("table", {}, el("tr", {}, ...["feature", "value", "weight", "contribution"].map(name => el("th", {}, name))), ...rows));
}

async function save(next) {
  const item = state.items[state.current];
  const moderator = document.getElementById("moderator").value.trim();
  if (!moderator) { status("Type your name in 'moderator' first: every verdict says who gave it."); document.getElementById("moderator").focus(); return; }
  localStorage.setItem("discern.moderator", moderator);
  const verdicts = Object.entries(state.draft.verdicts).map(([label, applies]) => ({ label, applies }));
  if (verdicts.length === 0) { status("No verdict yet: y, n or x on a label, or c to confirm the engine."); return; }
  const response = await fetch("/review/api/verdicts", {
    method: "POST", headers: Object.assign({ "Content-Type": "application/json" }, headers),
    body: JSON.stringify({ id: item.id, moderator, verdicts, spans: state.draft.spans }) });
  if (!response.ok) { status("not saved: " + (await response.text())); return; }
  item.verdicts = Object.assign({}, state.draft.verdicts);
  item.markedSpans = state.draft.spans.slice();
  item.reviewed = true;
  status("saved " + item.id);
  if (next) move(1); else render();
}

function move(step) {
  if (state.items.length === 0) return;
  state.current = Math.min(Math.max(state.current + step, 0), state.items.length - 1);
  startDraft();
  render();
}

// The selection inside the message, as scalar offsets (each piece carries its starting offset).
function selectedRange() {
  const selection = window.getSelection();
  if (!selection || selection.isCollapsed) return null;
  const offset = (node, within) => {
    const piece = node.nodeType === 3 ? node.parentElement : node;
    if (!piece || !piece.dataset || piece.dataset.from === undefined) return null;
    return Number(piece.dataset.from) + Array.from(node.nodeType === 3 ? node.textContent.slice(0, within) : "").length;
  };
  const a = offset(selection.anchorNode, selection.anchorOffset), b = offset(selection.focusNode, selection.focusOffset);
  if (a === null || b === null || a === b) return null;
  return { start: Math.min(a, b), end: Math.max(a, b) };
}

document.addEventListener("keydown", event => {
  if (event.target.tagName === "INPUT") { if (event.key === "Enter") event.target.blur(); return; }
  const item = state.items[state.current];
  if (!item) return;
  const label = state.labels[state.selected];
  switch (event.key) {
    case "j": move(1); break;
    case "k": move(-1); break;
    case "s": status("skipped " + item.id); move(1); break;
    case "ArrowDown": state.selected = Math.min(state.selected + 1, state.labels.length - 1); render(); break;
    case "ArrowUp": state.selected = Math.max(state.selected - 1, 0); render(); break;
    case "y": state.draft.verdicts[label] = true; render(); break;
    case "n": state.draft.verdicts[label] = false; render(); break;
    case "x": state.draft.verdicts[label] = !engineFlag(item, label); render(); break;
    case "c":
      for (const name of state.labels) if (item.record.labels[name] && !(name in state.draft.verdicts)) state.draft.verdicts[name] = engineFlag(item, name);
      save(true); break;
    case "Enter": save(true); break;
    case "t": state.spanType = (state.spanType + 1) % Math.max(state.spanTypes.length, 1); render(); break;
    case "m": {
      const range = selectedRange();
      if (!range) { status("Select words in the message first, then m."); break; }
      state.draft.spans.push({ start: range.start, end: range.end, type: state.spanTypes[state.spanType] });
      render(); break;
    }
    default: return;
  }
  event.preventDefault();
});
document.getElementById("moderator").value = localStorage.getItem("discern.moderator") || "";
load();
</script>
</body>
</html>
"""#
}
