// Siaran console: progressive enhancement only. Every page works without this file except
// live updates, which arrive as Server-Sent Events from the console itself.
"use strict";

(function () {
  function setText(root, field, value) {
    root.querySelectorAll('[data-field="' + field + '"]').forEach(function (el) {
      if (el.tagName === "PROGRESS") { el.value = value; } else { el.textContent = String(value); }
    });
  }

  function setStep(el, step) {
    ["none", "s0", "s1", "s2", "s3", "s4", "s5"].forEach(function (c) { el.classList.remove(c); });
    el.classList.add(step);
  }

  function ownFields(root, area) {
    // Only the fields of this tile or row, not of nested ones.
    ["percent", "delivered", "planned", "failed", "pending"].forEach(function (f) {
      if (f in area) { setText(root, f, area[f]); }
    });
  }

  function showReport(section, report) {
    if (report.error) { return; }
    [".progress-line", ".counts"].forEach(function (selector) {
      var part = section.querySelector(selector);
      ["percent", "progress", "planned", "delivered", "pending", "failed", "cancelled",
       "regions_reached", "regions_targeted"].forEach(function (f) {
        setText(part, f, f === "progress" ? report.percent : report[f]);
      });
    });
    section.querySelectorAll(".tile[data-province]").forEach(function (tile) {
      var code = tile.getAttribute("data-province");
      var area = code === "ID" ? report.national : report.provinces[code];
      area = area || { step: "none", percent: 0, delivered: 0, planned: 0 };
      setStep(tile, area.step);
      ownFields(tile, area);
    });
    Object.keys(report.kinds).sort().forEach(function (kind) {
      var row = section.querySelector('tr[data-kind="' + CSS.escape(kind) + '"]');
      if (!row) { row = kindRow(section, kind); }
      if (row) { ownFields(row, report.kinds[kind]); }
    });
    var status = document.querySelector('[data-field="status"]');
    if (status && report.complete && status.classList.contains("delivering")) {
      var labels = JSON.parse(status.getAttribute("data-labels") || "{}");
      status.className = "state complete";
      status.textContent = labels.complete || "";
    }
  }

  function kindRow(section, kind) {
    // A kind whose first deliveries arrived after the page loaded: a row like the server's.
    var body = section.querySelector("table.kinds tbody");
    if (!body) { return null; }
    body.querySelectorAll("tr.empty").forEach(function (tr) { tr.remove(); });
    var row = document.createElement("tr");
    row.setAttribute("data-kind", kind);
    var name = document.createElement("th");
    name.scope = "row";
    name.textContent = kind;
    row.appendChild(name);
    var delivered = document.createElement("td");
    ["delivered", "planned"].forEach(function (field, i) {
      if (i) { delivered.appendChild(document.createTextNode("/")); }
      var span = document.createElement("span");
      span.setAttribute("data-field", field);
      delivered.appendChild(span);
    });
    row.appendChild(delivered);
    ["pending", "failed"].forEach(function (field) {
      var cell = document.createElement("td");
      cell.setAttribute("data-field", field);
      row.appendChild(cell);
    });
    body.appendChild(row);
    return row;
  }

  function showList(root, rows) {
    rows.forEach(function (row) {
      var tr = root.querySelector('tr[data-id="' + CSS.escape(row.id) + '"]');
      if (!tr) {
        document.querySelectorAll(".new-note").forEach(function (n) { n.hidden = false; });
        return;
      }
      ownFields(tr, row);
      setText(tr, "progress", row.percent);
      var state = tr.querySelector('[data-field="state"]');
      if (state) {
        var labels = JSON.parse(state.getAttribute("data-labels") || "{}");
        state.className = "state " + row.state;
        state.textContent = labels[row.state] || row.state;
      }
    });
  }

  function live(root) {
    if (!window.EventSource) { return; }
    var source = new EventSource(root.getAttribute("data-live"));
    source.addEventListener("report", function (e) { showReport(root, JSON.parse(e.data)); });
    source.addEventListener("list", function (e) { showList(root, JSON.parse(e.data)); });
    source.addEventListener("end", function () { source.close(); });
    document.querySelectorAll(".live-note").forEach(function (n) { n.hidden = false; });
  }

  function search(input) {
    input.closest(".search").hidden = false;
    var selector = input.getAttribute("data-filter");
    input.addEventListener("input", function () {
      var words = input.value.trim().toLowerCase();
      document.querySelectorAll(selector).forEach(function (el) {
        var match = !words || el.getAttribute("data-region-name").indexOf(words) !== -1;
        el.hidden = !match;
        if (el.tagName === "DETAILS") { el.open = Boolean(words) && match; }
      });
    });
  }

  function livePreview(section) {
    // The compose page's preview follows the typing: the form (with its CSRF token) goes to
    // the console, which asks the router; its answer is server-rendered, escaped HTML.
    var form = document.getElementById("compose");
    var target = section.querySelector(".preview-body");
    if (!form || !target || !window.fetch) { return; }
    var url = section.getAttribute("data-preview");
    var timer = null;
    var sent = 0;
    function send() {
      var mine = ++sent;
      var body = new URLSearchParams(new FormData(form));
      body.delete("action");
      section.setAttribute("aria-busy", "true");
      fetch(url, { method: "POST", body: body, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (mine !== sent) { return; }
          section.removeAttribute("aria-busy");
          if (html !== null) { target.innerHTML = html; }
        })
        .catch(function () { section.removeAttribute("aria-busy"); });
    }
    function later() { window.clearTimeout(timer); timer = window.setTimeout(send, 400); }
    form.addEventListener("input", later);
    form.addEventListener("change", later);
    section.querySelectorAll(".live-preview-note").forEach(function (n) { n.hidden = false; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    // After a refused form, keyboard and screen-reader users start at what to fix.
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
    document.querySelectorAll("[data-live]").forEach(live);
    document.querySelectorAll("input[data-filter]").forEach(search);
    document.querySelectorAll("[data-preview]").forEach(livePreview);
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { e.preventDefault(); }
      });
    });
  });
})();
