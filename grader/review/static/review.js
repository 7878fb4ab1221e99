// The review page's behaviour: one decision panel that scores the current group, its whole
// near-identical cluster, or one answer; keys to move on. Answers are student text: this
// script only ever sets textContent and data attributes, never HTML.
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const status = document.getElementById("status");
  const root = document.getElementById("groups");
  const panel = document.getElementById("decide");
  if (!root || !panel) return; // the list of items needs nothing more

  const item = root.dataset.item;
  const manual = root.dataset.manual === "true";
  const groups = Array.from(root.querySelectorAll("article.group"));
  const byName = new Map();
  root.querySelectorAll("li.answer").forEach((li) => byName.set(li.dataset.submission, li));
  const score = panel.elements.score;
  const comment = panel.elements.comment;
  const target = document.getElementById("target");
  const submitButton = document.getElementById("submit");
  let current = -1;
  let mode = { kind: "group" }; // or { kind: "cluster" } or { kind: "one", name }

  function say(text, bad) {
    status.textContent = text;
    status.className = bad ? "bad" : "ok";
  }

  function names() {
    if (current < 0) return [];
    if (mode.kind === "one") return [mode.name];
    const scope = mode.kind === "cluster" ? groups[current].closest("section.cluster") : groups[current];
    return Array.from(scope.querySelectorAll("li.answer"), (li) => li.dataset.submission);
  }

  function describe() {
    const n = names().length;
    if (mode.kind === "one") target.textContent = "only " + mode.name + " (Esc: its group)";
    else if (mode.kind === "cluster") target.textContent = "all " + n + " near-identical answers (Esc: the group)";
    else target.textContent = n === 1 ? "this answer" : "these " + n + (manual ? " identical answers" : " submissions");
    submitButton.textContent = n === 1 ? "Score it" : "Score all " + n;
  }

  function setMode(next) {
    mode = next;
    describe();
  }

  function select(index, scroll) {
    if (index < 0 || index >= groups.length) return;
    if (current >= 0) groups[current].classList.remove("current");
    current = index;
    const group = groups[current];
    group.classList.add("current");
    group.focus({ preventScroll: true });
    if (scroll !== false) group.scrollIntoView({ block: "nearest" });
    score.value = group.dataset.score;
    comment.value = group.dataset.comment;
    setMode({ kind: "group" });
  }

  function nextUnreviewed(from) {
    for (let i = 1; i <= groups.length; i++) {
      const j = (from + i + groups.length) % groups.length;
      if (!groups[j].classList.contains("reviewed")) return j;
    }
    return -1;
  }

  function refreshGroup(group, decided) {
    const answers = group.querySelectorAll("li.answer");
    const done = group.querySelectorAll("li.answer.reviewed").length;
    group.querySelector(".group-progress .done").textContent = String(done);
    group.classList.toggle("reviewed", done === answers.length);
    if (decided.size === answers.length) { // the whole group got this decision
      group.dataset.score = decided.score;
      group.dataset.comment = decided.comment;
    }
  }

  async function submit() {
    const chosen = names();
    const body = { item: item, submissions: chosen, score: Number(score.value), comment: comment.value };
    submitButton.disabled = true;
    try {
      const response = await fetch("/api/decide", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(body),
      });
      const answer = await response.json();
      if (!response.ok) {
        say(answer.error || "not saved", true);
        return false;
      }
      const touched = new Map();
      for (const a of answer.answers) {
        const li = byName.get(a.submission);
        if (!li) continue;
        li.classList.add("reviewed");
        li.querySelector(".score").textContent = String(a.score);
        li.querySelector(".who").textContent = "by a person";
        li.querySelector(".comment").textContent = a.comment;
        const group = li.closest("article.group");
        touched.set(group, (touched.get(group) || 0) + 1);
      }
      touched.forEach((count, group) => refreshGroup(group, { size: count, score: score.value, comment: answer.answers[0].comment }));
      document.getElementById("reviewed").textContent = String(answer.reviewed);
      say("saved: " + answer.decided + " answer" + (answer.decided === 1 ? "" : "s") + " scored " + body.score);
      return true;
    } catch (error) {
      say("not saved: " + error, true);
      return false;
    } finally {
      submitButton.disabled = false;
    }
  }

  panel.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await submit()) {
      score.blur();
      comment.blur();
      const next = nextUnreviewed(current);
      if (next >= 0 && next !== current) select(next);
      else setMode({ kind: "group" });
    }
  });

  root.addEventListener("click", (event) => {
    const only = event.target.closest("button.only");
    const whole = event.target.closest("button.whole");
    if (only) {
      const li = only.closest("li.answer");
      select(groups.indexOf(li.closest("article.group")), false);
      setMode({ kind: "one", name: li.dataset.submission });
      score.focus();
    } else if (whole) {
      select(groups.indexOf(whole.closest("section.cluster").querySelector("article.group")), false);
      setMode({ kind: "cluster" });
      score.focus();
    } else {
      const group = event.target.closest("article.group");
      if (group && !event.target.closest("summary, a, pre")) select(groups.indexOf(group), false);
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    if (event.target.closest && event.target.closest("input, textarea")) {
      if (key === "Escape") {
        event.target.blur();
        setMode({ kind: "group" });
        if (current >= 0) groups[current].focus({ preventScroll: true });
      }
      return;
    }
    if (key === "j") select(current + 1);
    else if (key === "k") select(Math.max(current - 1, 0));
    else if (key === "n") { const next = nextUnreviewed(current); if (next >= 0) select(next); }
    else if (key === "c" && current >= 0 && groups[current].closest("section.cluster.near")) { setMode({ kind: "cluster" }); score.focus(); }
    else if (key === "Escape") setMode({ kind: "group" });
    else if (key === "[" || key === "]") {
      const link = document.getElementById(key === "[" ? "prev" : "next");
      if (link) window.location.assign(link.href);
    } else if ((key === "s" || key === "Enter" || /^[0-9]$/.test(key)) && groups.length) {
      if (current < 0) select(0);
      score.focus();
      if (/^[0-9]$/.test(key)) score.value = key;
    } else return;
    event.preventDefault();
  });

  if (groups.length) select(Math.max(nextUnreviewed(-1), 0), false);
  else panel.hidden = true;
})();
