// Moving and resizing events on the day and week grids, with a pointer or the keyboard.
// Blocks the viewer may edit carry data-movable, their office wall-clock times and where to
// send new ones (POST /events/<id>/move, which saves as the event form does: a taken room is
// refused, warnings are asked about). Times are office wall clock: the browser's own time zone
// is never used. Touch screens keep scrolling the grid; there the event's form moves it.
// All-day chips in the band above the hours (data-allday) move by whole days: their state is
// the first day and a length of whole days, sent as the first and last day (YYYY-MM-DD).
// The chip on an event's last day carries a handle on its right edge that changes the last
// day; it alone takes touch as well (all_day.css gives it touch-action: none), so a finger
// elsewhere still scrolls the week.
(function () {
  "use strict";

  var SLOT = 15, DAY = 24 * 60, ROWS = 96;
  var DOW = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var EDGE = 32; // px from the grid's top or bottom where a drag scrolls it

  var MAX_DAYS = 14;
  var grid, band, messages, statusLine, alertLine, dismiss, badge, csrf;
  var info = new WeakMap();
  var drag = null, suppressClick = false, relocating = false, scroller = 0, quiet = 0, current = null;
  var SAVED_SHOWN_MS = 8000;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function addDays(iso, n) {
    var d = new Date(iso + "T12:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  }

  function daysBetween(a, b) {
    return Math.round((Date.parse(b + "T12:00:00Z") - Date.parse(a + "T12:00:00Z")) / 864e5);
  }

  function parseWall(text) {
    var m = /^(\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2})$/.exec(text || "");
    return m ? { date: m[1], min: parseInt(m[2], 10) * 60 + parseInt(m[3], 10) } : null;
  }

  // "2026-12-02 14:30"; 1440 minutes is the midnight that ends the day
  function wall(date, min) {
    var days = Math.floor(min / DAY), rest = min - days * DAY;
    return addDays(date, days) + " " + pad(Math.floor(rest / 60)) + ":" + pad(rest % 60);
  }

  function clock(min) {
    min = min % DAY;
    return pad(Math.floor(min / 60)) + ":" + pad(min % 60);
  }

  function dayName(iso) {
    var d = new Date(iso + "T12:00:00Z");
    return DOW[d.getUTCDay()] + " " + pad(d.getUTCDate()) + " " + MONTHS[d.getUTCMonth()];
  }

  function lastDay(s) { return addDays(s.date, s.end / DAY - 1); }

  function describe(s) {
    if (s.allDay) {
      return (s.end > DAY ? dayName(s.date) + " – " + dayName(lastDay(s)) : dayName(s.date)) + ", all day";
    }
    return dayName(s.date) + ", " + clock(s.start) + "–" + clock(s.end);
  }

  function same(a, b) { return a.date === b.date && a.start === b.start && a.end === b.end; }

  function copy(s) { return { date: s.date, start: s.start, end: s.end, allDay: s.allDay }; }

  function isChip(block) { return block.hasAttribute("data-allday"); }

  // A block's day, and its start and end in minutes from that day's midnight; an all-day
  // chip's first day, and its whole days as minutes.
  function stateOf(block) {
    if (isChip(block)) {
      var first = block.getAttribute("data-start"), last = block.getAttribute("data-end");
      if (!/^\d{4}-\d{2}-\d{2}$/.test(first || "") || !/^\d{4}-\d{2}-\d{2}$/.test(last || "")) return null;
      return { date: first, start: 0, end: (daysBetween(first, last) + 1) * DAY, allDay: true };
    }
    var s = parseWall(block.getAttribute("data-start")), e = parseWall(block.getAttribute("data-end"));
    if (!s || !e) return null;
    return { date: s.date, start: s.min, end: e.min + daysBetween(s.date, e.date) * DAY };
  }

  // The rows a state covers, as jointops/events/grid.py lays them out.
  function rowsOf(s) {
    var first = Math.floor(s.start / SLOT), last = Math.min(ROWS, Math.floor(s.end / SLOT));
    var exact = s.end % SLOT === 0 || last === ROWS;
    var span = Math.max(1, last - first + (exact ? 0 : 1));
    return { row: first + 1, span: Math.min(span, ROWS - first) };
  }

  function columnFor(date) { return grid.querySelector('.tg-day[data-date="' + date + '"]'); }

  function columns() { return Array.prototype.slice.call(grid.querySelectorAll(".tg-day")); }

  function columnAt(x) {
    var all = columns(), best = all[0], gap = Infinity;
    all.forEach(function (column) {
      var r = column.getBoundingClientRect();
      var d = x < r.left ? r.left - x : x >= r.right ? x - r.right + 1 : 0;
      if (d < gap) { gap = d; best = column; }
    });
    return best;
  }

  function minutesAt(column, y) {
    var r = column.getBoundingClientRect();
    return (y - r.top) / r.height * DAY;
  }

  function remember(block) {
    var state = stateOf(block);
    if (!state) return null;
    var time = block.querySelector(".ev-time");
    var known = {
      saved: state, preview: copy(state), pending: false, saving: false,
      className: block.className, parent: block.parentNode, next: block.nextSibling,
      timeText: time ? time.textContent : "", primary: block
    };
    info.set(block, known);
    return known;
  }

  // An all-day event's chips (one a day it is shown on) share what is known of it.
  function rememberChips() {
    var byHref = {};
    band.querySelectorAll("a.chip[data-movable][data-allday]").forEach(function (chip) {
      var href = chip.getAttribute("data-move"), known = byHref[href];
      if (known) { info.set(chip, known); return; }
      byHref[href] = remember(chip);
    });
    Object.keys(byHref).forEach(function (href) {
      var known = byHref[href];
      if (known) markLastDay(known.primary, known.saved);
    });
  }

  // --- all-day chips ------------------------------------------------------------------

  function cellFor(date) { return band ? band.querySelector('.tg-allday-day[data-date="' + date + '"]') : null; }

  function cells() { return band ? Array.prototype.slice.call(band.querySelectorAll(".tg-allday-day")) : []; }

  function cellAt(x) {
    var best = null, gap = Infinity;
    cells().forEach(function (cell) {
      var r = cell.getBoundingClientRect();
      var d = x < r.left ? r.left - x : x >= r.right ? x - r.right + 1 : 0;
      if (d < gap) { gap = d; best = cell; }
    });
    return best;
  }

  function shownDays(s) {
    var days = [];
    for (var i = 0; i < s.end / DAY; i++) {
      var date = addDays(s.date, i);
      if (cellFor(date)) days.push(date);
    }
    return days;
  }

  function chipsOf(block) {
    var href = block.getAttribute("data-move");
    return Array.prototype.slice.call(band.querySelectorAll("a.chip[data-allday]")).filter(function (chip) {
      return chip.getAttribute("data-move") === href;
    });
  }

  function listIn(cell) {
    var list = cell.querySelector("ul.chips");
    if (!list) {
      list = document.createElement("ul");
      list.className = "chips";
      cell.appendChild(list);
    }
    return list;
  }

  // Draw an all-day event's chips on the shown days of a state: ``block`` on the first of them
  // (it keeps the focus), a copy on each other; the event's other chips leave.
  function placeChips(block, s) {
    var known = info.get(block), days = shownDays(s);
    var focused = chipsOf(block).indexOf(document.activeElement) >= 0;
    relocating = true;
    chipsOf(block).forEach(function (chip) {
      if (chip !== block && chip.parentNode) chip.parentNode.remove();
    });
    days.forEach(function (date, i) {
      var chip = i === 0 ? block : block.cloneNode(true);
      if (i > 0) info.set(chip, known);
      var item = i === 0 && block.parentNode ? block.parentNode : document.createElement("li");
      if (item.firstChild !== chip) item.appendChild(chip);
      listIn(cellFor(date)).appendChild(item);
    });
    if (!days.length && block.parentNode) block.parentNode.remove();
    if (focused && days.length) block.focus();
    markLastDay(block, s);
    relocating = false;
  }

  // The end handle goes on the chip of the event's last day, where the week shows that day and
  // another to drag it to; a chip of any other day has none.
  function markLastDay(block, s) {
    var last = lastDay(s), room = cells().length > 1;
    chipsOf(block).forEach(function (chip) {
      var cell = chip.closest(".tg-allday-day"), handle = chip.querySelector(".chip-resize");
      var wanted = room && !!cell && cell.getAttribute("data-date") === last;
      if (wanted && !handle) {
        handle = document.createElement("span");
        handle.className = "chip-resize";
        handle.setAttribute("aria-hidden", "true");
        handle.title = "Drag to change the last day";
        chip.appendChild(handle);
      } else if (!wanted && handle) {
        handle.remove();
      }
      chip.classList.toggle("chip-has-end", wanted);
    });
  }

  // Draw the block at a state: its column, rows and the time it shows.
  function place(block, s) {
    if (isChip(block)) return placeChips(block, s);
    var column = columnFor(s.date), focused = document.activeElement === block;
    if (column && block.parentNode !== column) {
      relocating = true;
      column.appendChild(block);
      if (focused) block.focus();
      relocating = false;
    }
    var r = rowsOf(s);
    block.className = block.className.replace(/\b(row|span)-\d+\b/g, " ").replace(/\s+/g, " ").trim() +
      " row-" + r.row + " span-" + r.span;
    block.classList.toggle("ev-short", r.span <= 3);
    var time = block.querySelector(".ev-time");
    if (time) time.textContent = clock(s.start) + "–" + clock(s.end);
  }

  // Put the block back where the page drew it (or where it was last saved).
  function restore(block) {
    var known = info.get(block), focused = document.activeElement === block;
    known.preview = copy(known.saved);
    known.pending = false;
    if (isChip(block)) {
      known.primary.className = known.className; // the other days' chips are copies of it
      placeChips(known.primary, known.saved);
      return;
    }
    if (block.parentNode !== known.parent || block.nextSibling !== known.next) {
      relocating = true;
      known.parent.insertBefore(block, known.next && known.next.parentNode === known.parent ? known.next : null);
      if (focused) block.focus();
      relocating = false;
    }
    block.className = known.className;
    var time = block.querySelector(".ev-time");
    if (time) time.textContent = known.timeText;
  }

  // A save's confirmation leaves the screen after a while (it has been read out by then).
  function say(text, saved) {
    window.clearTimeout(quiet);
    statusLine.textContent = text;
    statusLine.classList.toggle("is-saved", !!saved);
    if (saved) quiet = window.setTimeout(function () { say(""); }, SAVED_SHOWN_MS);
    keepClear();
  }

  function warn(text) {
    say("");
    alertLine.textContent = text;
    dismiss.hidden = !text;
    keepClear();
  }

  // The messages float at the bottom of the window, or at its top while they would hide the
  // event being moved (and the focus on it).
  function keepClear() {
    messages.classList.remove("at-top");
    if (!current || (!statusLine.textContent && !alertLine.textContent)) return;
    var a = messages.getBoundingClientRect(), b = current.getBoundingClientRect();
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) {
      messages.classList.add("at-top");
    }
  }

  // --- saving --------------------------------------------------------------------------

  function errorsOf(body) {
    var lines = [];
    if (body && body.errors) {
      Object.keys(body.errors).forEach(function (field) {
        body.errors[field].forEach(function (message) { lines.push(message); });
      });
    }
    return lines;
  }

  function save(block, flags) {
    var known = info.get(block), s = known.preview;
    current = block;
    var form = new URLSearchParams();
    form.set("starts_at", s.allDay ? s.date : wall(s.date, s.start));
    form.set("ends_at", s.allDay ? lastDay(s) : wall(s.date, s.end));
    (flags || []).forEach(function (flag) { form.set(flag, "y"); });
    known.saving = true;
    known.pending = false;
    block.classList.add("ev-saving");
    block.setAttribute("aria-busy", "true");
    warn("");
    say("Saving " + describe(s) + "…");
    fetch(block.getAttribute("data-move"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf, "Accept": "application/json" },
      body: form
    }).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      return (json ? response.json() : Promise.resolve(null)).then(function (body) {
        return { status: response.status, body: body };
      });
    }).then(function (answer) {
      done(block);
      answered(block, answer.status, answer.body, flags || []);
    }).catch(function () {
      done(block);
      refuse(block, "Not moved: the server could not be reached. Try again.");
    });
  }

  function done(block) {
    info.get(block).saving = false;
    block.classList.remove("ev-saving", "ev-moving");
    block.removeAttribute("aria-busy");
  }

  function answered(block, status, body, flags) {
    if (status === 200 && body && body.event) return saved(block, body);
    if (status === 409 && body) return refuse(block, "Not moved: " + body.error);
    if (status === 400 && body && body.confirm && body.confirm.length) {
      var question = errorsOf(body).join("\n") + "\n\nMove it anyway?";
      if (window.confirm(question)) {
        save(block, flags.concat(body.confirm.filter(function (f) { return flags.indexOf(f) < 0; })));
        return;
      }
      restore(block);
      say("Not moved: it is back at " + describe(info.get(block).saved) + ".");
      return;
    }
    if (status === 400 && body) return refuse(block, "Not moved: " + errorsOf(body).join(" "));
    if (status === 400) return refuse(block, "Not moved: the page has expired. Reload it and try again.");
    if (status === 403 || status === 404) {
      return refuse(block, "Not moved: you may not change this event, or it is no longer there. Reload the page.");
    }
    refuse(block, "Not moved: the server answered " + status + ". Try again in a moment.");
  }

  function saved(block, body) {
    var known = info.get(block), event = body.event;
    if (isChip(block)) return savedChip(known.primary, body);
    block.setAttribute("data-start", event.starts_at);
    block.setAttribute("data-end", event.ends_at);
    known.saved = stateOf(block);
    place(block, known.saved);
    var time = block.querySelector(".ev-time");
    if (time) time.textContent = event.starts + "–" + event.ends;
    var spoken = block.querySelectorAll(".sr-only");
    if (spoken.length) spoken[spoken.length - 1].textContent = ", " + event.label;
    known.preview = copy(known.saved);
    known.className = block.className;
    known.parent = block.parentNode;
    known.next = block.nextSibling;
    known.timeText = time ? time.textContent : "";
    if (body.deconfliction) warn(body.deconfliction);
    say(body.message, true);
  }

  function savedChip(block, body) {
    var known = info.get(block), event = body.event;
    block.setAttribute("data-start", event.starts_at);
    block.setAttribute("data-end", event.ends_at);
    var spoken = block.querySelectorAll(".sr-only");
    if (spoken.length) spoken[spoken.length - 1].textContent = ", " + event.label;
    known.saved = stateOf(block);
    known.preview = copy(known.saved);
    placeChips(block, known.saved);
    known.className = block.className;
    if (body.deconfliction) warn(body.deconfliction);
    say(body.message, true);
  }

  function refuse(block, message) {
    restore(block);
    warn(message);
  }

  // --- the pointer ---------------------------------------------------------------------

  function movableFrom(target) {
    var block = target && target.closest ? target.closest("a.ev[data-movable]") : null;
    var inside = block && (grid.contains(block) || (band && band.contains(block)));
    return inside && info.get(block) ? block : null;
  }

  function onPointerDown(e) {
    var block = movableFrom(e.target);
    var chipEnd = !!block && e.target.classList.contains("chip-resize");
    if (!block || e.button !== 0 || (e.pointerType === "touch" && !chipEnd)) return;
    if (e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return; // a link opened elsewhere
    var known = info.get(block);
    if (known.saving) return;
    if (isChip(block)) {
      var cell = e.target.closest(".tg-allday-day");
      drag = {
        block: known.primary, id: e.pointerId, x: e.clientX, y: e.clientY, lastX: e.clientX, lastY: e.clientY,
        chip: true, resize: chipEnd, grabbed: cell.getAttribute("data-date"), started: false,
        from: copy(known.preview), state: copy(known.preview)
      };
      if (chipEnd) e.preventDefault(); // no text selection or long-press menu from the handle
      return;
    }
    var resize = e.target.classList.contains("ev-resize");
    drag = {
      block: block, id: e.pointerId, x: e.clientX, y: e.clientY, lastX: e.clientX, lastY: e.clientY,
      resize: resize, started: false, from: copy(known.preview), state: copy(known.preview),
      grab: minutesAt(block.parentNode, e.clientY) - (resize ? known.preview.end : known.preview.start)
    };
  }

  function onPointerMove(e) {
    if (!drag || e.pointerId !== drag.id) return;
    drag.lastX = e.clientX;
    drag.lastY = e.clientY;
    if (!drag.started) {
      if (Math.abs(e.clientX - drag.x) + Math.abs(e.clientY - drag.y) < 6) return;
      drag.started = true;
      try { drag.block.setPointerCapture(e.pointerId); } catch (err) { /* released already */ }
      drag.block.classList.add("ev-moving");
      document.body.classList.add(drag.resize ? (drag.chip ? "resizing-chip" : "resizing-event") : "dragging-event");
      warn("");
      say("");
    }
    e.preventDefault();
    track();
    if (!drag.chip) autoScroll();
  }

  function track() {
    var d = drag, s = copy(d.from);
    if (d.chip) {
      var over = cellAt(d.lastX).getAttribute("data-date");
      if (d.resize) {
        s.end = Math.max(1, Math.min(MAX_DAYS, daysBetween(d.from.date, over) + 1)) * DAY;
      } else {
        s.date = addDays(d.from.date, daysBetween(d.grabbed, over));
      }
      if (!same(s, d.state) || !d.placed) place(d.block, s);
      d.placed = true;
      d.state = s;
      return showBadge(s);
    } else if (d.resize) {
      var end = Math.round((minutesAt(columnFor(d.from.date), d.lastY) - d.grab) / SLOT) * SLOT;
      s.end = Math.max(s.start + SLOT, Math.min(DAY, end));
    } else {
      var column = columnAt(d.lastX), length = d.from.end - d.from.start;
      var start = Math.round((minutesAt(column, d.lastY) - d.grab) / SLOT) * SLOT;
      s.start = Math.max(0, Math.min(DAY - length, start));
      s.end = s.start + length;
      s.date = column.getAttribute("data-date");
    }
    d.state = s;
    place(d.block, s);
    showBadge(s);
  }

  function showBadge(s) {
    var d = drag;
    badge.textContent = describe(s);
    badge.hidden = false;
    badge.style.left = Math.min(d.lastX + 14, window.innerWidth - badge.offsetWidth - 8) + "px";
    badge.style.top = Math.max(d.lastY - 30, 4) + "px";
  }

  // Near the grid's top or bottom edge, a drag scrolls it (the hours outside the view).
  function autoScroll() {
    if (scroller) return;
    function tick() {
      scroller = 0;
      if (!drag || !drag.started) return;
      var r = grid.getBoundingClientRect(), by = 0;
      if (drag.lastY < r.top + EDGE) by = -Math.ceil((r.top + EDGE - drag.lastY) / 4);
      else if (drag.lastY > r.bottom - EDGE) by = Math.ceil((drag.lastY - r.bottom + EDGE) / 4);
      if (!by) return;
      var before = grid.scrollTop;
      grid.scrollTop += by;
      if (grid.scrollTop !== before) track();
      scroller = window.requestAnimationFrame(tick);
    }
    scroller = window.requestAnimationFrame(tick);
  }

  function endDrag(cancelled) {
    var d = drag;
    drag = null;
    if (!d || !d.started) return null;
    document.body.classList.remove("dragging-event", "resizing-event", "resizing-chip");
    badge.hidden = true;
    suppressClick = true;
    window.setTimeout(function () { suppressClick = false; }, 0);
    if (cancelled || same(d.state, d.from)) {
      var known = info.get(d.block);
      if (known.pending) { place(d.block, known.preview); } else { restore(d.block); }
      d.block.classList.toggle("ev-moving", known.pending);
      return null;
    }
    return d;
  }

  function onPointerUp(e) {
    if (!drag || e.pointerId !== drag.id) return;
    var d = endDrag(false);
    if (!d) return;
    info.get(d.block).preview = d.state;
    save(d.block);
  }

  function onPointerCancel(e) {
    if (drag && e.pointerId === drag.id) endDrag(true);
  }

  // --- the keyboard --------------------------------------------------------------------

  // An all-day chip: Alt+Left/Right moves it a day, with Shift its last day.
  function stepChip(block, key, shift) {
    var known = info.get(block), s = copy(known.preview), by = key === "ArrowRight" ? 1 : -1;
    if (key === "ArrowUp" || key === "ArrowDown") {
      return say("An all-day event moves by days: Alt+Left or Alt+Right.");
    }
    if (shift) {
      var days = s.end / DAY + by;
      if (days < 1) return say("It lasts one day at least.");
      if (days > MAX_DAYS) return say("An event may last at most " + MAX_DAYS + " days.");
      s.end = days * DAY;
    } else {
      s.date = addDays(s.date, by);
    }
    if (!shownDays(s).length) {
      return say(cells().length > 1 ?
        "That day is not shown: move it from its week, or in its form." :
        "Open the week view to move it to another day.");
    }
    known.preview = s;
    known.pending = !same(s, known.saved);
    place(block, s);
    chipsOf(block).forEach(function (chip) { chip.classList.toggle("ev-moving", known.pending); });
    warn("");
    say(known.pending ? describe(s) + ". Enter saves, Escape puts it back." : describe(s) + ", as saved.");
  }

  function step(block, key, shift) {
    var known = info.get(block), s = copy(known.preview), length = s.end - s.start;
    current = block;
    if (isChip(block)) return stepChip(known.primary, key, shift);
    if (key === "ArrowUp" || key === "ArrowDown") {
      var later = key === "ArrowDown";
      if (shift) {
        var end = later ? Math.floor(s.end / SLOT) * SLOT + SLOT : Math.ceil(s.end / SLOT) * SLOT - SLOT;
        if (end < s.start + SLOT) return say("It cannot end earlier: it lasts " + SLOT + " minutes at least.");
        if (end > DAY) return say("It cannot end later on this day; its form takes a later end.");
        s.end = end;
      } else {
        var start = later ? Math.floor(s.start / SLOT) * SLOT + SLOT : Math.ceil(s.start / SLOT) * SLOT - SLOT;
        if (start < 0 || start + length > DAY) {
          return say("It cannot move " + (later ? "later" : "earlier") + " on this day.");
        }
        s.start = start;
        s.end = start + length;
      }
    } else {
      var date = addDays(s.date, key === "ArrowRight" ? 1 : -1);
      if (!columnFor(date)) {
        return say(columns().length > 1 ?
          "That day is not shown: move it from its week, or in its form." :
          "Open the week view to move it to another day.");
      }
      s.date = date;
    }
    known.preview = s;
    known.pending = !same(s, known.saved);
    place(block, s);
    block.classList.toggle("ev-moving", known.pending);
    warn("");
    say(known.pending ? describe(s) + ". Enter saves, Escape puts it back." : describe(s) + ", as saved.");
  }

  function onKeyDown(e) {
    if (drag && e.key === "Escape") {
      e.preventDefault();
      endDrag(true);
      return;
    }
    var block = movableFrom(e.target);
    if (!block || block !== e.target) return;
    var known = info.get(block);
    if (e.altKey && !e.ctrlKey && !e.metaKey && /^Arrow(Up|Down|Left|Right)$/.test(e.key)) {
      e.preventDefault(); // Alt+Left is also the browser's Back
      if (!known.saving) step(block, e.key, e.shiftKey);
      return;
    }
    if (!known.pending) return; // Enter opens the event
    if (e.key === "Enter") {
      e.preventDefault();
      save(block);
    } else if (e.key === "Escape") {
      e.preventDefault();
      restore(block);
      say("Not moved: it is back at " + describe(known.saved) + ".");
    }
  }

  // Leaving a block with a move not yet saved puts it back, and says so.
  function onFocusOut(e) {
    var block = movableFrom(e.target);
    if (!block || relocating) return;
    window.setTimeout(function () {
      var known = info.get(block);
      if (!known.pending || known.saving || info.get(document.activeElement) === known || !document.hasFocus()) return;
      restore(block);
      say("Not saved: it is back at " + describe(known.saved) + ".");
    }, 0);
  }

  function init() {
    grid = document.getElementById("tg-body");
    messages = document.getElementById("move-messages");
    if (!grid || !messages) return;
    band = document.querySelector(".timegrid .tg-allday");
    var blocks = grid.querySelectorAll("a.ev[data-movable]");
    if (!blocks.length && !(band && band.querySelector("a.chip[data-movable]"))) return;
    statusLine = document.getElementById("move-status");
    alertLine = document.getElementById("move-alert");
    dismiss = document.getElementById("move-dismiss");
    csrf = messages.getAttribute("data-csrf") || "";
    blocks.forEach(function (block) {
      if (!remember(block)) return;
      var handle = document.createElement("span");
      handle.className = "ev-resize";
      handle.setAttribute("aria-hidden", "true");
      handle.title = "Drag to change the end";
      block.appendChild(handle);
    });
    if (band) rememberChips();
    badge = document.createElement("div");
    badge.className = "drag-badge";
    badge.setAttribute("aria-hidden", "true");
    badge.hidden = true;
    document.body.appendChild(badge);

    dismiss.addEventListener("click", function () { warn(""); });
    grid.addEventListener("pointerdown", onPointerDown);
    if (band) {
      band.addEventListener("pointerdown", onPointerDown);
      band.addEventListener("dragstart", function (e) { if (movableFrom(e.target)) e.preventDefault(); });
      band.addEventListener("focusout", onFocusOut);
    }
    document.addEventListener("pointermove", onPointerMove);
    document.addEventListener("pointerup", onPointerUp);
    document.addEventListener("pointercancel", onPointerCancel);
    grid.addEventListener("scroll", function () { if (drag && drag.started) track(); });
    grid.addEventListener("dragstart", function (e) { if (movableFrom(e.target)) e.preventDefault(); });
    // the click that ends a drag opens nothing (the grid's empty-slot click included)
    window.addEventListener("click", function (e) {
      if (!suppressClick) return;
      suppressClick = false;
      e.preventDefault();
      e.stopPropagation();
    }, true);
    document.addEventListener("keydown", onKeyDown);
    grid.addEventListener("focusout", onFocusOut);
  }

  document.addEventListener("DOMContentLoaded", init);
})();
