// The review page's behaviour: score a group, a cluster or one answer; keys to move on.
// Answers are student text: this script only ever sets textContent, never HTML.
"use strict";

(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const status = document.getElementById("status");
  const root = document.getElementById("groups");

  function say(text, bad) {
    status.textContent = text;
    status.className = bad ? "bad" : "ok";
  }

  if (!root) return; // the list of items needs nothing more

  const item = root.dataset.item;
  const groups = Array.from(root.querySelectorAll("article.group"));
  const byName = new Map();
  root.querySelectorAll("li.answer").forEach((li) => byName.set(li.dataset.submission, li));
  let current = -1;

  function select(index, scroll) {
    if (index < 0 || index >= groups.length) return;
    if (current >= 0) groups[current].classList.remove("current");
    current = index;
    const group = groups[current];
    group.classList.add("current");
    group.focus({ preventScroll: true });
    if (scroll !== false) group.scrollIntoView({ block: "nearest" });
  }

  function nextUnreviewed(from) {
    for (let i = 1; i <= groups.length; i++) {
      const j = (from + i) % groups.length;
      if (!groups[j].classList.contains("reviewed")) return j;
    }
    return -1;
  }

  function formOf(group) {
    return group.querySelector("form.decide");
  }

  function answersOf(form) {
    if (form.dataset.only) return [form.dataset.only];
    const scope = form.dataset.scope === "cluster" ? form.closest("section.cluster") : form.closest("article.group");
    return Array.from(scope.querySelectorAll("li.answer")).map((li) => li.dataset.submission);
  }

  function refreshGroup(group) {
    const answers = group.querySelectorAll("li.answer");
    const done = group.querySelectorAll("li.answer.reviewed").length;
    group.querySelector(".group-progress .done").textContent = String(done);
    group.classList.toggle("reviewed", done === answers.length);
  }

  function clearOnly(form) {
    delete form.dataset.only;
    form.querySelector(".target").textContent = "";
    const button = form.querySelector("button[type=submit]");
    if (button.dataset.label) button.textContent = button.dataset.label;
  }

  async function submit(form) {
    const names = answersOf(form);
    const body = {
      item: item,
      submissions: names,
      score: Number(form.elements.score.value),
      comment: form.elements.comment.value,
    };
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
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
      const touched = new Set();
      for (const a of answer.answers) {
        const li = byName.get(a.submission);
        if (!li) continue;
        li.classList.add("reviewed");
        li.querySelector(".score").textContent = String(a.score);
        li.querySelector(".who").textContent = "by a person";
        li.querySelector(".comment").textContent = a.comment;
        touched.add(li.closest("article.group"));
      }
      touched.forEach(refreshGroup);
      document.getElementById("reviewed").textContent = String(answer.reviewed);
      say("saved: " + answer.decided + " answer" + (answer.decided === 1 ? "" : "s") + " scored " + body.score);
      clearOnly(form);
      return true;
    } catch (error) {
      say("not saved: " + error, true);
      return false;
    } finally {
      button.disabled = false;
    }
  }

  root.addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const group = form.closest("article.group");
    if (group) select(groups.indexOf(group), false);
    if (await submit(form)) {
      form.elements.score.blur();
      form.elements.comment.blur();
      const next = nextUnreviewed(current < 0 ? -1 : current);
      if (next >= 0) select(next);
    }
  });

  root.addEventListener("click", (event) => {
    const button = event.target.closest("button.only");
    if (button) {
      const li = button.closest("li.answer");
      const group = li.closest("article.group");
      const form = formOf(group);
      form.dataset.only = li.dataset.submission;
      form.querySelector(".target").textContent = "only " + li.dataset.submission + " (Esc: the whole group)";
      const submitButton = form.querySelector("button[type=submit]");
      if (!submitButton.dataset.label) submitButton.dataset.label = submitButton.textContent;
      submitButton.textContent = "Score it";
      select(groups.indexOf(group), false);
      form.elements.score.focus();
      return;
    }
    const group = event.target.closest("article.group");
    if (group && !event.target.closest("input, button, summary, a")) select(groups.indexOf(group), false);
  });

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const field = event.target.closest && event.target.closest("input, textarea");
    if (field) {
      if (event.key === "Escape") {
        const form = field.form;
        if (form && form.dataset.only) clearOnly(form);
        field.blur();
        if (current >= 0) groups[current].focus({ preventScroll: true });
      }
      return;
    }
    const key = event.key;
    if (key === "j") select(current + 1);
    else if (key === "k") select(Math.max(current - 1, 0));
    else if (key === "n") { const next = nextUnreviewed(current); if (next >= 0) select(next); }
    else if (key === "[" || key === "]") {
      const link = document.getElementById(key === "[" ? "prev" : "next");
      if (link) window.location.assign(link.href);
    } else if ((key === "s" || key === "Enter" || /^[0-9]$/.test(key)) && groups.length) {
      if (current < 0) select(0);
      const input = formOf(groups[current]).elements.score;
      input.focus();
      if (/^[0-9]$/.test(key)) input.value = key;
    } else return;
    event.preventDefault();
  });

  if (groups.length) select(Math.max(nextUnreviewed(-1), 0), false);
})();
