// Small progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Open the time grid at the start of the working day, as calendar apps do, or higher up
  // for an earlier event; an evening operation below the fold is scrolled into view.
  function scrollGrid() {
    var body = document.getElementById("tg-body");
    if (!body) return;
    var hour = parseInt(body.getAttribute("data-scroll-hour") || "7", 10);
    var row = body.querySelector(".tg-hour.row-" + (hour * 4 + 1));
    if (!row) return;
    var top = row.offsetTop - 8;
    var origin = body.getBoundingClientRect().top - body.scrollTop;
    var first = null, firstBlock = null;
    body.querySelectorAll("a.ev").forEach(function (block) {
      var at = block.getBoundingClientRect().top - origin;
      if (first === null || at < first) { first = at; firstBlock = block; }
    });
    if (first !== null && first < top) top = first - 8;
    else if (first !== null && first + 40 > top + body.clientHeight) top = first - 60;
    body.scrollTop = Math.max(0, top);
    // on a short screen the grid itself may start low: bring the first event onto it
    if (firstBlock && firstBlock.getBoundingClientRect().top + 40 > window.innerHeight) {
      firstBlock.scrollIntoView({ block: "nearest" });
    }
  }

  // The grid's own scroll fills the window below the toolbar, so that its last hours are
  // not under the page's fold as well (a scroll inside a scroll).
  function fitGrid() {
    var body = document.getElementById("tg-body");
    if (!body) return;
    var room = Math.floor(window.innerHeight - body.getBoundingClientRect().top - 12);
    if (room >= 420) body.style.height = room + "px";
  }

  // Events above or below the hours in view are counted at the grid's edge, on a button that
  // brings the nearest of them into view: whatever hour the grid opens at, an evening
  // operation is never out of sight unnoticed.
  function offGridHints() {
    var body = document.getElementById("tg-body");
    if (!body) return;
    var blocks = Array.prototype.slice.call(body.querySelectorAll("a.ev"));
    if (!blocks.length) return;
    var several = body.querySelectorAll(".tg-day").length > 1;
    var earlier = hintButton("earlier"), later = hintButton("later");

    function hintButton(which) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn off-grid off-grid-" + which;
      button.hidden = true;
      body.parentNode.appendChild(button);
      return button;
    }
    function span(block) {
      var origin = body.getBoundingClientRect().top - body.scrollTop;
      var box = block.getBoundingClientRect();
      return { top: box.top - origin, bottom: box.bottom - origin };
    }
    function when(block) {
      var row = /(?:^|\s)row-(\d+)(?:\s|$)/.exec(block.className);
      var minutes = row ? (parseInt(row[1], 10) - 1) * 15 : 0;
      var pad = function (n) { return (n < 10 ? "0" : "") + n; };
      var time = pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60);
      var day = (block.parentNode.getAttribute("aria-label") || "").replace(/^(\w{3})\w*/, "$1");
      return several && day ? day + ", " + time : time;
    }
    function say(button, arrow, found, where, first) {
      button.hidden = found.length === 0;
      if (!found.length) return;
      button.textContent = arrow + " " + found.length + (found.length === 1 ? " event " : " events ") +
        where + " (" + when(first) + ")";
    }
    function update() {
      var top = body.scrollTop, bottom = top + body.clientHeight;
      var above = [], below = [];
      blocks.forEach(function (block) {
        var at = span(block);
        if (at.top > bottom - 16) below.push({ block: block, at: at });
        else if (at.bottom < top + 16) above.push({ block: block, at: at });
      });
      below.sort(function (a, b) { return a.at.top - b.at.top; });
      above.sort(function (a, b) { return b.at.bottom - a.at.bottom; });
      later.target = below.length ? below[0] : null;
      earlier.target = above.length ? above[0] : null;
      say(later, "▼", below, "below", below.length ? below[0].block : null);
      say(earlier, "▲", above, "above", above.length ? above[0].block : null);
      earlier.style.top = body.offsetTop + 6 + "px";
    }
    later.addEventListener("click", function () {
      if (later.target) body.scrollTop = later.target.at.top - 40;
    });
    earlier.addEventListener("click", function () {
      if (earlier.target) body.scrollTop = earlier.target.at.bottom - body.clientHeight + 40;
    });
    body.addEventListener("scroll", update);
    window.addEventListener("resize", update);
    update();
  }

  // A line across today's column at the office's current time, moved every minute. The
  // server gives the office's wall-clock minutes at render; the browser's own zone is not used.
  function nowLine() {
    var body = document.getElementById("tg-body");
    var today = document.getElementById("tg-today");
    if (!body || !today) return;
    var minutes = parseInt(body.getAttribute("data-now"), 10);
    if (isNaN(minutes)) return;
    var loaded = Date.now();
    var line = document.createElement("div");
    line.className = "now-line";
    line.setAttribute("aria-hidden", "true");
    today.appendChild(line);
    function place() {
      var now = minutes + Math.floor((Date.now() - loaded) / 60000);
      if (now >= 24 * 60) { line.hidden = true; return; }
      line.style.top = (now / (24 * 60) * 100) + "%";
    }
    place();
    window.setInterval(place, 60000);
  }

  // On a phone the calendar comes first: the filters and legend fold into one control
  // (left open while a filter is on, so that what is hidden is said).
  function foldFilters() {
    var more = document.getElementById("cal-more");
    if (!more || more.hasAttribute("data-active")) return;
    if (window.matchMedia("(max-width: 760px)").matches) more.open = false;
  }

  // Click an empty slot of a day column to start a new event there.
  function slotClicks() {
    var newUrl = document.querySelector('a.btn-primary[href$="/events/new"]');
    if (!newUrl) return;
    document.querySelectorAll(".tg-day").forEach(function (day) {
      day.addEventListener("click", function (e) {
        if (e.target !== day) return;
        var rect = day.getBoundingClientRect();
        var slot = Math.floor(((e.clientY - rect.top) / rect.height) * 96 / 2) * 2; // half hours
        var h = Math.floor(slot / 4), m = (slot % 4) * 15;
        var pad = function (n) { return (n < 10 ? "0" : "") + n; };
        window.location = newUrl.getAttribute("href") + "?start=" + day.getAttribute("data-date") + "T" + pad(h) + ":" + pad(m);
      });
    });
  }

  // Show the fieldsets that matter for the chosen kind, and only its subtypes.
  function kindFields() {
    var kind = document.getElementById("kind");
    if (!kind) return;
    var subtype = document.getElementById("subtype");
    function update() {
      var k = kind.value;
      document.querySelectorAll("fieldset[data-kinds], button[data-kinds]").forEach(function (fs) {
        var show = fs.getAttribute("data-kinds").split(" ").indexOf(k) >= 0;
        fs.hidden = !show && !fs.querySelector(".has-error");
        // a hidden fieldset's values are not sent: an operation's place typed before the
        // kind was changed to an appointment must not be refused unseen, nor saved
        fs.disabled = fs.hidden;
      });
      if (subtype) {
        var label = kind.options[kind.selectedIndex].text;
        var firstVisible = null, currentOk = false;
        subtype.querySelectorAll("optgroup").forEach(function (g) {
          var on = g.label === label;
          g.hidden = !on; g.disabled = !on;
          if (on) {
            firstVisible = g.querySelector("option");
            g.querySelectorAll("option").forEach(function (o) { if (o.selected) currentOk = true; });
          }
        });
        if (!currentOk && firstVisible) firstVisible.selected = true;
      }
    }
    kind.addEventListener("change", update);
    update();
  }

  function focusErrors() {
    var summary = document.getElementById("error-summary") || document.getElementById("warnings") ||
      document.getElementById("precheck");
    if (summary) summary.focus();
  }

  // "Copy" next to a read-only field (a new feed's address): select it and copy it.
  function copyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var input = document.getElementById(button.getAttribute("data-copy"));
      var status = document.getElementById(button.getAttribute("data-copy") + "-status");
      if (!input) return;
      input.addEventListener("focus", function () { input.select(); });
      button.addEventListener("click", function () {
        function done(ok) {
          if (status) status.textContent = ok ? "Copied. Paste it into your calendar app." : "Select the address and copy it (Ctrl+C or ⌘C).";
          if (ok) button.textContent = "Copied";
        }
        input.focus(); input.select();
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(input.value).then(function () { done(true); }, function () { done(false); });
        } else {
          var ok = false;
          try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
          done(ok);
        }
      });
    });
    var created = document.getElementById("feed-created");
    if (created) created.focus();
  }

  // Ask before a form that cannot be undone (revoking a feed) is sent.
  function confirmForms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        if (!window.confirm(form.getAttribute("data-confirm"))) e.preventDefault();
      });
    });
  }

  // On a phone a week of seven columns is unreadable: open the day view instead,
  // unless the user chose a view.
  function phoneDayView() {
    var grid = document.querySelector(".timegrid.days-7");
    if (!grid || window.innerWidth >= 640 || /[?&]view=/.test(window.location.search)) return;
    var url = new URL(window.location.href);
    url.searchParams.set("view", "day");
    window.location.replace(url.toString());
  }

  // Under each identifier field of the target form, what the server will store of it
  // (FL:ABC123 for "ABC 123 (Florida)"), or why a value would be refused, while typing.
  function understoodIdentifiers() {
    var form = document.querySelector("form.target-form");
    if (!form) return;
    var token = form.querySelector('input[name="csrf_token"]');
    form.querySelectorAll(".identifier-grid textarea").forEach(function (box) {
      var out = document.createElement("p");
      out.className = "understood";
      out.id = box.id + "-understood";
      out.setAttribute("aria-live", "polite");
      box.parentNode.appendChild(out);
      box.setAttribute("aria-describedby", ((box.getAttribute("aria-describedby") || "") + " " + out.id).trim());
      var timer = null, asked = 0;
      function ask() {
        var mine = ++asked;
        if (!box.value.trim()) { out.textContent = ""; return; }
        fetch(form.getAttribute("data-understood"), {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": token ? token.value : "" },
          body: JSON.stringify({ field: box.name, text: box.value })
        }).then(function (r) { return r.ok ? r.json() : null; }).then(function (body) {
          if (mine !== asked || !body) return;
          out.textContent = "";
          if (body.understood.length) {
            var seen = document.createElement("span");
            seen.textContent = "Will be saved as: " + body.understood.map(function (v) { return v.as; }).join(" · ");
            out.appendChild(seen);
          }
          body.problems.concat(body.warnings).forEach(function (message) {
            var line = document.createElement("span");
            line.className = body.problems.indexOf(message) >= 0 ? "understood-problem" : "understood-warning";
            line.textContent = message;
            out.appendChild(line);
          });
        }).catch(function () {});
      }
      box.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 350); });
      if (box.value.trim()) ask();
    });
  }

  // a time the clocks skip: the form offers the first time after it; one click takes it
  function takeTimes() {
    document.querySelectorAll("[data-take-time]").forEach(function (button) {
      button.addEventListener("click", function () {
        var input = document.getElementById(button.dataset.takeTime);
        if (!input) return;
        input.value = button.dataset.value;
        input.removeAttribute("aria-invalid");
        input.dispatchEvent(new Event("change", { bubbles: true }));
        input.focus();
        button.closest(".gap-choice").hidden = true;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    phoneDayView(); takeTimes();
    foldFilters(); fitGrid(); nowLine(); scrollGrid(); offGridHints(); slotClicks(); kindFields(); focusErrors(); copyButtons(); confirmForms();
    understoodIdentifiers();
  });
})();
