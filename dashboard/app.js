// Baton dashboard: one ES module, no build step. It talks to the same REST API as every
// other client and follows the live event stream; every rule is the server's.

const $ = (sel, root = document) => root.querySelector(sel);
const view = $("#view");
const COLUMNS = ["backlog", "open", "in-progress", "review", "done"];

// ---- talking to the server --------------------------------------------------------------

function actor() {
  return localStorage.getItem("baton.actor") || "";
}

class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.code = e.code || `http_${status}`;
    this.hint = e.hint || "";
  }
}

// The project the page shows (team servers host several); the default one's routes are
// the plain /api/v1/... ones.
function projectKey() {
  return localStorage.getItem("baton.project") || "default";
}

// Routes of the instance, never inside a project.
const INSTANCE = ["/api/v1/auth/", "/api/v1/profile/", "/api/v1/users", "/api/v1/projects",
  "/api/v1/tokens", "/api/v1/instance/", "/api/v1/openapi.json"];

function url(path) {
  const key = projectKey();
  if (key === "default" || !path.startsWith("/api/v1/") || INSTANCE.some((p) => path.startsWith(p))) return path;
  return `/api/v1/projects/${encodeURIComponent(key)}/${path.slice("/api/v1/".length)}`;
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (actor()) headers["X-Baton-Agent"] = actor();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  // The session cookie (HttpOnly) goes along with every same-origin request.
  const res = await fetch(url(path), {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (res.status === 401 && !path.startsWith("/api/v1/auth/")) {
    showLogin();
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

function toast(message, kind = "error") {
  const box = document.createElement("div");
  box.className = `msg ${kind}`;
  box.textContent = message;
  $("#toast").append(box);
  setTimeout(() => box.remove(), kind === "error" ? 8000 : 3000);
}

function refused(err) {
  toast(err.hint ? `${err.message} — ${err.hint}` : err.message);
}

// ---- helpers ----------------------------------------------------------------------------

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) =>
    ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function ago(time) {
  if (!time) return "";
  // A server clock a little ahead of this one's is not the future.
  const s = Math.max(0, Math.round((Date.now() - Date.parse(time)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

function left(time) {
  if (!time) return "";
  const s = Math.round((Date.parse(time) - Date.now()) / 1000);
  if (s <= 0) return "lease expired";
  return s < 120 ? `${s}s left` : `${Math.round(s / 60)}m left`;
}

function list(text) {
  return String(text || "").split(/[,\n]/).map((s) => s.trim()).filter(Boolean);
}

function taskLink(id) {
  return `<a href="#/task/${esc(id)}">${esc(id)}</a>`;
}

// A small markdown renderer: headings, paragraphs, lists, fenced code, inline code,
// emphasis and links. Everything is escaped first, so a doc cannot inject markup.
function markdown(src) {
  const out = [];
  const lines = String(src || "").split("\n");
  let para = [];
  let listKind = null;
  const inline = (t) => esc(t)
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/\*([^*]+)\*/g, "<em>$1</em>")
    .replace(/\[([^\]]+)\]\(((?:https?:\/\/|#|\/)[^)\s]*)\)/g, '<a href="$2">$1</a>');
  const flush = () => {
    if (para.length) out.push(`<p>${inline(para.join(" "))}</p>`);
    para = [];
    if (listKind) out.push(`</${listKind}>`);
    listKind = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith("```")) {
      flush();
      const code = [];
      for (i++; i < lines.length && !lines[i].startsWith("```"); i++) code.push(lines[i]);
      out.push(`<pre><code>${esc(code.join("\n"))}</code></pre>`);
      continue;
    }
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    const li = /^\s*(?:[-*]|(\d+)\.)\s+(.*)$/.exec(line);
    if (h) {
      flush();
      out.push(`<h${h[1].length}>${inline(h[2])}</h${h[1].length}>`);
    } else if (li) {
      if (para.length) { out.push(`<p>${inline(para.join(" "))}</p>`); para = []; }
      const kind = li[1] ? "ol" : "ul";
      if (listKind !== kind) { if (listKind) out.push(`</${listKind}>`); out.push(`<${kind}>`); listKind = kind; }
      out.push(`<li>${inline(li[2])}</li>`);
    } else if (!line.trim()) {
      flush();
    } else {
      if (listKind) { out.push(`</${listKind}>`); listKind = null; }
      para.push(line.trim());
    }
  }
  flush();
  return out.join("\n");
}

// ---- the board --------------------------------------------------------------------------

const filters = { epic: "", assignee: "", priority: "", text: "" };
let tasks = [];

function passes(t) {
  if (filters.epic && t.epic !== filters.epic) return false;
  if (filters.assignee && t.assignee !== filters.assignee) return false;
  if (filters.priority && t.priority !== filters.priority) return false;
  if (filters.text) {
    const q = filters.text.toLowerCase();
    if (!`${t.id} ${t.title} ${t.description}`.toLowerCase().includes(q)) return false;
  }
  return true;
}

// What a backlog card waits for: the dependencies core counts as not yet met, with where
// each stands; a backlog task with none is parked until someone opens it.
function waits(t, statusOf) {
  if (t.status !== "backlog") return "";
  const on = t.waiting_on || [];
  if (!on.length) return `<div class="waits muted" data-waits="">parked: nothing to wait for; open it to start</div>`;
  return `<div class="waits" data-waits="${esc(on.join(" "))}">waits for ${on.map((id) =>
    `${esc(id)}${statusOf.has(id) ? ` <span class="muted">(${esc(statusOf.get(id))})</span>` : ""}`).join(", ")}</div>`;
}

function card(t, statusOf) {
  const files = t.files.length ? `<div class="files">${esc(t.files.join(" "))}</div>` : "";
  const lease = t.status === "in-progress" && t.lease_expires_at
    ? `<span title="lease">${esc(left(t.lease_expires_at))}</span>` : "";
  const blocked = t.status === "blocked" && t.blocked_reason
    ? `<div class="muted">${esc(t.blocked_reason)}</div>` : "";
  return `<article class="card ${esc(t.priority)}" draggable="true" tabindex="0" data-id="${esc(t.id)}"
      data-status="${esc(t.status)}" aria-label="${esc(t.id)} ${esc(t.title)}">
    <div class="meta"><span>${esc(t.id)}</span><span class="pill">${esc(t.priority)}</span>
      ${t.assignee ? `<span>@${esc(t.assignee)}</span>` : ""}
      ${t.epic ? `<span>${esc(t.epic)}</span>` : ""}${lease}</div>
    <div class="title">${esc(t.title)}</div>${blocked}${waits(t, statusOf)}${files}</article>`;
}

function options(values, selected, label) {
  return `<option value="">${label}</option>` + [...values].sort()
    .map((v) => `<option ${v === selected ? "selected" : ""}>${esc(v)}</option>`).join("");
}

async function showBoard() {
  [tasks] = await Promise.all([api("GET", "/api/v1/tasks?limit=0"), lifecycle()]);
  const epics = new Set(tasks.map((t) => t.epic).filter(Boolean));
  const people = new Set(tasks.map((t) => t.assignee).filter(Boolean));
  const shown = tasks.filter(passes);
  const by = Object.fromEntries([...COLUMNS, "blocked"].map((s) => [s, []]));
  const statusOf = new Map(tasks.map((t) => [t.id, t.status]));
  for (const t of shown) (by[t.status] || (by[t.status] = [])).push(card(t, statusOf));
  view.innerHTML = `
    <div class="filters" role="search">
      <select id="f-epic" aria-label="epic">${options(epics, filters.epic, "all epics")}</select>
      <select id="f-assignee" aria-label="assignee">${options(people, filters.assignee, "anyone")}</select>
      <select id="f-priority" aria-label="priority">${options(["P0", "P1", "P2"], filters.priority, "any priority")}</select>
      <input id="f-text" type="search" placeholder="filter text" aria-label="filter text" value="${esc(filters.text)}">
      <span class="muted">${shown.length} of ${tasks.length} tasks</span>
    </div>
    <section class="band" data-status="blocked" aria-label="blocked">
      <h2>blocked (${by.blocked.length})</h2><div class="cards">${by.blocked.join("")}</div></section>
    <div class="columns">${COLUMNS.map((s) => `
      <section class="column" data-status="${s}" aria-label="${s}">
        <h2>${s} (${by[s].length})</h2><div class="cards">${by[s].join("")}</div>
      </section>`).join("")}</div>`;
  for (const [key, id] of [["epic", "#f-epic"], ["assignee", "#f-assignee"], ["priority", "#f-priority"]]) {
    $(id).onchange = (e) => { filters[key] = e.target.value; render(); };
  }
  $("#f-text").oninput = (e) => { filters.text = e.target.value; renderSoon(250); };
  wireDrags();
}

function wireDrags() {
  view.querySelectorAll(".card").forEach((c) => {
    c.ondragstart = (e) => {
      e.dataTransfer.setData("text/plain", c.dataset.id);
      e.dataTransfer.effectAllowed = "move";
      // The columns the lifecycle leads to from here stay lit; the others dim.
      const to = new Set(steps(c.dataset.status).map((s) => s.to));
      zones().forEach((z) => { z.dataset.drop = to.has(z.dataset.status) && z.dataset.status !== c.dataset.status ? "yes" : "no"; });
    };
    c.ondragend = () => zones().forEach((z) => delete z.dataset.drop);
    c.onkeydown = (e) => { if (e.key === "Enter") location.hash = `#/task/${c.dataset.id}`; };
    // A click opens the card (a drag never ends in a click, so the two do not clash).
    c.onclick = () => { location.hash = `#/task/${c.dataset.id}`; };
  });
  zones().forEach((zone) => {
    zone.ondragover = (e) => { e.preventDefault(); zone.classList.add("over"); };
    zone.ondragleave = () => zone.classList.remove("over");
    zone.ondrop = (e) => {
      e.preventDefault();
      zone.classList.remove("over");
      zones().forEach((z) => delete z.dataset.drop);
      const id = e.dataTransfer.getData("text/plain");
      const task = tasks.find((t) => t.id === id);
      if (!task || task.status === zone.dataset.status) return;
      const to = zone.dataset.status;
      if (!steps(task.status).some((s) => s.to === to)) {
        toast(`${task.id} cannot go from ${task.status} to ${to}: the lifecycle leads from ${task.status} only to ${[...new Set(steps(task.status).map((s) => s.to).filter((s) => s !== task.status))].join(", ") || "nowhere"}`);
        return;
      }
      move(task, to);
    };
  });
}

function zones() {
  return view.querySelectorAll("[data-status].column, [data-status].band");
}

// A drop asks the server for the move the columns mean; a refusal snaps the card back.
async function move(task, to) {
  const path = `/api/v1/tasks/${task.id}`;
  try {
    if (task.status === "in-progress" && to === "review") {
      await api("POST", `${path}/done`, {});
    } else if (task.status === "review" && to === "done") {
      await api("POST", `${path}/approve`, {});
    } else if (task.status === "review" && (to === "open" || to === "in-progress")) {
      const feedback = prompt(`Feedback for ${task.id}:`);
      if (!feedback) return render();
      await api("POST", `${path}/reject`, { feedback, to });
    } else if (to === "blocked") {
      const reason = prompt(`Why is ${task.id} blocked?`);
      if (!reason) return render();
      await api("POST", `${path}/block`, { reason });
    } else if (task.status === "blocked" && to === "open") {
      await api("POST", `${path}/unblock`, {});
    } else if (to === "in-progress") {
      await api("POST", "/api/v1/tasks/pickup", { id: task.id });
    } else {
      await api("PATCH", path, { status: to });
    }
    toast(`${task.id} → ${to}`, "info");
  } catch (err) {
    refused(err);
  }
  await render();
}

// ---- one task ---------------------------------------------------------------------------

// The lifecycle as the server states it (which action leads from which status to which);
// read once, it never changes while the server runs.
let lifecycleTable = null;

async function lifecycle() {
  if (!lifecycleTable) lifecycleTable = await api("GET", "/api/v1/lifecycle");
  return lifecycleTable;
}

function steps(status) {
  return (lifecycleTable?.transitions || []).filter((s) => s.from === status);
}

// The name the page acts as: the typed agent, else the logged-in user, else human.
function actingName() {
  return actor() || (me && me.mode === "team" ? me.user : "human");
}

// Only the actions the lifecycle allows from the task's status; a plain move is offered
// only where no named action leads to the same status.
function taskActions(t) {
  const here = steps(t.status);
  const named = [];
  const has = (a) => here.find((s) => s.action === a);
  if (has("pickup")) named.push(["pickup", "Pick up", has("pickup").to]);
  if (has("done") && t.assignee === actingName()) named.push(["done", "Hand in for review", has("done").to]);
  if (has("approve")) named.push(["approve", "Approve", has("approve").to]);
  if (has("reject")) named.push(["reject", "Reject…", "open"]);
  if (has("block")) named.push(["block", "Block…", "blocked"]);
  if (has("unblock")) named.push(["unblock", "Unblock", "open"]);
  const covered = new Set(named.map((n) => n[2]));
  const moves = here.filter((s) => s.action === "move" && !covered.has(s.to));
  const buttons = named.map(([act, label]) => `<button data-act="${act}"${act === "approve" ? ' class="primary"' : ""}>${label}</button>`)
    .concat(moves.map((s) => `<button data-act="move" data-to="${esc(s.to)}">Move to ${esc(s.to)}</button>`));
  if (has("delete")) buttons.push(`<button data-act="delete">Delete…</button>`);
  return buttons.join("\n");
}

async function showTask(id) {
  const [t, events, docs] = await Promise.all([
    api("GET", `/api/v1/tasks/${id}`),
    api("GET", `/api/v1/events?task=${encodeURIComponent(id)}`),
    api("GET", `/api/v1/docs?task=${encodeURIComponent(id)}`),
    lifecycle(),
  ]);
  const field = (name, value) => `<dt>${name}</dt><dd>${value || '<span class="muted">—</span>'}</dd>`;
  view.innerHTML = `
    <h1>${esc(t.id)} ${esc(t.title)} <a class="muted" href="#/diff/${esc(t.id)}">diff</a></h1>
    <div class="detail"><div>
      <div class="panel"><dl class="fields">
        ${field("status", esc(t.status) + (t.blocked_reason ? ` — ${esc(t.blocked_reason)}` : ""))}
        ${field("priority", esc(t.priority))}
        ${field("assignee", esc(t.assignee))}
        ${field("epic", esc(t.epic))}
        ${field("description", esc(t.description))}
        ${field("depends on", t.depends_on.map(taskLink).join(", ") + (t.depends_on.length ? (t.deps_met ? ' <span class="ok">met</span>' : ' <span class="stale">waiting</span>') : ""))}
        ${field("capabilities", esc(t.capabilities.join(", ")))}
        ${field("files", esc(t.files.join(" ")))}
        ${field("verify", t.verify ? `<code>${esc(t.verify)}</code>` : "")}
        ${field("acceptance", t.acceptance_criteria.map((a) => `• ${esc(a)}`).join("<br>"))}
        ${field("context", t.context_refs.map((d) => `<a href="#/doc/${esc(d)}">${esc(d)}</a>`).join(", "))}
        ${field("lease", t.lease_expires_at ? `${esc(left(t.lease_expires_at))} (fence ${t.fence})` : "")}
        ${field("retries", String(t.retry_count))}
        ${field("created", `${esc(t.created_at)} (${esc(ago(t.created_at))})`)}
        ${field("updated", esc(t.updated_at))}
        ${field("started", esc(t.started_at))}
        ${field("completed", esc(t.completed_at))}
      </dl></div>
      <div class="panel"><h3>Notes</h3>
        ${t.notes.map((n) => `<p><strong>${esc(n.author)}</strong> <span class="muted">${esc(ago(n.at))}</span><br>${esc(n.text)}</p>`).join("") || '<p class="muted">none</p>'}
        <form id="note"><textarea name="text" aria-label="note" required></textarea>
          <button class="primary">Add note</button></form></div>
      <div class="panel"><h3>History</h3><table><tr><th>when</th><th>who</th><th>what</th></tr>
        ${events.map((e) => `<tr><td>${esc(e.at)}</td><td>${esc(e.actor)}</td><td>${esc(e.action)}</td></tr>`).join("")}
      </table></div>
    </div><div>
      <div class="panel"><h3>Actions</h3><div class="actions" id="task-actions" data-status="${esc(t.status)}">
        ${taskActions(t)}
      </div></div>
      <div class="panel"><h3>Edit</h3><form id="edit" class="grid">
        <label for="e-title">title</label><input id="e-title" name="title" value="${esc(t.title)}">
        <label for="e-priority">priority</label><select id="e-priority" name="priority">${["P0", "P1", "P2"].map((p) => `<option ${p === t.priority ? "selected" : ""}>${p}</option>`).join("")}</select>
        <label for="e-status">status</label><select id="e-status" name="status">${[t.status, ...steps(t.status).filter((s) => s.action === "move").map((s) => s.to)].map((st) => `<option ${st === t.status ? "selected" : ""}>${st}</option>`).join("")}</select>
        <label for="e-epic">epic</label><input id="e-epic" name="epic" value="${esc(t.epic)}">
        <label for="e-files">files</label><input id="e-files" name="files" value="${esc(t.files.join(", "))}">
        <label for="e-desc">description</label><textarea id="e-desc" name="description">${esc(t.description)}</textarea>
        <span></span><button class="primary">Save</button></form></div>
      <div class="panel"><h3>Docs</h3>${docs.map((d) => `<p><a href="#/doc/${esc(d.id)}">${esc(d.id)}</a> ${esc(d.title)}</p>`).join("") || '<p class="muted">none linked</p>'}</div>
    </div></div>`;
  const path = `/api/v1/tasks/${t.id}`;
  const act = {
    pickup: () => api("POST", "/api/v1/tasks/pickup", { id: t.id }),
    done: () => api("POST", `${path}/done`, {}),
    move: (b) => api("PATCH", path, { status: b.dataset.to }),
    approve: () => api("POST", `${path}/approve`, {}),
    reject: () => { const feedback = prompt("Feedback:"); return feedback && api("POST", `${path}/reject`, { feedback }); },
    block: () => { const reason = prompt("Reason:"); return reason && api("POST", `${path}/block`, { reason }); },
    unblock: () => api("POST", `${path}/unblock`, {}),
    delete: () => { const reason = prompt("Why delete it?"); return reason !== null && api("DELETE", `${path}?reason=${encodeURIComponent(reason)}`); },
  };
  view.querySelectorAll("[data-act]").forEach((b) => {
    b.onclick = async () => {
      try { if (await act[b.dataset.act](b)) toast(`${t.id}: ${b.dataset.act}${b.dataset.to ? ` to ${b.dataset.to}` : ""}`, "info"); } catch (err) { refused(err); }
      render();
    };
  });
  $("#note").onsubmit = async (e) => {
    e.preventDefault();
    try { await api("POST", `${path}/notes`, { text: e.target.text.value }); } catch (err) { refused(err); }
    render();
  };
  $("#edit").onsubmit = async (e) => {
    e.preventDefault();
    const f = e.target;
    try {
      const patch = { title: f.title.value, priority: f.priority.value, epic: f.epic.value,
        files: list(f.files.value), description: f.description.value };
      if (f.status.value !== t.status) patch.status = f.status.value;
      await api("PATCH", path, patch);
      toast(`${t.id} saved`, "info");
    } catch (err) { refused(err); }
    render();
  };
}

function showNew() {
  view.innerHTML = `<h1>New task</h1><form id="new" class="grid">
    <label for="n-title">title</label><input id="n-title" name="title" required>
    <label for="n-desc">description</label><textarea id="n-desc" name="description"></textarea>
    <label for="n-priority">priority</label><select id="n-priority" name="priority"><option>P0</option><option selected>P1</option><option>P2</option></select>
    <label for="n-status">status</label><select id="n-status" name="status"><option>open</option><option>backlog</option></select>
    <label for="n-epic">epic</label><input id="n-epic" name="epic">
    <label for="n-caps">capabilities</label><input id="n-caps" name="capabilities" placeholder="rust, frontend">
    <label for="n-deps">depends on</label><input id="n-deps" name="depends_on" placeholder="T-1, T-2">
    <label for="n-files">files</label><input id="n-files" name="files" placeholder="src/auth/**">
    <label for="n-verify">verify</label><input id="n-verify" name="verify" placeholder="cargo test -p auth">
    <label for="n-acc">acceptance criteria</label><textarea id="n-acc" name="acceptance" placeholder="one per line"></textarea>
    <label for="n-refs">context docs</label><input id="n-refs" name="context_refs" placeholder="D-1">
    <span></span><button class="primary">Create</button></form>`;
  $("#new").onsubmit = async (e) => {
    e.preventDefault();
    const f = e.target;
    const body = { title: f.title.value, description: f.description.value || null, priority: f.priority.value,
      status: f.status.value, epic: f.epic.value || null, capabilities: list(f.capabilities.value),
      depends_on: list(f.depends_on.value), files: list(f.files.value), verify: f.verify.value || null,
      acceptance_criteria: f.acceptance.value.split("\n").map((s) => s.trim()).filter(Boolean),
      context_refs: list(f.context_refs.value) };
    try {
      const t = await api("POST", "/api/v1/tasks", body);
      toast(`created ${t.id}`, "info");
      location.hash = `#/task/${t.id}`;
    } catch (err) { refused(err); }
  };
}

// ---- what needs the person at the page ---------------------------------------------------

// Everything waiting for a person: work to review, plan proposals to decide, questions to
// them, blocked tasks, agents gone quiet while holding work, merges in conflict.
async function needs() {
  const [review, blocked, messages, agents, merges, errands, phases, initiatives, proposals] = await Promise.all([
    api("GET", "/api/v1/tasks?status=review&limit=0"),
    api("GET", "/api/v1/tasks?status=blocked&limit=0"),
    api("GET", "/api/v1/messages?limit=1000"),
    api("GET", "/api/v1/agents"),
    api("GET", "/api/v1/merges?limit=200"),
    api("GET", "/api/v1/errands"),
    api("GET", "/api/v1/phases"),
    api("GET", "/api/v1/initiatives"),
    api("GET", "/api/v1/proposals?status=pending"),
  ]);
  const to = addresses();
  const who = actingName();
  const n = {
    review,
    phaseReviews: phases.filter((p) => p.status === "pending_review")
      .concat(initiatives.filter((i) => i.status === "pending_review")),
    proposals,
    questions: messages.filter((m) => !m.reply_to && !m.answered_at && to.includes(m.to) && m.from !== who),
    blocked,
    stale: agents.filter((a) => a.state === "stale"),
    conflicts: merges.filter((m) => ["conflict", "failed"].includes(m.state)),
    errandConflicts: errands.filter((e) => e.status === "conflict"),
  };
  n.count = n.review.length + n.phaseReviews.length + n.proposals.length + n.questions.length + n.blocked.length
    + n.stale.length + n.conflicts.length + n.errandConflicts.length;
  return n;
}

function needSection(id, title, items, empty) {
  return `<section class="panel need" id="${id}"><h2>${title} <span class="muted">${items.length}</span></h2>
    ${items.length ? `<ul class="needs">${items.join("")}</ul>` : `<p class="muted">${empty}</p>`}</section>`;
}

async function showNeeds() {
  const n = await needs();
  noticeNeeds(n);
  const reviews = n.review.map((t) => `<li data-need="review" data-task="${esc(t.id)}">
      <div>${taskLink(t.id)} ${esc(t.title)} <span class="muted">by ${esc(t.assignee || "nobody")} · ${esc(ago(t.updated_at))}</span>
        ${t.summary ? `<div class="muted summary">${esc(t.summary)}</div>` : ""}</div>
      <div class="actions"><button class="primary" data-approve="${esc(t.id)}">Approve</button>
        <form class="reject" data-id="${esc(t.id)}"><input name="feedback" aria-label="what to change in ${esc(t.id)}" placeholder="what to change" required>
          <button>Reject</button></form>
        <a href="#/diff/${esc(t.id)}">diff</a></div></li>`)
    .concat(n.phaseReviews.map((p) => `<li data-need="review" data-phase="${esc(p.id)}">
      <div>${p.initiative ? `<a href="#/phase/${esc(p.id)}">${esc(p.id)}</a>` : `<a href="#/plan">${esc(p.id)}</a>`} ${esc(p.name)}
        <span class="muted">${p.initiative ? "phase" : "initiative"} waiting for review</span></div>
      <div class="actions"><a href="#/diff/${esc(p.id)}">Review the diff</a></div></li>`));
  const proposals = n.proposals.map((p) => `<li data-need="proposal" data-proposal="${esc(p.id)}">
      <div>${esc(p.id)} ${esc(p.title)} <span class="muted">${esc(p.target)} ${esc(p.target_id || "(new)")} for ${esc(p.initiative)}
        · by ${esc(p.author)} · ${esc(ago(p.created_at))}</span>
        ${p.summary ? `<div class="muted summary">${esc(p.summary.slice(0, 300))}</div>` : ""}</div>
      <div class="actions"><button class="primary" data-accept-proposal="${esc(p.id)}">Accept</button>
        <button data-dismiss-proposal="${esc(p.id)}">Dismiss</button> <a href="#/plan">Read it</a></div></li>`);
  const questions = n.questions.map((m) => `<li data-need="question" data-message="${esc(m.id)}">
      <div><b>${esc(m.from)}</b> asks${m.task ? ` about ${taskLink(m.task)}` : ""} <span class="muted">${esc(ago(m.created_at))}</span>
        <div class="question">${esc(m.body)}</div></div>
      <div class="actions">${answerForm(m)}</div></li>`);
  const blocked = n.blocked.map((t) => `<li data-need="blocked" data-task="${esc(t.id)}">
      <div>${taskLink(t.id)} ${esc(t.title)} <div class="muted">${esc(t.blocked_reason || "no reason given")}</div></div>
      <div class="actions"><button data-unblock="${esc(t.id)}">Unblock</button> <a href="#/task/${esc(t.id)}">Open</a></div></li>`);
  const stale = n.stale.map((a) => `<li data-need="stale" data-agent="${esc(a.name)}">
      <div><b>${esc(a.name)}</b> <span class="muted">last call ${esc(ago(a.last_seen))} · lease ${esc(left(a.lease_expires_at))}</span>
        <div>holds ${a.holding.map(taskLink).join(", ")}</div></div>
      <div class="actions"><form class="ask" data-to="${esc(a.name)}"><input name="body" aria-label="ask ${esc(a.name)}" placeholder="are you still on it?" required>
        <button>Ask</button></form></div></li>`);
  const conflicts = n.conflicts.map((m) => `<li data-need="conflict" data-merge="${esc(m.id)}">
      <div>${esc(m.id)} <code>${esc(m.source)}</code> → <code>${esc(m.target)}</code>
        <div class="muted">${m.state === "failed" ? `failed: ${esc(m.error || "")}` : `${m.conflicts.length} file(s) in conflict: ${esc(m.conflicts.slice(0, 3).join(", "))}`}</div></div>
      <div class="actions">${m.merge_task ? `resolving in ${taskLink(m.merge_task)}` : ""}
        <button data-retry-merge="${esc(m.id)}">Retry</button></div></li>`)
    .concat(n.errandConflicts.map((e) => `<li data-need="conflict" data-errand="${esc(e.id)}">
      <div>${esc(e.id)} ${esc(e.title.slice(0, 120))} <div class="muted">conflicts: ${esc((e.conflicts || []).slice(0, 3).join(", "))}</div></div>
      <div class="actions"><a href="#/diff/${esc(e.id)}">Review</a></div></li>`));
  view.innerHTML = `<h1>Needs me <span class="muted">${n.count ? `${n.count} waiting` : "nothing waiting"}</span></h1>
    ${needSection("need-reviews", "Reviews waiting", reviews, "No work waits for a review.")}
    ${needSection("need-proposals", "Plan proposals", proposals, "No proposal waits for a decision.")}
    ${needSection("need-questions", "Questions to you", questions, "Nobody waits for an answer from you.")}
    ${needSection("need-blocked", "Blocked tasks", blocked, "Nothing is blocked.")}
    ${needSection("need-stale", "Agents gone quiet", stale, "Every agent holding work has called in time.")}
    ${needSection("need-conflicts", "Conflicts and failed merges", conflicts, "No merge is in conflict or failed.")}`;
  const act = async (what, done) => {
    try { await what(); toast(done, "info"); } catch (err) { refused(err); }
    render();
  };
  view.querySelectorAll("[data-approve]").forEach((b) => {
    b.onclick = () => act(() => api("POST", `/api/v1/tasks/${b.dataset.approve}/approve`, {}), `${b.dataset.approve} approved`);
  });
  view.querySelectorAll("form.reject").forEach((f) => {
    f.onsubmit = (e) => {
      e.preventDefault();
      act(() => api("POST", `/api/v1/tasks/${f.dataset.id}/reject`, { feedback: f.feedback.value, to: "open" }), `${f.dataset.id} sent back`);
    };
  });
  view.querySelectorAll("[data-unblock]").forEach((b) => {
    b.onclick = () => act(() => api("POST", `/api/v1/tasks/${b.dataset.unblock}/unblock`, {}), `${b.dataset.unblock} unblocked`);
  });
  view.querySelectorAll("form.ask").forEach((f) => {
    f.onsubmit = (e) => {
      e.preventDefault();
      act(() => api("POST", "/api/v1/messages", { to: f.dataset.to, body: f.body.value }), `asked ${f.dataset.to}`);
    };
  });
  view.querySelectorAll("[data-accept-proposal], [data-dismiss-proposal]").forEach((b) => {
    const id = b.dataset.acceptProposal || b.dataset.dismissProposal;
    const accept = Boolean(b.dataset.acceptProposal);
    b.onclick = () => act(() => api("POST", `/api/v1/proposals/${id}/decide`, { accept }),
      `${id} ${accept ? "accepted" : "dismissed"}`);
  });
  view.querySelectorAll("[data-retry-merge]").forEach((b) => {
    b.onclick = () => act(() => api("POST", `/api/v1/merges/${b.dataset.retryMerge}/retry`, {}), `${b.dataset.retryMerge} queued again`);
  });
  wireAnswers();
}

// ---- notifications: opt-in, remembered; new reviews and questions to the person ----------

function notifyOn() {
  return localStorage.getItem("baton.notify") === "on";
}

function drawNotify() {
  const b = $("#notify");
  b.setAttribute("aria-pressed", String(notifyOn()));
  b.textContent = notifyOn() ? "notify: on" : "notify: off";
}

function notifications() {
  drawNotify();
  $("#notify").onclick = async () => {
    if (notifyOn()) { localStorage.removeItem("baton.notify"); drawNotify(); return; }
    if (!("Notification" in window)) { toast("this browser cannot show notifications"); return; }
    const answer = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
    if (answer !== "granted") {
      toast("notifications are blocked for this page: allow them in the browser's site settings, then turn them on here");
      return;
    }
    localStorage.setItem("baton.notify", "on");
    drawNotify();
    toast("you will be notified when work waits for your review or someone asks you", "info");
  };
}

// What the page has already seen waiting; `null` until the first look, which only learns.
let seenNeeds = null;

function noticeNeeds(n) {
  $("#needs-count").textContent = n.count ? String(n.count) : "";
  const now = new Map();
  for (const t of n.review) now.set(`review:${t.id}`, [`${t.id} waits for your review`, t.title]);
  for (const p of n.phaseReviews) now.set(`review:${p.id}`, [`${p.id} waits for your review`, p.name]);
  for (const p of n.proposals) now.set(`proposal:${p.id}`, [`${p.author} proposes ${p.id}`, p.title]);
  for (const m of n.questions) now.set(`question:${m.id}`, [`${m.from} asks you`, m.body]);
  const before = seenNeeds;
  seenNeeds = new Set(now.keys());
  if (!before || !notifyOn() || !("Notification" in window) || Notification.permission !== "granted") return;
  for (const [key, [title, body]] of now) {
    if (before.has(key)) continue;
    const note = new Notification(title, { body, tag: key });
    note.onclick = () => { window.focus(); location.hash = "#/needs"; };
  }
}

let needsPending = null;
function refreshNeedsSoon(delay = 150) {
  clearTimeout(needsPending);
  needsPending = setTimeout(async () => {
    // The needs view reads them itself as it re-renders.
    if ((location.hash || "#/needs") === "#/needs") return;
    try { noticeNeeds(await needs()); } catch { /* the badge is a hint; the view reports errors */ }
  }, delay);
}

// ---- agents, reservations, docs, inbox, events -------------------------------------------

// What each agent state means; the state itself is the server's, by the lease rules.
const AGENT_STATES = {
  working: "holds work and has called since its leases could be renewed",
  stale: "holds work but has been silent while its soonest lease fell under half its term; the work returns to the queue when the lease ends",
  idle: "holds nothing; seen within one lease term",
  away: "holds nothing; not seen for longer than a lease term",
};

async function showAgents() {
  const [agents, reservations] = await Promise.all([api("GET", "/api/v1/agents"), api("GET", "/api/v1/reservations")]);
  view.innerHTML = `<h1>Agents</h1><table id="agents"><tr><th>agent</th><th>state</th><th>last call</th><th>lease</th><th>holds</th><th>reservations</th></tr>
    ${agents.map((a) => {
      const mine = reservations.filter((r) => r.agent === a.name).map((r) => esc(r.glob)).join(" ");
      const state = a.state || "idle";
      return `<tr data-agent="${esc(a.name)}"><td>${esc(a.name)}</td>
        <td class="agent-state ${esc(state)}" title="${esc(AGENT_STATES[state] || "")}">${esc(state)}</td>
        <td>${esc(ago(a.last_seen))}</td><td>${esc(left(a.lease_expires_at))}</td>
        <td>${a.holding.map(taskLink).join(", ")}</td><td><code>${mine}</code></td></tr>`;
    }).join("") || '<tr><td colspan="6" class="muted">no agents yet: they appear on first use</td></tr>'}</table>
    <dl class="fields legend">${Object.entries(AGENT_STATES).map(([k, v]) => `<dt class="agent-state ${k}">${k}</dt><dd>${esc(v)}</dd>`).join("")}</dl>`;
}

async function showReservations() {
  const rs = await api("GET", "/api/v1/reservations");
  view.innerHTML = `<h1>Reservations</h1><table><tr><th>glob</th><th>mode</th><th>holder</th><th>task</th><th>expires</th><th>reason</th></tr>
    ${rs.map((r) => `<tr><td><code>${esc(r.glob)}</code></td><td>${esc(r.mode)}</td><td>${esc(r.agent)}</td>
      <td>${r.task ? taskLink(r.task) : ""}</td><td>${esc(left(r.expires_at))}</td><td>${esc(r.reason)}</td></tr>`).join("")
      || '<tr><td colspan="6" class="muted">no live reservations</td></tr>'}</table>`;
}

async function showDocs(query = "") {
  const hits = query
    ? await api("GET", `/api/v1/docs/search?q=${encodeURIComponent(query)}`)
    : await api("GET", "/api/v1/docs?limit=100");
  view.innerHTML = `<h1>Knowledge base</h1>
    <form id="search" class="filters"><input name="q" type="search" placeholder="search docs" aria-label="search docs" value="${esc(query)}">
      <button class="primary">Search</button></form>
    <table><tr><th>doc</th><th>type</th><th>title</th><th>${query ? "match" : "updated"}</th></tr>
    ${hits.map((h) => `<tr><td><a href="#/doc/${esc(h.id)}">${esc(h.id)}</a></td><td>${esc(h.type)}</td><td>${esc(h.title)}</td>
      <td>${query ? markdown(h.snippet || "") : esc(ago(h.updated_at))}</td></tr>`).join("")
      || '<tr><td colspan="4" class="muted">nothing found</td></tr>'}</table>`;
  $("#search").onsubmit = (e) => { e.preventDefault(); showDocs(e.target.q.value.trim()).catch(refused); };
}

async function showDoc(id) {
  const [doc, versions] = await Promise.all([api("GET", `/api/v1/docs/${id}`), api("GET", `/api/v1/docs/${id}/history`)]);
  view.innerHTML = `<h1>${esc(doc.id)} ${esc(doc.title)}</h1>
    <p class="muted">${esc(doc.type)} · by ${esc(doc.author)} · ${esc(ago(doc.updated_at))} · tags ${esc((doc.tags || []).join(", "))}
      · tasks ${(doc.tasks || []).map(taskLink).join(", ")}</p>
    <div class="detail"><div class="panel markdown">${markdown(doc.body)}</div>
    <div class="panel"><h3>Versions</h3>${versions.map((v) => `<p>v${esc(v.version)} by ${esc(v.author)} <span class="muted">${esc(ago(v.at || v.created_at))}</span></p>`).join("")}</div></div>
    <details class="panel"><summary>Edit</summary><form id="edit-doc">
      <input name="title" aria-label="title" value="${esc(doc.title)}" size="60">
      <textarea name="body" aria-label="text" rows="16">${esc(doc.body)}</textarea>
      <button class="primary">Save as v${doc.version + 1}</button></form></details>`;
  $("#edit-doc").onsubmit = async (e) => {
    e.preventDefault();
    try {
      await api("PATCH", `/api/v1/docs/${doc.id}`, { title: e.target.title.value, body: e.target.body.value });
      toast("saved", "info");
    } catch (err) { refused(err); }
    render();
  };
}

// The names a question to the person at the page may carry: the agent typed into "acting
// as", or else the person (by name in team mode, and as human) — and any.
function addresses() {
  return actor() ? [actor(), "any"] : [actingName(), "human", "any"];
}

function answerForm(m) {
  return `<form class="answer" data-id="${esc(m.id)}"><input name="body" aria-label="answer to ${esc(m.id)}" placeholder="your answer" required>
    <button class="primary">Answer</button></form>`;
}

function wireAnswers() {
  view.querySelectorAll("form.answer").forEach((f) => {
    f.onsubmit = async (e) => {
      e.preventDefault();
      try { await api("POST", `/api/v1/messages/${f.dataset.id}/answer`, { body: f.body.value }); toast("answered", "info"); } catch (err) { refused(err); }
      render();
    };
  });
}

// Questions with their answers under them: one row per thread's question.
async function showInbox(everyone = false) {
  const who = actingName();
  const mineTo = addresses();
  const messages = await api("GET", "/api/v1/messages?limit=1000");
  const answers = new Map();
  for (const m of messages) {
    if (m.reply_to) answers.set(m.reply_to, [...(answers.get(m.reply_to) || []), m]);
  }
  const mine = (q) => (mineTo.includes(q.to) && q.from !== who) || q.from === who;
  const questions = messages.filter((m) => !m.reply_to && (everyone || mine(m))).reverse();
  const row = (q) => {
    const replies = answers.get(q.id) || [];
    const answered = Boolean(q.answered_at) || replies.length > 0;
    const state = answered
      ? `<span class="ok">answered</span>${q.answered_by ? ` by ${esc(q.answered_by)}` : ""} <span class="muted">${esc(ago(q.answered_at))}</span>`
      : q.from === who ? '<span class="stale">waiting for an answer</span>' : answerForm(q);
    return `<tr data-message="${esc(q.id)}" class="${answered ? "answered" : "open"}"><td>${esc(q.id)}</td>
      <td>${esc(q.from)} → ${esc(q.to)}</td><td>${q.task ? taskLink(q.task) : ""}</td><td>${esc(ago(q.created_at))}</td>
      <td><div class="question">${esc(q.body)}</div>${replies.map((a) => `<div class="answer-text" data-answer="${esc(a.id)}"><b>${esc(a.from)}</b> <span class="muted">${esc(ago(a.created_at))}</span>: ${esc(a.body)}</div>`).join("")}</td>
      <td class="state">${state}</td></tr>`;
  };
  view.innerHTML = `<h1>${everyone ? "All messages" : `Inbox of ${esc(who)}`}</h1>
    <p class="tabs"><a href="#/inbox"${everyone ? "" : ' class="active"'}>Mine</a> · <a href="#/inbox/all" id="all-messages"${everyone ? ' class="active"' : ""}>All messages, between agents too</a></p>
    <table id="messages"><tr><th>message</th><th>from → to</th><th>task</th><th>when</th><th>question and answers</th><th>state</th></tr>
    ${questions.map(row).join("") || `<tr><td colspan="6" class="muted">${everyone ? "no messages on this board" : "no questions to you"}</td></tr>`}</table>`;
  wireAnswers();
}

const eventFilters = { actor: "", action: "", task: "" };

async function showEvents() {
  const q = new URLSearchParams({ limit: "300" });
  for (const [k, v] of Object.entries(eventFilters)) if (v) q.set(k, v);
  const events = (await api("GET", `/api/v1/events?${q}`)).reverse();
  view.innerHTML = `<h1>Events</h1><form id="ef" class="filters">
      <input name="actor" placeholder="actor" aria-label="actor" value="${esc(eventFilters.actor)}">
      <input name="action" placeholder="action, or prefix like task." aria-label="action" value="${esc(eventFilters.action)}">
      <input name="task" placeholder="T-1" aria-label="task" value="${esc(eventFilters.task)}">
      <button class="primary">Filter</button></form>
    <table><tr><th>#</th><th>when</th><th>who</th><th>what</th><th>task</th><th>detail</th></tr>
    ${events.map((e) => `<tr><td>${e.id}</td><td>${esc(e.at)}</td><td>${esc(e.actor)}</td><td>${esc(e.action)}</td>
      <td>${e.task ? taskLink(e.task) : ""}</td><td class="muted">${esc(JSON.stringify(e.detail)).slice(0, 160)}</td></tr>`).join("")}</table>`;
  $("#ef").onsubmit = (e) => {
    e.preventDefault();
    for (const k of Object.keys(eventFilters)) eventFilters[k] = e.target[k].value.trim();
    render();
  };
}

// ---- operations: sessions, the log live with filters, anomalies ----------------------------

const logFilters = { actor: "", action: "", level: "", session: "", text: "" };
const LEVELS = ["debug", "info", "warn", "error"];

function logRow(e) {
  const d = e.detail || {};
  const level = LEVELS.includes(d.level) ? d.level : "info";
  return `<tr data-log="${e.id}" class="level-${level}"><td class="muted">${esc(e.at.slice(11, 19))}</td>
    <td><span class="pill level-${level}">${esc(level)}</span></td><td>${esc(e.actor)}${d.kind ? ` <span class="muted">${esc(d.kind)}${d.tool ? ` · ${esc(d.tool)}` : ""}</span>` : ""}</td>
    <td>${esc(e.action.replace(/^log\./, ""))}</td><td>${esc(d.message || "")}</td>
    <td>${e.session ? `<a href="#/ops" data-session="${esc(e.session)}">${esc(e.session)}</a>` : ""}</td>
    <td>${e.task ? taskLink(e.task) : ""}</td></tr>`;
}

function sessionRow(x) {
  const state = x.ended_at ? `ended ${esc(ago(x.ended_at))}${x.end_reason ? ` (${esc(x.end_reason)})` : ""}` : `<span class="ok">open</span>`;
  return `<tr data-session-row="${esc(x.id)}"><td><a href="#/ops" data-session="${esc(x.id)}">${esc(x.id)}</a></td>
    <td>${esc(x.identity)}</td><td>${esc(x.kind)}${x.tool ? ` · ${esc(x.tool)}` : ""}</td><td>${esc(x.purpose || "")}</td>
    <td>${x.run ? `<a href="#/run/${esc(x.run)}">${esc(x.run)}</a>` : ""}</td><td>${esc(ago(x.started_at))}</td><td>${state}</td></tr>`;
}

function anomalyRow(a) {
  return `<tr data-anomaly="${esc(a.series)}"><td>${esc(new Date(a.at).toLocaleString())}</td><td>${esc(a.series)}</td>
    <td>${+a.value.toFixed(2)}</td><td>${+a.baseline.toFixed(2)} ± ${+a.stddev.toFixed(2)}</td>
    <td class="${a.score > 0 ? "stale" : "ok"}">${a.score > 0 ? "+" : ""}${a.score.toFixed(1)}σ</td></tr>`;
}

async function showOps() {
  const q = new URLSearchParams({ limit: "300" });
  const action = logFilters.action.toLowerCase().replace(/^log\./, "");
  q.set("action", action ? `log.${action}` : "log.");
  if (logFilters.actor) q.set("actor", logFilters.actor);
  if (logFilters.session) q.set("session", logFilters.session);
  const [entries, sessions, anomalies] = await Promise.all([
    api("GET", `/api/v1/events?${q}`),
    api("GET", "/api/v1/sessions?limit=30"),
    api("GET", "/api/v1/operations/anomalies?since=24h"),
  ]);
  const text = logFilters.text.toLowerCase();
  const shown = entries.reverse().filter((e) =>
    (!logFilters.level || (e.detail?.level || "info") === logFilters.level) &&
    (!text || String(e.detail?.message || "").toLowerCase().includes(text)));
  const open = sessions.filter((x) => !x.ended_at).length;
  view.innerHTML = `<h1>Operations</h1>
    <div class="panel" id="anomalies"><h3>Anomalies, last 24 hours <span class="muted">(more than 3σ from the baseline)</span></h3>
      ${anomalies.length ? `<table><tr><th>when</th><th>series</th><th>value</th><th>baseline</th><th>score</th></tr>${anomalies.slice(0, 50).map(anomalyRow).join("")}</table>`
        : `<p class="muted">Nothing sits far from its baseline: event rates, run times, tokens and cost look usual.</p>`}</div>
    <div class="panel" id="sessions"><h3>Sessions <span class="muted">${open} open</span></h3>
      ${sessions.length ? `<table><tr><th>session</th><th>who</th><th>kind</th><th>purpose</th><th>run</th><th>started</th><th>state</th></tr>${sessions.map(sessionRow).join("")}</table>`
        : `<p class="muted">No sessions yet: <code>baton session start</code>; every run of the runner is one.</p>`}</div>
    <div class="panel" id="log"><h3>Log <span class="muted">live, newest first${logFilters.session ? ` · session ${esc(logFilters.session)} <a href="#/ops" data-session="">all sessions</a>` : ""}</span></h3>
      <form id="lf" class="filters">
        <input name="actor" placeholder="who" aria-label="who" value="${esc(logFilters.actor)}">
        <input name="action" placeholder="action (build)" aria-label="action" value="${esc(logFilters.action)}">
        <select name="level" aria-label="level"><option value="">any level</option>${LEVELS.map((l) => `<option${l === logFilters.level ? " selected" : ""}>${l}</option>`).join("")}</select>
        <input name="session" placeholder="S-3" aria-label="session" size="6" value="${esc(logFilters.session)}">
        <input name="text" placeholder="message contains" aria-label="message contains" value="${esc(logFilters.text)}">
        <button class="primary">Filter</button></form>
      ${shown.length ? `<table id="log-entries"><tr><th>at</th><th>level</th><th>who</th><th>action</th><th>message</th><th>session</th><th>task</th></tr>${shown.map(logRow).join("")}</table>`
        : `<p class="muted">No log entries${entries.length ? " match" : " yet: <code>baton log \"Build started\" --action BUILD</code>"}.</p>`}</div>`;
  $("#lf").onsubmit = (e) => {
    e.preventDefault();
    for (const k of Object.keys(logFilters)) logFilters[k] = e.target[k].value.trim();
    render();
  };
  view.querySelectorAll("[data-session]").forEach((a) => {
    a.onclick = (e) => { e.preventDefault(); logFilters.session = a.dataset.session; render(); };
  });
}

// ---- the plan: initiatives, phases, reviews, proposals, pages --------------------------

function progress(done, total) {
  return `<progress value="${done}" max="${total || 1}" title="${done} of ${total}"></progress> ${done}/${total}`;
}

function gate(p) {
  return p.open ? '<span class="ok">gate open</span>' : '<span class="stale">gate closed</span>';
}

function mergeState(m) {
  return m ? ` <span class="merge-state ${esc(m.state)}" title="${esc(m.id)}">${esc(m.state === "merged" ? "merged" : `merge ${m.state}`)}</span>` : "";
}

async function showPlan() {
  const initiatives = await api("GET", "/api/v1/initiatives");
  const [phases, proposals, merges] = await Promise.all([
    api("GET", "/api/v1/phases"), api("GET", "/api/v1/proposals?status=pending"),
    api("GET", "/api/v1/merges?limit=200")]);
  const errands = await api("GET", "/api/v1/errands");
  // The newest merge of a phase or initiative says where its branch stands.
  const mergeOf = (kind, id) => merges.find((m) => m.kind === kind && m[kind] === id);
  const conflictsIn = (phase) => merges.filter((m) => m.state === "conflict" && m.phase === phase).length;
  const waiting = merges.filter((m) => ["conflict", "failed"].includes(m.state));
  const pages = await Promise.all(initiatives.map((i) => api("GET", `/api/v1/initiatives/${i.id}/pages`)));
  view.innerHTML = `<h1>Initiatives</h1>
    ${initiatives.length ? "" : '<p class="muted">No initiatives yet: <code>baton initiative add NAME</code>.</p>'}
    ${initiatives.map((i, n) => `<section class="initiative" data-initiative="${esc(i.id)}">
      <h2>${esc(i.id)} ${esc(i.name)} <span class="muted">${esc(i.status)} · <code>${esc(i.branch)}</code>${mergeState(mergeOf("initiative", i.id))} ·
        phases ${progress(i.progress.completed, i.progress.total)}</span>
        ${i.status === "pending_review" ? `<button class="primary" data-approve-initiative="${esc(i.id)}">Approve initiative</button>` : ""}</h2>
      ${i.description ? `<div class="markdown muted">${markdown(i.description)}</div>` : ""}
      <div class="lanes">${phases.filter((p) => p.initiative === i.id).map((p) => `
        <div class="lane phase" data-phase="${esc(p.id)}" data-status="${esc(p.status)}">
          <h3><a href="#/phase/${esc(p.id)}">${esc(p.id)}</a> ${esc(p.name)}</h3>
          <p>${esc(p.status.replace("_", " "))} · ${gate(p)}</p>
          <p class="branch"><code>${esc(i.branch)}--${esc(p.id)}</code>${mergeState(mergeOf("phase", p.id))}
            ${conflictsIn(p.id) ? `<span class="stale">${conflictsIn(p.id)} conflict(s) waiting</span>` : ""}
            · <a href="#/diff/${esc(p.id)}">diff</a></p>
          <p>tasks ${progress(p.tasks.finished, p.tasks.total)}${p.tasks.in_progress ? ` · ${p.tasks.in_progress} in progress` : ""}</p>
          ${p.depends_on.length ? `<p class="muted">after ${p.depends_on.map((d) => `<a href="#/phase/${esc(d)}">${esc(d)}</a>`).join(", ")}</p>` : ""}
          ${p.open_comments ? `<p class="stale">${p.open_comments} open comments</p>` : ""}
        </div>`).join("") || '<p class="muted">no phases</p>'}</div>
      ${pages[n].length ? `<p>Pages: ${pages[n].map((g) => `<a href="#/doc/${esc(g.doc)}">${esc(g.title)}</a>`).join(" · ")}</p>` : ""}
    </section>`).join("")}
    <h2>Merges</h2>
    ${waiting.length ? `<p class="stale" id="merges-waiting">${waiting.length} merge(s) need a person or a merge task</p>` : ""}
    <table id="merges"><tr><th>merge</th><th>of</th><th>source → target</th><th>state</th><th>note</th><th></th></tr>
    ${merges.slice(0, 50).map((m) => `<tr data-merge="${esc(m.id)}"><td>${esc(m.id)}</td>
      <td>${m.task ? taskLink(m.task) : m.phase ? `<a href="#/phase/${esc(m.phase)}">${esc(m.phase)}</a>` : esc(m.initiative || "")}</td>
      <td><code>${esc(m.source)}</code> → <code>${esc(m.target)}</code></td>
      <td class="merge-state ${esc(m.state)}">${esc(m.state)}</td>
      <td>${m.state === "conflict" ? `${m.conflicts.length} file(s): ${esc(m.conflicts.slice(0, 3).join(", "))}${m.merge_task ? ` · resolving in ${taskLink(m.merge_task)}` : ""}`
        : esc(m.error || (m.result ? m.result.slice(0, 10) : ""))}</td>
      <td>${["failed", "conflict", "skipped"].includes(m.state) ? `<button data-retry-merge="${esc(m.id)}">Retry</button>` : ""}</td></tr>`).join("")
      || '<tr><td colspan="6" class="muted">no merges yet: approving work a runner did queues one</td></tr>'}</table>
    <h2>Errands</h2>
    <form id="new-errand" class="filters">
      <input name="title" aria-label="what the errand is" placeholder="a small change: fix the typo in README" size="50" required>
      <input name="provider" aria-label="agent CLI" value="claude" size="10">
      <button class="primary">Start errand</button>
      <span class="muted">a runner for that agent CLI picks it up (<code>baton runner --provider claude</code>)</span></form>
    <table id="errands"><tr><th>errand</th><th>status</th><th>branch</th><th>agent</th><th>what</th><th></th></tr>
    ${errands.map((e) => `<tr data-errand="${esc(e.id)}"><td>${esc(e.id)}</td>
      <td class="merge-state ${e.status === "conflict" ? "conflict" : e.status === "merged" ? "merged" : "pending"}">${esc(e.status.replace("_", " "))}
        ${e.request ? `<br><span class="muted">${esc(e.request)}: ${e.claimed_by ? "a runner is on it" : "waiting for a runner"}</span>` : ""}</td>
      <td><code>${esc(e.branch)}</code> → <code>${esc(e.base_branch)}</code></td><td>${esc(e.agent || e.provider || "")}</td>
      <td>${esc(e.title.slice(0, 120))}${(e.conflicts || []).length ? ` <span class="stale">conflicts: ${esc(e.conflicts.slice(0, 3).join(", "))}</span>` : ""}
        ${e.reason ? ` <span class="muted">${esc(e.reason)}</span>` : ""}
        ${e.reply ? `<br><span class="muted reply">${esc(e.reply.slice(0, 200))}</span>` : ""}</td>
      <td><a href="#/diff/${esc(e.id)}">review</a>${errandActions(e)}</td></tr>`).join("")
      || '<tr><td colspan="6" class="muted">no errands yet</td></tr>'}</table>
    <h2>Proposals</h2>
    <table id="proposals"><tr><th>proposal</th><th>initiative</th><th>target</th><th>title</th><th>by</th><th></th></tr>
    ${proposals.map((p) => `<tr data-proposal="${esc(p.id)}"><td>${esc(p.id)}</td><td>${esc(p.initiative)}</td>
      <td>${esc(p.target)} ${esc(p.target_id || "(new)")}</td>
      <td><details><summary>${esc(p.title)}</summary><div class="markdown">${markdown(p.summary)}</div>
        <pre>${esc(JSON.stringify(p.content, null, 2))}</pre></details></td><td>${esc(p.author)}</td>
      <td><button class="primary" data-accept="${esc(p.id)}">Accept</button> <button data-dismiss="${esc(p.id)}">Dismiss</button></td></tr>`).join("")
      || '<tr><td colspan="6" class="muted">no pending proposals</td></tr>'}</table>`;
  view.querySelectorAll("[data-accept], [data-dismiss]").forEach((b) => {
    b.onclick = async () => {
      const id = b.dataset.accept || b.dataset.dismiss;
      try {
        await api("POST", `/api/v1/proposals/${id}/decide`, { accept: Boolean(b.dataset.accept) });
        toast(`${id} ${b.dataset.accept ? "accepted" : "dismissed"}`, "info");
      } catch (err) { refused(err); }
      render();
    };
  });
  $("#new-errand").onsubmit = async (e) => {
    e.preventDefault();
    const body = { title: e.target.title.value.trim(), provider: e.target.provider.value.trim() || null };
    try {
      const made = await api("POST", "/api/v1/errands", body);
      toast(`${made.id} waits for a ${body.provider || "any"} runner`, "info");
    } catch (err) { refused(err); }
    render();
  };
  wireErrandActions(view);
  view.querySelectorAll("[data-retry-merge]").forEach((b) => {
    b.onclick = async () => {
      try { await api("POST", `/api/v1/merges/${b.dataset.retryMerge}/retry`, {}); toast(`${b.dataset.retryMerge} queued again`, "info"); } catch (err) { refused(err); }
      render();
    };
  });
  view.querySelectorAll("[data-approve-initiative]").forEach((b) => {
    b.onclick = async () => {
      try { await api("POST", `/api/v1/initiatives/${b.dataset.approveInitiative}/approve`, {}); } catch (err) { refused(err); }
      render();
    };
  });
}

// Merge and abandon buttons for an errand, where its lifecycle allows them.
function errandActions(e) {
  if (e.request) return "";
  const out = [];
  if (["pending_review", "conflict"].includes(e.status)) out.push(`<button data-errand-merge="${esc(e.id)}">Merge</button>`);
  if (!["merged", "abandoned"].includes(e.status)) out.push(`<button data-errand-abandon="${esc(e.id)}">Abandon</button>`);
  return out.length ? ` ${out.join(" ")}` : "";
}

function wireErrandActions(root) {
  root.querySelectorAll("[data-errand-merge]").forEach((b) => {
    b.onclick = async () => {
      const id = b.dataset.errandMerge;
      try { await api("POST", `/api/v1/errands/${id}/request`, { ask: "merge" }); toast(`${id}: merge asked of a runner`, "info"); } catch (err) { refused(err); }
      render();
    };
  });
  root.querySelectorAll("[data-errand-abandon]").forEach((b) => {
    b.onclick = async () => {
      const id = b.dataset.errandAbandon;
      try { await api("PATCH", `/api/v1/errands/${id}`, { status: "abandoned" }); toast(`${id} abandoned; its branch is kept`, "info"); } catch (err) { refused(err); }
      render();
    };
  });
}

// The conversation with the agent behind a task (its last run's) or an errand: what was
// asked and what it answered; a message resumes its session through a runner.
async function chatPanel(kind, id) {
  if (kind === "E") {
    const events = await api("GET", "/api/v1/events?action=errand.&limit=2000");
    const said = events.filter((e) => e.detail.errand === id
      && ((e.action === "errand.requested" && e.detail.ask === "chat") || (e.action === "errand.replied" && e.detail.reply)));
    return said.map((e) => e.action === "errand.requested"
      ? `<p><b>${esc(e.actor)}</b>: ${esc(e.detail.text)}</p>`
      : `<p><b>agent</b>: ${esc(e.detail.reply)}</p>`).join("");
  }
  const inbox = await api("GET", "/api/v1/messages/inbox?all=true");
  return inbox.filter((m) => m.task === id).map((m) => `<p><b>${esc(m.from)}</b>: ${esc(m.body)}</p>`).join("");
}

async function movePhase(id, action, reason) {
  const body = { action };
  if (reason) body.reason = reason;
  const out = await api("POST", `/api/v1/phases/${id}/move`, body);
  if (out.revision) toast(`revision task ${out.revision.id} added`, "info");
  for (const p of out.opened || []) toast(`${p} is open`, "info");
  return out;
}

async function showPhase(id) {
  const [phase, tasks, comments] = await Promise.all([
    api("GET", `/api/v1/phases/${id}`),
    api("GET", `/api/v1/tasks?phase=${encodeURIComponent(id)}`),
    api("GET", `/api/v1/comments?phase=${encodeURIComponent(id)}`)]);
  const threads = comments.filter((c) => !c.reply_to);
  const place = (c) => c.file ? `<code>${esc(c.file)}${c.line ? `:${esc(c.line)}` : ""}</code>${c.side ? ` <span class="muted">${esc(c.side)}</span>` : ""}` : "";
  view.innerHTML = `<h1>${esc(phase.id)} ${esc(phase.name)} <span class="muted">${esc(phase.status.replace("_", " "))} · ${gate(phase)}
      · of <a href="#/plan">${esc(phase.initiative)}</a></span></h1>
    ${phase.blocked_reason ? `<p class="stale">blocked: ${esc(phase.blocked_reason)}</p>` : ""}
    <div class="actions" id="phase-actions">
      <a href="#/diff/${esc(phase.id)}" id="review-diff">Review the diff</a>
      ${["pending", "pending_review"].includes(phase.status) ? `<button class="primary" id="approve-phase">Approve</button>` : ""}
      ${phase.status === "pending_review" ? `<form id="changes" class="filters"><input name="reason" aria-label="what to change" placeholder="what to change" size="40">
        <button>Request changes</button></form>` : ""}
    </div>
    <div class="detail"><div class="panel markdown">${phase.content ? markdown(phase.content) : '<p class="muted">no description</p>'}</div>
    <div class="panel"><h3>Tasks ${progress(phase.tasks.finished, phase.tasks.total)}</h3>
      <table id="phase-tasks"><tr><th>task</th><th>status</th><th>title</th><th>summary</th></tr>
      ${tasks.map((t) => `<tr data-task="${esc(t.id)}"><td>${taskLink(t.id)}</td><td>${esc(t.status)}</td><td>${esc(t.title)}</td>
        <td class="summary">${esc(t.summary || "")}</td></tr>`).join("")}</table></div></div>
    <h2>Review comments <span class="muted">${phase.open_comments} open</span></h2>
    <div id="comments">${threads.map((c) => `<div class="panel comment${c.resolved ? " resolved" : ""}" data-comment="${esc(c.id)}">
        <p><b>${esc(c.author)}</b> ${place(c)} <span class="muted">${esc(c.id)} · ${esc(ago(c.created_at))}</span>
          <button data-resolve="${esc(c.id)}" data-to="${c.resolved ? "false" : "true"}">${c.resolved ? "Reopen" : "Resolve"}</button></p>
        <p class="body">${esc(c.body)}</p>
        ${comments.filter((r) => r.reply_to === c.id).map((r) => `<p class="reply"><b>${esc(r.author)}</b>: ${esc(r.body)}</p>`).join("")}
      </div>`).join("") || '<p class="muted">no comments</p>'}</div>
    <form id="comment" class="panel"><h3>Comment</h3>
      <input name="file" placeholder="file (optional)" aria-label="file"> <input name="line" type="number" min="1" placeholder="line" aria-label="line">
      <select name="side" aria-label="side"><option value="">side</option><option>added</option><option>removed</option><option>context</option></select>
      <textarea name="body" aria-label="comment" required rows="3"></textarea><button class="primary">Add comment</button></form>`;
  const reload = () => render();
  const approve = $("#approve-phase");
  if (approve) approve.onclick = async () => { try { await movePhase(id, "approve"); } catch (err) { refused(err); } reload(); };
  const changes = $("#changes");
  if (changes) changes.onsubmit = async (e) => {
    e.preventDefault();
    try { await movePhase(id, "request_changes", e.target.reason.value.trim()); } catch (err) { refused(err); }
    reload();
  };
  view.querySelectorAll("[data-resolve]").forEach((b) => {
    b.onclick = async () => {
      try { await api("POST", `/api/v1/comments/${b.dataset.resolve}/resolve`, { resolved: b.dataset.to === "true" }); } catch (err) { refused(err); }
      reload();
    };
  });
  $("#comment").onsubmit = async (e) => {
    e.preventDefault();
    const f = e.target;
    const body = { phase: id, body: f.body.value };
    if (f.file.value.trim()) body.file = f.file.value.trim();
    if (f.line.value) body.line = Number(f.line.value);
    if (f.side.value) body.side = f.side.value;
    try { await api("POST", "/api/v1/comments", body); } catch (err) { refused(err); }
    reload();
  };
}

// ---- diff review ------------------------------------------------------------------------

// A comment's place on a diff line: added lines by their new number, removed by the old,
// context by the new.
function lineSide(l) {
  return l.kind === "+" ? ["added", l.new] : l.kind === "-" ? ["removed", l.old] : ["context", l.new];
}

function thread(c, replies) {
  return `<div class="comment${c.resolved ? " resolved" : ""}" data-comment="${esc(c.id)}">
    <p><b>${esc(c.author)}</b> <span class="muted">${esc(c.id)} · ${esc(ago(c.created_at))}</span>
      <button data-resolve="${esc(c.id)}" data-to="${c.resolved ? "false" : "true"}">${c.resolved ? "Unresolve" : "Resolve"}</button></p>
    <p class="body">${esc(c.body)}</p>
    ${replies.map((r) => `<p class="reply"><b>${esc(r.author)}</b>: ${esc(r.body)}</p>`).join("")}
    <form class="reply-form" data-reply="${esc(c.id)}"><input name="body" aria-label="reply" placeholder="reply" required>
      <button>Reply</button></form></div>`;
}

// A large diff draws its first files at once and the rest as they scroll near (or are
// jumped to): a 2,000-file phase is one screen to draw, not 2,000 tables.
const EAGER_LINES = 2000;

function diffRows(f, threadsAt) {
  const rows = [];
  for (const h of f.hunks) {
    rows.push(`<tr class="hunk"><td colspan="3">${esc(h.header)}</td></tr>`);
    for (const l of h.lines) {
      const [side, line] = lineSide(l);
      const cls = l.kind === "+" ? "add" : l.kind === "-" ? "del" : "ctx";
      const button = `<button class="add-comment" title="comment on this line" aria-label="comment on ${esc(f.path)} line ${line}">${line}</button>`;
      rows.push(`<tr class="${cls}" data-line="${line}" data-side="${side}"><td class="ln">${l.kind === "-" ? button : l.old ?? ""}</td>
        <td class="ln">${l.kind === "-" ? "" : button}</td>
        <td class="code">${l.kind === " " ? "&nbsp;" : esc(l.kind)}${esc(l.text)}</td></tr>`);
      const here = threadsAt(f.path, line, side);
      if (here) rows.push(`<tr class="threads"><td colspan="3">${here}</td></tr>`);
    }
  }
  return rows.length ? `<table class="diff">${rows.join("")}</table>` : "";
}

function fileLines(f) {
  return f.hunks.reduce((n, h) => n + h.lines.length + 1, 0);
}

function diffFile(f, index, threadsAt, eager) {
  const lines = fileLines(f);
  const body = eager ? diffRows(f, threadsAt)
    : lines ? `<div class="lazy" data-lazy="${index}" data-lines="${lines}">${lines} lines</div>` : "";
  const note = f.binary ? "binary file" : f.truncated ? "left out: the diff is too large to show whole" : f.hunks.length ? "" : "no lines changed";
  return `<section class="diff-file panel" data-file="${esc(f.path)}" id="file-${index}">
    <h3><code>${f.old_path ? `${esc(f.old_path)} → ` : ""}${esc(f.path)}</code> <span class="muted">${esc(f.status)}</span>
      <span class="ok">+${f.added}</span> <span class="stale">−${f.removed}</span></h3>
    ${note ? `<p class="muted">${note}</p>` : ""}
    ${body}</section>`;
}

async function showDiff(id) {
  const kind = id[0].toUpperCase();
  const target = kind === "P" ? "phase" : kind === "T" ? "task" : null;
  const [diff, subject, comments] = await Promise.all([
    api("GET", `/api/v1/diff/${encodeURIComponent(id)}`),
    kind === "P" ? api("GET", `/api/v1/phases/${id}`) : kind === "T" ? api("GET", `/api/v1/tasks/${id}`)
      : kind === "E" ? api("GET", `/api/v1/errands/${id}`) : api("GET", `/api/v1/initiatives/${id}`),
    target ? api("GET", `/api/v1/comments?${target}=${encodeURIComponent(id)}`) : Promise.resolve([])]);
  const talk = kind === "E" || kind === "T";
  const said = talk ? await chatPanel(kind, id) : "";
  const replies = (c) => comments.filter((r) => r.reply_to === c.id);
  const tops = comments.filter((c) => !c.reply_to);
  const placed = new Map();
  const general = [];
  for (const c of tops) {
    if (c.file && c.line) {
      const key = `${c.file}\n${c.line}\n${c.side || "added"}`;
      placed.set(key, (placed.get(key) || "") + thread(c, replies(c)));
    } else general.push(c);
  }
  const onDiff = new Set();
  for (const f of diff.files) {
    for (const h of f.hunks) {
      for (const l of h.lines) {
        const [side, line] = lineSide(l);
        onDiff.add(`${f.path}\n${line}\n${side}`);
      }
    }
  }
  const threadsAt = (file, line, side) => placed.get(`${file}\n${line}\n${side}`);
  const added = diff.files.reduce((n, f) => n + f.added, 0);
  const removed = diff.files.reduce((n, f) => n + f.removed, 0);
  let budget = EAGER_LINES;
  const files = diff.files.map((f, i) => {
    // A file with comments on it is drawn at once, so its threads are there to read.
    const eager = budget > 0 || [...placed.keys()].some((k) => k.startsWith(`${f.path}\n`));
    if (eager) budget -= fileLines(f);
    return diffFile(f, i, threadsAt, eager);
  }).join("");
  // Comments on lines the diff no longer shows stay visible with the general ones.
  for (const c of tops) {
    if (c.file && c.line && !onDiff.has(`${c.file}\n${c.line}\n${c.side || "added"}`)) general.push(c);
  }
  const status = subject.status || "";
  const canApprove = (kind === "P" && ["pending", "pending_review"].includes(status)) || (kind === "T" && status === "review")
    || (kind === "I" && status === "pending_review");
  const canRequest = (kind === "P" && status === "pending_review") || (kind === "T" && status === "review");
  const back = kind === "P" ? `#/phase/${id}` : kind === "T" ? `#/task/${id}` : "#/plan";
  view.innerHTML = `<h1>Review <a href="${back}">${esc(diff.of)}</a> ${esc(subject.name || subject.title || "")}
      <span class="muted">${esc(status.replace("_", " "))}</span></h1>
    <p class="muted" id="diff-summary">${diff.files.length} files · <span class="ok">+${added}</span> <span class="stale">−${removed}</span>
      · <code>${esc(diff.from.slice(0, 10))}..${esc(diff.to.slice(0, 10))}</code> (${diff.basis === "merged" ? "as merged" : "branch against its base"})
      ${diff.truncated ? " · some files are too large to show" : ""}</p>
    <div class="actions" id="review-actions">
      ${canApprove ? `<button class="primary" id="approve">Approve</button>` : ""}
      ${canRequest ? `<form id="request" class="filters"><input name="reason" aria-label="what to change" placeholder="what to change" size="40">
        <button>Request changes</button></form>` : ""}
    </div>
    ${kind === "E" ? `<div class="actions" id="errand-actions">${esc(subject.title)}
      ${subject.request ? `<span class="muted">${esc(subject.request)}: ${subject.claimed_by ? "a runner is on it" : "waiting for a runner"}</span>` : errandActions(subject)}</div>` : ""}
    ${talk ? `<div class="panel" id="chat"><h3>Talk to the agent</h3><div id="chat-log">${said || '<p class="muted">nothing said yet</p>'}</div>
      ${kind === "E" && subject.status === "merged" ? "" : `<form id="chat-form" class="filters"><input name="message" aria-label="message to the agent" placeholder="use the existing session store" size="50" required>
        <button>Send</button></form>`}</div>` : ""}
    ${general.length ? `<div class="panel" id="general"><h3>Comments</h3>${general.map((c) => thread(c, replies(c))).join("")}</div>` : ""}
    <nav class="diff-index panel">${diff.files.map((f, i) => `<a href="#/diff/${esc(id)}" data-jump="file-${i}">${esc(f.path)}</a>`).join(" ")}</nav>
    <div id="diff">${files || '<p class="muted">no changes</p>'}</div>`;
  const reload = () => render();
  wireErrandActions(view);
  const chat = $("#chat-form");
  if (chat) chat.onsubmit = async (e) => {
    e.preventDefault();
    const message = e.target.message.value.trim();
    try {
      if (kind === "E") await api("POST", `/api/v1/errands/${id}/request`, { ask: "chat", message });
      else await api("POST", "/api/v1/messages", { task: id, body: message });
      toast(`sent; a runner resumes the agent's session to answer`, "info");
    } catch (err) { refused(err); }
    reload();
  };
  const approve = $("#approve");
  if (approve) approve.onclick = async () => {
    try {
      if (kind === "P") await movePhase(id, "approve");
      else if (kind === "T") await api("POST", `/api/v1/tasks/${id}/approve`, {});
      else await api("POST", `/api/v1/initiatives/${id}/approve`, {});
      toast(`${id} approved`, "info");
    } catch (err) { refused(err); }
    reload();
  };
  const request = $("#request");
  if (request) request.onsubmit = async (e) => {
    e.preventDefault();
    const reason = e.target.reason.value.trim();
    try {
      if (kind === "P") await movePhase(id, "request_changes", reason);
      else {
        const open = tops.filter((c) => !c.resolved).map((c) => `- ${c.file ? `${c.file}:${c.line} ` : ""}${c.body}`);
        const feedback = [reason, ...open].filter(Boolean).join("\n");
        if (!feedback) throw new Error("say what to change, or comment on lines first");
        // Back to the queue: the runner that did it resumes its session with the review.
        await api("POST", `/api/v1/tasks/${id}/reject`, { feedback, to: "open" });
      }
      toast(`changes requested on ${id}`, "info");
    } catch (err) { refused(err); }
    reload();
  };
  const wireThreads = (root) => {
    root.querySelectorAll("[data-resolve]").forEach((b) => {
      b.onclick = async () => {
        try { await api("POST", `/api/v1/comments/${b.dataset.resolve}/resolve`, { resolved: b.dataset.to === "true" }); } catch (err) { refused(err); }
        reload();
      };
    });
    root.querySelectorAll("form.reply-form").forEach((f) => {
      f.onsubmit = async (e) => {
        e.preventDefault();
        try { await api("POST", "/api/v1/comments", { reply_to: f.dataset.reply, body: f.body.value }); } catch (err) { refused(err); }
        reload();
      };
    });
  };
  const draw = (lazy) => {
    if (!lazy.isConnected) return;
    const f = diff.files[Number(lazy.dataset.lazy)];
    const holder = document.createElement("div");
    holder.innerHTML = diffRows(f, threadsAt);
    const table = holder.firstElementChild;
    if (!table) { lazy.remove(); return; }
    lazy.replaceWith(table);
    wireThreads(table);
  };
  // Watched by their file's section: a placeholder sits inside a section the browser skips
  // while it is off screen (content-visibility), where its own box is not laid out.
  const near = new IntersectionObserver((seen) => {
    for (const e of seen) {
      if (!e.isIntersecting) continue;
      near.unobserve(e.target);
      const lazy = e.target.querySelector("[data-lazy]");
      if (lazy) draw(lazy);
    }
  }, { rootMargin: "1500px 0px" });
  view.querySelectorAll("[data-lazy]").forEach((el) => {
    // About as tall as its lines will be, so the page scrolls as it will once drawn (set
    // through the style object: the page's policy refuses style attributes in markup).
    el.style.minHeight = `${Math.min(Number(el.dataset.lines), 400) * 17}px`;
    near.observe(el.closest(".diff-file"));
  });
  view.querySelectorAll("[data-jump]").forEach((a) => {
    a.onclick = (e) => {
      e.preventDefault();
      const file = document.getElementById(a.dataset.jump);
      const lazy = file?.querySelector("[data-lazy]");
      if (lazy) draw(lazy);
      file?.scrollIntoView();
    };
  });
  wireThreads(view);
  if (!target) return;
  $("#diff").onclick = (e) => {
    const b = e.target.closest("button.add-comment");
    if (!b) return;
    const row = b.closest("tr");
    if (row.nextElementSibling?.classList.contains("new-comment")) return;
    const file = row.closest(".diff-file").dataset.file;
    const form = document.createElement("tr");
    form.className = "new-comment";
    form.innerHTML = `<td colspan="3"><form><textarea name="body" aria-label="comment on ${esc(file)} line ${esc(row.dataset.line)}" required rows="3"></textarea>
      <button class="primary">Comment</button> <button type="button" class="cancel">Cancel</button></form></td>`;
    row.after(form);
    form.querySelector("textarea").focus();
    form.querySelector(".cancel").onclick = () => form.remove();
    form.querySelector("form").onsubmit = async (ev) => {
      ev.preventDefault();
      const body = { [target]: id, file, line: Number(row.dataset.line), side: row.dataset.side, body: ev.target.body.value };
      try { await api("POST", "/api/v1/comments", body); } catch (err) { refused(err); }
      reload();
    };
  };
}

// ---- code explorer ---------------------------------------------------------------------

function fileLink(file, line) {
  return `<a href="#/code/file/${encodeURIComponent(file)}">${esc(file)}${line ? `:${line}` : ""}</a>`;
}

function countTable(id, head, rows) {
  return `<table id="${id}"><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr>
    ${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("") || `<tr><td colspan="${head.length}" class="muted">none</td></tr>`}</table>`;
}

// The index summary as tables: totals, languages, kinds of symbols, the most imported
// files and the external modules.
function codeSummary(s) {
  const n = (v) => Number(v || 0).toLocaleString("en");
  const skipped = [["large", s.skipped_large], ["binary", s.skipped_binary], ["unreadable", s.skipped_unreadable], ["folders", s.skipped_folders]]
    .filter(([, v]) => v).map(([k, v]) => `${n(v)} ${k}`).join(", ");
  return `<div class="summary" id="code-summary">
    <div class="panel"><h3>Index</h3><dl class="fields">
      <dt>files</dt><dd data-field="files">${n(s.files)}</dd>
      <dt>symbols</dt><dd data-field="symbols">${n(s.symbols)}</dd>
      <dt>imports</dt><dd data-field="imports">${n(s.imports)} <span class="muted">(${n(s.resolved_imports)} resolved to project files)</span></dd>
      <dt>skipped</dt><dd>${skipped || '<span class="muted">nothing</span>'}</dd>
      <dt>scanned</dt><dd>${s.scanned_at ? esc(ago(new Date(s.scanned_at * 1000).toISOString())) : '<span class="muted">never: run <code>baton scan</code></span>'}</dd>
      <dt>commit</dt><dd>${s.git_head ? `<code>${esc(s.git_head.slice(0, 12))}</code>` : '<span class="muted">—</span>'}</dd></dl></div>
    <div class="panel"><h3>Languages</h3>${countTable("code-languages", ["language", "files", "symbols"],
      (s.languages || []).map((l) => [esc(l.language), n(l.files), n(l.symbols)]))}</div>
    <div class="panel"><h3>Symbols by kind</h3>${countTable("code-kinds", ["kind", "count"],
      Object.entries(s.kinds || {}).sort((a, b) => b[1] - a[1]).map(([k, v]) => [esc(k), n(v)]))}</div>
    <div class="panel"><h3>Most imported files</h3>${countTable("code-most-imported", ["file", "imported by"],
      (s.most_imported || []).map((c) => [fileLink(c.name), n(c.count)]))}</div>
    <div class="panel"><h3>External modules</h3>${countTable("code-external", ["module", "files"],
      (s.external || []).map((c) => [`<code>${esc(c.name)}</code>`, n(c.count)]))}</div>
  </div>`;
}

async function showCode(query = "") {
  const summary = await api("GET", "/api/v1/code/summary");
  const found = query ? await api("GET", `/api/v1/code/symbols?name=${encodeURIComponent(query)}&limit=200`) : [];
  view.innerHTML = `<h1>Code</h1>
    ${codeSummary(summary)}
    <form id="cs" class="filters"><input name="q" type="search" placeholder="symbol name (=Exact for exact)" aria-label="symbol name" value="${esc(query)}">
      <button class="primary">Find</button></form>
    <table><tr><th>symbol</th><th>kind</th><th>in</th><th>where</th><th>signature</th></tr>
    ${found.map((s) => `<tr><td><strong>${esc(s.name)}</strong></td><td>${esc(s.kind)}</td><td>${esc(s.container)}</td>
      <td>${fileLink(s.file, s.line)}</td><td><code>${esc(s.signature)}</code></td></tr>`).join("")
      || `<tr><td colspan="5" class="muted">${query ? "no symbol matches" : "search the index built by baton scan"}</td></tr>`}</table>`;
  $("#cs").onsubmit = (e) => { e.preventDefault(); showCode(e.target.q.value.trim()).catch(refused); };
}

async function showFile(file) {
  const path = encodeURIComponent(file);
  const [outline, imports, dependents] = await Promise.all([
    api("GET", `/api/v1/code/outline?file=${path}`),
    api("GET", `/api/v1/code/imports?file=${path}`),
    api("GET", `/api/v1/code/dependents?file=${path}&depth=2`),
  ]);
  view.innerHTML = `<h1><a href="#/code">Code</a> / ${esc(file)}</h1><div class="detail"><div class="panel"><h3>Outline</h3><table>
    ${outline.map((s) => `<tr><td>${esc(s.line)}</td><td>${esc(s.kind)}</td><td>${s.container ? `${esc(s.container)}.` : ""}<strong>${esc(s.name)}</strong></td>
      <td><code>${esc(s.signature)}</code></td></tr>`).join("") || '<tr><td class="muted">no symbols</td></tr>'}</table></div>
    <div><div class="panel"><h3>Imports</h3>${imports.map((i) => `<p>${i.resolved ? fileLink(i.resolved) : `<code>${esc(i.module || i.source || i.path || "")}</code>`}
      <span class="muted">${esc((i.names || []).join(", "))}</span></p>`).join("") || '<p class="muted">none</p>'}</div>
    <div class="panel"><h3>Dependents</h3>${dependents.map((d) => `<p>${fileLink(d.file)} <span class="muted">depth ${esc(d.depth)}</span></p>`).join("") || '<p class="muted">none</p>'}</div></div></div>`;
}

// ---- dependency graph and charts ---------------------------------------------------------

const GRAPH_LIMIT = 400;

// Tasks in layers by dependency depth (a task sits right of everything it waits for),
// coloured by state: ready, waiting, in progress, blocked, in review or done.
async function showGraph() {
  const all = await api("GET", "/api/v1/tasks?limit=0");
  const epic = filters.epic;
  const shown = all.filter((t) => t.status !== "done" && (!epic || t.epic === epic)).slice(0, GRAPH_LIMIT);
  const byId = new Map(shown.map((t) => [t.id, t]));
  const depth = new Map();
  const depthOf = (t, seen = new Set()) => {
    if (depth.has(t.id)) return depth.get(t.id);
    if (seen.has(t.id)) return 0;
    seen.add(t.id);
    const d = Math.max(0, ...t.depends_on.filter((id) => byId.has(id)).map((id) => depthOf(byId.get(id), seen) + 1));
    depth.set(t.id, d);
    return d;
  };
  shown.forEach((t) => depthOf(t));
  const layers = [];
  for (const t of shown) (layers[depth.get(t.id)] ||= []).push(t);
  const W = 190, H = 34, pos = new Map();
  layers.forEach((layer, x) => layer.forEach((t, y) => pos.set(t.id, [20 + x * (W + 40), 20 + y * (H + 10)])));
  const width = 40 + layers.length * (W + 40), height = 40 + Math.max(1, ...layers.map((l) => l.length)) * (H + 10);
  const state = (t) => t.status === "open" ? (t.deps_met ? "ready" : "waiting")
    : t.status === "backlog" ? (t.deps_met ? "backlog" : "waiting") : t.status;
  const colour = { ready: "var(--ok)", waiting: "var(--muted)", backlog: "var(--p2)", "in-progress": "var(--accent)", blocked: "var(--p0)", review: "var(--p1)" };
  const edges = shown.flatMap((t) => t.depends_on.filter((d) => pos.has(d)).map((d) => {
    const [x1, y1] = pos.get(d), [x2, y2] = pos.get(t.id);
    return `<path d="M${x1 + W},${y1 + H / 2} C${x1 + W + 20},${y1 + H / 2} ${x2 - 20},${y2 + H / 2} ${x2},${y2 + H / 2}" fill="none" stroke="var(--line)"/>`;
  }));
  const nodes = shown.map((t) => {
    const [x, y] = pos.get(t.id);
    return `<a href="#/task/${esc(t.id)}"><rect x="${x}" y="${y}" width="${W}" height="${H}" rx="4" fill="var(--card)" stroke="${colour[state(t)] || "var(--line)"}" stroke-width="2"/>
      <text x="${x + 8}" y="${y + 21}" fill="var(--text)" font-size="12">${esc(t.id)} ${esc(t.title.slice(0, 22))}</text></a>`;
  });
  const epics = new Set(all.map((t) => t.epic).filter(Boolean));
  view.innerHTML = `<h1>Dependencies</h1>
    <div class="filters"><select id="g-epic" aria-label="epic">${options(epics, epic, "all epics")}</select>
      ${Object.keys(colour).map((k) => `<span class="pill state-${k}">${k}</span>`).join("")}
      <span class="muted">${shown.length} open tasks${shown.length === GRAPH_LIMIT ? ` (first ${GRAPH_LIMIT}; pick an epic)` : ""}</span></div>
    <div class="panel scroll"><svg width="${width}" height="${height}" role="img" aria-label="dependency graph">${edges.join("")}${nodes.join("")}</svg></div>`;
  $("#g-epic").onchange = (e) => { filters.epic = e.target.value; render(); };
}

function bars(values, labels, unit) {
  const max = Math.max(1, ...values), w = 24, h = 120;
  return `<svg width="${values.length * (w + 4) + 10}" height="${h + 30}" role="img" aria-label="${esc(unit)}">
    ${values.map((v, i) => `<rect x="${5 + i * (w + 4)}" y="${5 + h - (v / max) * h}" width="${w}" height="${(v / max) * h}" fill="var(--accent)"><title>${esc(labels[i])}: ${v} ${esc(unit)}</title></rect>
      <text x="${5 + i * (w + 4) + w / 2}" y="${h + 22}" font-size="9" text-anchor="middle" fill="var(--muted)">${esc(labels[i])}</text>`).join("")}</svg>`;
}

function lines(series, start, end) {
  const w = 640, h = 160, max = Math.max(1, ...series.flatMap((s) => s.points));
  const n = Math.max(1, ...series.map((s) => s.points.length)) - 1 || 1;
  const hue = (i) => `hsl(${(i * 67) % 360} 60% 50%)`;
  return `<svg width="${w + 160}" height="${h + 20}" role="img" aria-label="burndown">
    ${series.map((s, i) => `<polyline fill="none" stroke="${hue(i)}" stroke-width="2" points="${s.points.map((p, j) => `${(j / n) * w},${5 + h - (p / max) * h}`).join(" ")}"/>
      <text x="${w + 8}" y="${14 + i * 14}" font-size="11" fill="${hue(i)}">${esc(s.name)} (${s.points[s.points.length - 1]} left)</text>`).join("")}
    <text x="0" y="${h + 18}" font-size="10" fill="var(--muted)">${esc(start)}</text>
    <text x="${w}" y="${h + 18}" font-size="10" text-anchor="end" fill="var(--muted)">${esc(end)}</text></svg>`;
}

// Throughput, cycle time and burndown, from the tasks' own times.
async function showCharts() {
  const [all, runs] = await Promise.all([api("GET", "/api/v1/tasks?limit=0"), api("GET", "/api/v1/runs?limit=1000")]);
  const now = Date.now(), hour = 3600 * 1000;
  const perHour = Array(24).fill(0);
  for (const t of all) {
    if (!t.completed_at) continue;
    const back = Math.floor((now - Date.parse(t.completed_at)) / hour);
    if (back >= 0 && back < 24) perHour[23 - back]++;
  }
  const hourLabels = perHour.map((_, i) => `${new Date(now - (23 - i) * hour).getHours()}h`);
  const cycles = all.filter((t) => t.completed_at && t.started_at)
    .map((t) => (Date.parse(t.completed_at) - Date.parse(t.started_at)) / 60000).sort((a, b) => a - b);
  const pct = (p) => cycles.length ? cycles[Math.min(cycles.length - 1, Math.floor(p * cycles.length))] : 0;
  const buckets = [5, 15, 30, 60, 120, 240, 480, Infinity];
  const names = ["≤5m", "≤15m", "≤30m", "≤1h", "≤2h", "≤4h", "≤8h", ">8h"];
  const counts = buckets.map(() => 0);
  for (const c of cycles) counts[buckets.findIndex((b) => c <= b)]++;
  const first = Math.min(now - 24 * hour, ...all.map((t) => Date.parse(t.created_at)));
  const steps = 48, span = (now - first) / steps;
  const epics = [...new Set(all.map((t) => t.epic || "(no epic)"))].sort().slice(0, 12);
  const series = epics.map((name) => {
    const mine = all.filter((t) => (t.epic || "(no epic)") === name);
    const points = [];
    for (let i = 0; i <= steps; i++) {
      const at = first + i * span;
      points.push(mine.filter((t) => Date.parse(t.created_at) <= at && !(t.completed_at && Date.parse(t.completed_at) <= at)).length);
    }
    return { name, points };
  });
  const mins = (m) => m < 60 ? `${Math.round(m)}m` : `${(m / 60).toFixed(1)}h`;
  // Runs that ended in each of the last 24 hours: how many failed, what they cost.
  const FAILED = ["crashed", "hung", "auth_failed", "quota_exhausted", "max_turns", "interrupted"];
  const failedPerHour = Array(24).fill(0), costPerHour = Array(24).fill(0);
  for (const r of runs) {
    if (!r.ended_at) continue;
    const back = Math.floor((now - Date.parse(r.ended_at)) / hour);
    if (back < 0 || back >= 24) continue;
    if (FAILED.includes(r.status)) failedPerHour[23 - back]++;
    costPerHour[23 - back] += r.usage.cost_usd || 0;
  }
  const cents = costPerHour.map((c) => Math.round(c * 100) / 100);
  const spent = cents.reduce((a, b) => a + b, 0);
  // Median cycle time of the tasks done on each of the last 14 days.
  const day = 24 * hour, perDay = Array.from({ length: 14 }, () => []);
  for (const t of all) {
    if (!t.completed_at || !t.started_at) continue;
    const back = Math.floor((now - Date.parse(t.completed_at)) / day);
    if (back >= 0 && back < 14) perDay[13 - back].push((Date.parse(t.completed_at) - Date.parse(t.started_at)) / 60000);
  }
  const median = (xs) => { const v = [...xs].sort((a, b) => a - b); return v.length ? Math.round(v[Math.floor(v.length / 2)]) : 0; };
  const dayLabels = perDay.map((_, i) => new Date(now - (13 - i) * day).toISOString().slice(5, 10));
  view.innerHTML = `<h1>Charts</h1>
    <div class="panel"><h3>Tasks done per hour, last 24 hours</h3>${bars(perHour, hourLabels, "tasks")}</div>
    <div class="panel"><h3>Cycle time (pickup to done): median ${mins(pct(0.5))}, p90 ${mins(pct(0.9))}, ${cycles.length} tasks</h3>${bars(counts, names, "tasks")}</div>
    <div class="panel" id="cycle-per-day"><h3>Median cycle time per day (minutes), last 14 days</h3>${bars(perDay.map(median), dayLabels, "minutes")}</div>
    <div class="panel" id="failed-runs"><h3>Failed runs per hour, last 24 hours: ${failedPerHour.reduce((a, b) => a + b, 0)}</h3>${bars(failedPerHour, hourLabels, "failed runs")}</div>
    <div class="panel" id="run-cost"><h3>Cost of runs per hour (USD), last 24 hours: $${spent.toFixed(2)}</h3>${bars(cents, hourLabels, "USD")}</div>
    <div class="panel"><h3>Burndown per epic: tasks not done</h3>${lines(series, new Date(first).toLocaleString(), "now")}</div>`;
}

// ---- routing, live updates, theme -------------------------------------------------------

// ---- runs: what `baton runner` started, their output live, stop and retry ----------------

function tokenCount(u) {
  return (u.input_tokens || 0) + (u.output_tokens || 0) + (u.cache_read_tokens || 0) +
    (u.cache_write_tokens || 0) + (u.reasoning_tokens || 0);
}

function runTime(r) {
  const end = r.ended_at ? Date.parse(r.ended_at) : Date.now();
  const s = Math.max(0, Math.round((end - Date.parse(r.started_at)) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

function runCost(r) {
  return r.usage.cost_usd == null ? "" : `$${r.usage.cost_usd.toFixed(4)}`;
}

function runStatus(r) {
  const stopping = r.status === "running" && r.stop_requested ? " (stopping)" : "";
  return `<span class="run-state ${esc(r.status)}">${esc(r.status)}${stopping}</span>`;
}

function runActions(r) {
  return r.status === "running"
    ? `<button type="button" data-stop="${esc(r.id)}"${r.stop_requested ? " disabled" : ""}>Stop</button>`
    : `<button type="button" data-retry="${esc(r.id)}">Retry</button>`;
}

function wireRunActions() {
  view.querySelectorAll("[data-stop]").forEach((b) => {
    b.onclick = async () => {
      try {
        await api("POST", `/api/v1/runs/${encodeURIComponent(b.dataset.stop)}/stop`);
        toast(`${b.dataset.stop}: stop asked; its runner commits the work and stops it`, "info");
        render();
      } catch (err) { refused(err); }
    };
  });
  view.querySelectorAll("[data-retry]").forEach((b) => {
    b.onclick = async () => {
      try {
        const t = await api("POST", `/api/v1/runs/${encodeURIComponent(b.dataset.retry)}/retry`);
        toast(`${t.id} is ${t.status} again; the next run resumes its session`, "info");
        render();
      } catch (err) { refused(err); }
    };
  });
}

async function showRuns() {
  const [runs, accounts] = await Promise.all([
    api("GET", "/api/v1/runs?limit=200"), api("GET", "/api/v1/accounts")]);
  const running = runs.filter((r) => r.status === "running").length;
  view.innerHTML = `<h1>Runs <span class="muted">${running} running</span></h1>
    ${runs.length ? "" : `<p class="muted">No runs yet: <code>baton runner</code> starts agents on ready tasks.</p>`}
    <table id="runs"><tr><th>run</th><th>task</th><th>agent</th><th>provider</th><th>account</th>
      <th>status</th><th>time</th><th>tokens</th><th>cost</th><th></th></tr>
    ${runs.map((r) => `<tr data-run="${esc(r.id)}"><td><a href="#/run/${esc(r.id)}">${esc(r.id)}</a></td>
      <td>${taskLink(r.task)}</td><td>${esc(r.agent)}</td><td>${esc(r.provider)}</td><td>${esc(r.account || "")}</td>
      <td>${runStatus(r)}</td><td>${esc(runTime(r))}</td><td>${tokenCount(r.usage)}</td><td>${esc(runCost(r))}</td>
      <td>${runActions(r)}</td></tr>`).join("")}</table>
    <h2>Accounts</h2>
    <table id="accounts"><tr><th>provider</th><th>account</th><th>state</th><th>until</th><th>last used</th><th>reason</th></tr>
    ${accounts.map((a) => `<tr data-account="${esc(a.provider)}/${esc(a.name)}"><td>${esc(a.provider)}</td><td>${esc(a.name)}</td>
      <td class="${a.status === "available" ? "ok" : "stale"}">${esc(a.status)}</td><td>${esc(a.until ? left(a.until).replace("lease expired", "now") : "")}</td>
      <td>${esc(ago(a.last_used_at))}</td><td>${esc(a.reason || "")}</td></tr>`).join("")}</table>`;
  wireRunActions();
}

// The open run's output stream; the run view keeps it across live re-renders.
let logStream = null;

function closeLog() {
  if (logStream) logStream.source.close();
  logStream = null;
}

async function showRun(id) {
  const run = await api("GET", `/api/v1/runs/${encodeURIComponent(id)}`);
  if (!logStream || logStream.id !== run.id || !$("#run-log")) {
    closeLog();
    view.innerHTML = `<h1>${esc(run.id)} <span class="muted">on ${taskLink(run.task)} by ${esc(run.agent)}</span></h1>
      <div class="detail"><div class="panel"><h3>Output</h3><pre id="run-log" class="log" data-lines="0"></pre></div>
      <div id="run-fields"></div></div>`;
    const pre = $("#run-log");
    const source = new EventSource(url(`/api/v1/runs/${encodeURIComponent(run.id)}/log/stream`));
    source.onmessage = (m) => {
      const line = JSON.parse(m.data);
      const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
      pre.append(`${line.line}\n`);
      pre.dataset.lines = String(line.seq);
      if (atEnd) pre.scrollTop = pre.scrollHeight;
    };
    source.addEventListener("end", () => { source.close(); pre.dataset.ended = "true"; });
    logStream = { id: run.id, source };
  }
  const u = run.usage;
  const field = (k, v) => `<dt>${k}</dt><dd>${v}</dd>`;
  $("#run-fields").innerHTML = `<div class="panel"><dl class="fields">
      ${field("status", runStatus(run))}
      ${run.reason ? field("reason", esc(run.reason)) : ""}
      ${field("provider", esc(run.provider))}${field("account", esc(run.account || "-"))}
      ${field("attempt", esc(run.attempt))}${field("time", esc(runTime(run)))}
      ${field("tokens", `${tokenCount(u)} <span class="muted">(${u.input_tokens} in, ${u.output_tokens} out, ${u.cache_read_tokens} cached)</span>`)}
      ${u.cost_usd == null ? "" : field("cost", esc(runCost(run)))}
      ${field("branch", `<code>${esc(run.branch || "-")}</code>`)}
      ${field("session", `<code>${esc(run.session || "-")}</code>`)}
      ${field("process", run.pid ? `pid ${esc(run.pid)} on ${esc(run.host)}` : "-")}
      ${field("started", esc(ago(run.started_at)))}
    </dl><div class="actions">${runActions(run)}</div></div>
    ${run.final_text ? `<div class="panel"><h3>Last words</h3><div class="markdown">${markdown(run.final_text)}</div></div>` : ""}`;
  wireRunActions();
}

const routes = [
  [/^#\/task\/([^/]+)$/, (m) => showTask(m[1])],
  [/^#\/doc\/([^/]+)$/, (m) => showDoc(m[1])],
  [/^#\/plan$/, showPlan],
  [/^#\/phase\/([^/]+)$/, (m) => showPhase(m[1])],
  [/^#\/diff\/([^/]+)$/, (m) => showDiff(decodeURIComponent(m[1]))],
  [/^#\/new$/, showNew],
  [/^#\/agents$/, showAgents],
  [/^#\/runs$/, showRuns],
  [/^#\/run\/([^/]+)$/, (m) => showRun(decodeURIComponent(m[1]))],
  [/^#\/reservations$/, showReservations],
  [/^#\/docs$/, () => showDocs()],
  [/^#\/needs$/, showNeeds],
  [/^#\/inbox$/, () => showInbox(false)],
  [/^#\/inbox\/all$/, () => showInbox(true)],
  [/^#\/events$/, showEvents],
  [/^#\/ops$/, showOps],
  [/^#\/code\/file\/(.+)$/, (m) => showFile(decodeURIComponent(m[1]))],
  [/^#\/code$/, () => showCode()],
  [/^#\/graph$/, showGraph],
  [/^#\/charts$/, showCharts],
  [/^#\/tokens$/, showTokens],
  [/^/, showBoard],
];

// Renders never overlap: a request to render while one runs renders once more after it,
// so the last picture drawn is always from data read after the last change was seen (two
// overlapping renders could finish out of order and leave a stale board up).
let rendering = null;
let again = false;
function render() {
  if (rendering) { again = true; return rendering; }
  document.body.dataset.busy = "1";
  rendering = (async () => {
    try {
      do { again = false; await renderOnce(); } while (again);
    } finally {
      rendering = null;
      delete document.body.dataset.busy;
    }
  })();
  return rendering;
}

async function renderOnce() {
  const hash = location.hash || "#/needs";
  if (!hash.startsWith("#/run/")) closeLog();
  document.querySelectorAll(".top nav a").forEach((a) =>
    a.classList.toggle("active", hash.startsWith(a.getAttribute("href"))));
  for (const [re, show] of routes) {
    const m = re.exec(hash);
    if (m) {
      try { await show(m); } catch (err) { refused(err); }
      document.body.dataset.rendered = String(Date.now());
      document.body.dataset.shown = hash;
      return;
    }
  }
}

let pending = null;
function renderSoon(delay = 50) {
  clearTimeout(pending);
  pending = setTimeout(() => {
    // Forms keep what is being typed: only views without one re-render by themselves.
    if (location.hash.startsWith("#/new") || document.activeElement?.closest?.("form")) return;
    render();
  }, delay);
}

async function refreshInboxCount() {
  try {
    const open = (await api("GET", "/api/v1/messages/inbox?all=true")).filter((m) => !m.reply_to && !m.answered_at);
    $("#inbox-count").textContent = open.length ? String(open.length) : "";
  } catch { /* the badge is a hint; the inbox view reports errors */ }
}

let stream = null;

function follow() {
  const live = $("#live");
  if (stream) stream.close();
  stream = new EventSource(url("/api/v1/events/stream"));
  stream.onopen = () => { live.textContent = "live"; live.classList.add("on"); };
  stream.onerror = () => { live.textContent = "reconnecting"; live.classList.remove("on"); };
  // A page kept for back/forward navigation would hold its stream open, and browsers allow
  // only six connections per server: close it when the page goes, reopen when it returns.
  window.addEventListener("pagehide", () => stream.close(), { once: true });
  stream.onmessage = (msg) => {
    document.body.dataset.lastEvent = msg.lastEventId;
    document.body.dataset.lastEventAt = String(Date.now());
    if (msg.data.includes('"message.')) refreshInboxCount();
    refreshNeedsSoon();
    renderSoon();
  };
}

function theme() {
  const saved = localStorage.getItem("baton.theme");
  const dark = saved ? saved === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.dataset.theme = dark ? "dark" : "light";
  $("#theme").onclick = () => {
    const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    localStorage.setItem("baton.theme", next);
  };
}

// ---- team mode: login, who am I, projects, tokens ---------------------------------------

let me = null;

function showLogin(status = {}) {
  if (stream) { stream.close(); stream = null; }
  document.body.dataset.auth = "login";
  $("#account").innerHTML = "";
  const setup = status.setup_needed;
  view.innerHTML = `<section class="login"><h1>${setup ? "Create the first admin" : "Log in"}</h1>
    <form id="login" class="stack">
      ${setup ? '<label>Setup code <input name="code" autocomplete="one-time-code" required></label>' : ""}
      <label>User <input name="name" autocomplete="username" required></label>
      <label>Password <input name="password" type="password" autocomplete="${setup ? "new-password" : "current-password"}" required></label>
      <button class="primary">${setup ? "Create and log in" : "Log in"}</button>
      <p class="muted">${setup ? "The one-time code is in the log of <code>baton serve</code>; or run <code>baton user add NAME --admin</code> on the server." : ""}</p>
    </form></section>`;
  document.body.dataset.rendered = String(Date.now());
  $("#login").onsubmit = async (e) => {
    e.preventDefault();
    const f = e.target;
    try {
      if (setup) await api("POST", "/api/v1/auth/setup", { code: f.code.value.trim(), name: f.name.value.trim(), password: f.password.value });
      await api("POST", "/api/v1/auth/login", { name: f.name.value.trim(), password: f.password.value });
      location.hash = "#/board";
      await enter();
    } catch (err) { refused(err); }
  };
}

async function logout() {
  try { await api("POST", "/api/v1/auth/logout"); } catch { /* the cookie is cleared anyway */ }
  me = null;
  showLogin(await api("GET", "/api/v1/auth/status").catch(() => ({})));
}

// The header's account part: who, the role here, the project switcher, logout.
async function account() {
  const box = $("#account");
  if (!me || me.mode !== "team") { box.innerHTML = ""; return; }
  let projects = [];
  try { projects = await api("GET", "/api/v1/projects"); } catch { /* only the current one */ }
  const key = projectKey();
  if (!projects.some((p) => p.key === key)) projects.push({ key, name: key });
  box.innerHTML = `<select id="switch" aria-label="project">${projects.map((p) =>
      `<option value="${esc(p.key)}"${p.key === key ? " selected" : ""}>${esc(p.name)} (${esc(p.key)})</option>`).join("")}</select>
    <span id="me" class="who" title="your role in this project">${esc(me.user)} · ${esc(me.role || "no role")}</span>
    <button id="logout" type="button">Log out</button>`;
  $("#switch").onchange = (e) => { localStorage.setItem("baton.project", e.target.value); enter(); };
  $("#logout").onclick = logout;
}

async function showTokens() {
  const key = projectKey();
  const tokens = await api("GET", `/api/v1/tokens?project=${encodeURIComponent(key)}`);
  view.innerHTML = `<h1>API tokens of ${esc(key)}</h1>
    <form id="new-token" class="filters">
      <select name="role" aria-label="role">${["agent", "viewer", "reviewer", "maintainer"].map((r) => `<option>${r}</option>`).join("")}</select>
      <input name="agent" placeholder="agent (e.g. claude)" aria-label="agent">
      <input name="name" placeholder="what it is for" aria-label="token name">
      <select name="expires" aria-label="expires"><option value="">never expires</option><option value="30">30 days</option><option value="7">7 days</option><option value="1">1 day</option></select>
      <button class="primary">Create token</button></form>
    <div id="made"></div>
    <table><tr><th>id</th><th>prefix</th><th>user</th><th>agent</th><th>role</th><th>expires</th><th>last used</th><th></th></tr>
    ${tokens.map((t) => `<tr><td>${t.id}</td><td><code>${esc(t.prefix)}</code></td><td>${esc(t.user)}</td><td>${esc(t.agent || "")}</td>
      <td>${esc(t.role)}</td><td>${esc(t.expires_at || "")}</td><td>${esc(ago(t.last_used_at))}</td>
      <td>${t.revoked_at ? '<span class="muted">revoked</span>' : `<button data-revoke="${t.id}">Revoke</button>`}</td></tr>`).join("")
      || '<tr><td colspan="8" class="muted">no tokens</td></tr>'}</table>`;
  $("#new-token").onsubmit = async (e) => {
    e.preventDefault();
    const f = e.target;
    const days = Number(f.expires.value);
    const body = { project: key, role: f.role.value };
    if (f.agent.value.trim()) body.agent = f.agent.value.trim();
    if (f.name.value.trim()) body.name = f.name.value.trim();
    if (days) body.expires_at = new Date(Date.now() + days * 86400000).toISOString();
    try {
      const made = await api("POST", "/api/v1/tokens", body);
      await render();
      $("#made").innerHTML = `<p class="msg ok">Shown once — copy it now: <code id="new-secret">${esc(made.token)}</code></p>`;
    } catch (err) { refused(err); }
  };
  view.querySelectorAll("[data-revoke]").forEach((b) => {
    b.onclick = async () => {
      try { await api("DELETE", `/api/v1/tokens/${b.dataset.revoke}`); await render(); } catch (err) { refused(err); }
    };
  });
}

// Into the board: who am I, this project's name, the live stream, the view.
async function enter() {
  document.body.dataset.auth = "in";
  try { me = await api("GET", "/api/v1/whoami"); } catch (err) {
    if (err.code === "project_not_found") { localStorage.removeItem("baton.project"); return enter(); }
    return;
  }
  $("#tokens-link").hidden = !(me.mode === "team" && ["maintainer", "admin"].includes(me.role));
  // In team mode the page acts as its user unless an agent's name is given.
  $("#actor").placeholder = me.mode === "team" ? me.user : "human";
  await account();
  try { $("#project").textContent = (await api("GET", "/api/v1/project")).name; } catch (err) { refused(err); }
  seenNeeds = null;
  follow();
  refreshInboxCount();
  refreshNeedsSoon(0);
  await render();
}

async function start() {
  theme();
  notifications();
  const who = $("#actor");
  who.value = actor();
  who.onchange = () => {
    localStorage.setItem("baton.actor", who.value.trim());
    seenNeeds = null;
    refreshInboxCount();
    refreshNeedsSoon(0);
    render();
  };
  window.addEventListener("hashchange", () => { if (document.body.dataset.auth !== "login") render(); });
  window.addEventListener("pageshow", (e) => { if (e.persisted) { follow(); render(); } });
  let status = {};
  try { status = await api("GET", "/api/v1/auth/status"); } catch { /* an older server: local */ }
  if (status.mode === "team") {
    try { me = await api("GET", "/api/v1/whoami"); } catch { return showLogin(status); }
  }
  await enter();
}

start();
