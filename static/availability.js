// Availability on the event form: when the times, the room, the resources or the people
// change, the day's free/busy of each (other agencies' events as busy only), the next times
// all of them are free and the free rooms of the same kind, from /api/events/availability.
// Without it the form works as before; a save still names a clash. With "All day" ticked the
// start and end are days, and the timeline shows a week of days from the first.
(function () {
  "use strict";

  var FIELDS = ["all_day", "starts_at", "ends_at", "starts_at_fold", "ends_at_fold", "room_id", "resource_ids",
    "lead_id", "investigators", "advocates", "interpreters", "prosecutors", "forensic_interviewers"];
  var TIME = /^\s*\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}\s*$/;
  var DAY = /^\s*\d{4}-\d{2}-\d{2}([T ]\d{1,2}:\d{2})?\s*$/;
  var KINDS = { operation: "Operation", interview: "Interview", appointment: "Appointment", meeting: "Meeting" };
  var WAIT_MS = 400;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  function place(node, from, to, minutes) {
    node.style.left = (from / minutes * 100) + "%";
    node.style.width = (Math.max(to - from, 0) / minutes * 100) + "%";
  }

  function init() {
    var panel = document.getElementById("availability");
    if (!panel || !window.fetch || !window.URLSearchParams) return;
    var form = panel.closest("form");
    var status = document.getElementById("availability-status");
    var timeline = document.getElementById("availability-timeline");
    var choices = document.getElementById("availability-choices");
    var dayOut = document.getElementById("availability-day");
    var url = panel.getAttribute("data-url");
    var eventId = panel.getAttribute("data-event-id");
    var timer = null, asked = 0;
    panel.hidden = false;

    function query() {
      var params = new URLSearchParams();
      FIELDS.forEach(function (name) {
        form.querySelectorAll('[name="' + name + '"]').forEach(function (input) {
          if (input.disabled) return;
          if (input.tagName === "SELECT") {
            Array.prototype.forEach.call(input.options, function (o) {
              if (o.selected && o.value && o.value !== "None") params.append(name, o.value);
            });
          } else if (input.type === "radio" || input.type === "checkbox") {
            if (input.checked) params.append(name, input.value);
          } else if (input.value.trim()) {
            params.append(name, input.value.trim());
          }
        });
      });
      if (eventId) params.set("event_id", eventId);
      return params;
    }

    function labelOf(field) {
      var label = form.querySelector('label[for="' + field + '"]');
      return label ? label.textContent.trim() : field;
    }

    function clear(message, problem) {
      status.textContent = message;
      status.classList.toggle("av-problem", !!problem);
      timeline.textContent = "";
      choices.textContent = "";
      dayOut.textContent = "";
    }

    function ask() {
      clearTimeout(timer);
      var start = form.querySelector("#starts_at"), end = form.querySelector("#ends_at");
      var allDay = form.querySelector("#all_day"), days = !!(allDay && allDay.checked);
      var shape = days ? DAY : TIME;
      if (!start || !end || !shape.test(start.value) || !shape.test(end.value)) {
        panel.removeAttribute("aria-busy");
        clear(days ? "Type the first and the last day to see who and what is free."
          : "Type the start and the end to see who and what is free.");
        return;
      }
      var mine = ++asked;
      panel.setAttribute("aria-busy", "true");
      fetch(url + "?" + query().toString(), {
        credentials: "same-origin", headers: { Accept: "application/json" }
      }).then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; },
          function () { return { ok: false, body: {} }; });
      }).then(function (answer) {
        if (mine !== asked) return;
        panel.removeAttribute("aria-busy");
        if (!answer.ok) {
          var body = answer.body || {};
          var why = body.field ? labelOf(body.field) + ": " + String(body.error || "").replace(/^[^:]*:\s*/, "")
            : (body.error || "Availability could not be loaded.");
          clear(why, true);
          return;
        }
        draw(answer.body);
      }).catch(function () {
        if (mine !== asked) return;
        panel.removeAttribute("aria-busy");
        clear("Availability could not be loaded. A save still checks the room and the people.", true);
      });
    }

    function later() {
      clearTimeout(timer);
      panel.setAttribute("aria-busy", "true");  // what is drawn is of the times before the change
      timer = setTimeout(ask, WAIT_MS);
    }

    function draw(data) {
      var byDay = data.unit === "day";
      dayOut.textContent = (byDay ? ", whole days, " : " on ") + data.day_label + " (" + data.zone + ")";
      // hour ticks every 3 hours (longer at 6), or one at each day's midnight, labelled
      var ticksShown = byDay ? data.days.map(function (tick) {
        return { minute: tick.minute, text: tick.label, major: true };
      }) : data.hours.filter(function (tick) { return tick.hour % 3 === 0; }).map(function (tick) {
        return { minute: tick.minute, text: (tick.hour < 10 ? "0" : "") + tick.hour, major: tick.hour % 6 === 0 };
      });
      status.textContent = data.summary;
      status.classList.remove("av-problem");
      timeline.textContent = "";
      choices.textContent = "";
      var minutes = data.minutes;

      var scale = el("div", "av-scale");
      scale.setAttribute("aria-hidden", "true");
      scale.appendChild(el("span", "av-name"));
      var ticks = el("span", "av-track av-ticks" + (byDay ? " av-day-ticks" : ""));
      ticksShown.forEach(function (tick) {
        var mark = el("span", "av-tick" + (tick.major ? "" : " av-minor") + (byDay ? " av-day-tick" : ""));
        // "Wed 27": a phone stacks the weekday over the day, to fit a seventh of its width
        tick.text.split(" ").forEach(function (word, i) {
          if (i) mark.appendChild(document.createTextNode(" "));
          mark.appendChild(el("span", "av-tick-word", word));
        });
        mark.style.left = (tick.minute / minutes * 100) + "%";
        ticks.appendChild(mark);
      });
      scale.appendChild(ticks);
      timeline.appendChild(scale);

      var rows = el("ul", "av-rows");
      rows.setAttribute("aria-label", "Free and busy on " + data.day_label);
      data.rows.forEach(function (row) {
        var line = el("li", "av-row " + (row.free ? "av-free" : "av-clash"));
        var name = el("span", "av-name");
        name.appendChild(el("span", "av-who", row.name));
        name.appendChild(el("span", "av-state", row.free ? "✓ free" : "⚠ busy"));
        line.appendChild(name);
        var track = el("span", "av-track");
        ticksShown.forEach(function (tick) {
          if (tick.minute === 0) return;
          var rule = el("span", "av-rule" + (tick.major ? "" : " av-minor"));
          rule.style.left = (tick.minute / minutes * 100) + "%";
          track.appendChild(rule);
        });
        row.busy.forEach(function (busy) {
          var kind = busy.kind ? "av-" + busy.kind : "av-busy";
          var block = el("span", "av-block " + kind + (busy.covert ? " av-covert" : "") + (busy.clash ? " av-hit" : ""));
          place(block, busy.from, busy.to, minutes);
          var said = busy.title ? (KINDS[busy.kind] || "") + " “" + busy.title + "”, " + busy.label : "Busy " + busy.label;
          block.title = said;
          block.appendChild(el("span", "sr-only", said));
          if (busy.to - busy.from >= minutes / 10) {
            var text = el("span", "av-text", busy.title || "busy");
            text.setAttribute("aria-hidden", "true");
            block.appendChild(text);
          }
          track.appendChild(block);
        });
        var proposed = el("span", "av-proposed");
        proposed.setAttribute("aria-hidden", "true");
        place(proposed, data.proposed.from, data.proposed.to, minutes);
        track.appendChild(proposed);
        line.appendChild(track);
        rows.appendChild(line);
      });
      timeline.appendChild(rows);

      timeline.appendChild(legendOf(data));

      if (!data.proposed.free) offer(data);
    }

    // A key to each thing the timeline draws: the time proposed, how a clash shows, the kinds
    // of the events seen in full, covert hatching and others' busy blocks.
    function legendOf(data) {
      var drawn = {}, kinds = [];
      data.rows.forEach(function (row) {
        row.busy.forEach(function (busy) {
          if (busy.kind && KINDS[busy.kind] && kinds.indexOf(busy.kind) < 0) kinds.push(busy.kind);
          if (busy.covert) drawn.covert = true;
          if (!busy.title) drawn.busy = true;
        });
      });
      var legend = el("p", "av-legend");
      legend.setAttribute("aria-hidden", "true");
      legend.appendChild(el("span", "av-key av-key-proposed", "Your proposed time, " + data.proposed.label +
        (data.unit === "day" ? " (whole days, midnight to midnight)" : "")));
      if (!data.proposed.free) legend.appendChild(el("span", "av-key av-key-clash", "Where it clashes"));
      Object.keys(KINDS).forEach(function (kind) {
        if (kinds.indexOf(kind) >= 0) legend.appendChild(el("span", "av-key av-key-" + kind, KINDS[kind]));
      });
      if (drawn.covert) legend.appendChild(el("span", "av-key av-key-covert", "Covert"));
      if (drawn.busy) legend.appendChild(el("span", "av-key av-key-busy", "Busy (no details)"));
      return legend;
    }

    function offer(data) {
      if (data.slots.length) {
        var slots = el("div", "av-offer");
        slots.appendChild(el("p", "av-offer-title",
          data.unit === "day" ? "All free then, as many days:" : "All free then, same length:"));
        data.slots.forEach(function (slot) {
          var button = el("button", "btn av-use", "Use " + slot.label);
          button.type = "button";
          button.addEventListener("click", function () { useSlot(slot); });
          slots.appendChild(button);
        });
        choices.appendChild(slots);
      }
      var roomBusy = data.rows.some(function (row) { return row.kind === "room" && !row.free; });
      var room = form.querySelector("#room_id");
      if (roomBusy && room && data.rooms.length) {
        var rooms = el("div", "av-offer");
        rooms.appendChild(el("p", "av-offer-title", "Free rooms of the same kind at " + data.proposed.label + ":"));
        data.rooms.forEach(function (free) {
          var button = el("button", "btn av-use", "Use " + free.name);
          button.type = "button";
          button.addEventListener("click", function () {
            room.value = String(free.id);
            changed(room);
          });
          rooms.appendChild(button);
        });
        choices.appendChild(rooms);
      }
    }

    function changed(input) {
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.dispatchEvent(new Event("change", { bubbles: true }));
      ask();
      status.focus();
    }

    function useSlot(slot) {
      var start = form.querySelector("#starts_at"), end = form.querySelector("#ends_at");
      start.value = slot.starts_at;
      end.value = slot.ends_at;
      start.dispatchEvent(new Event("input", { bubbles: true }));
      changed(end);
    }

    function watch(e) {
      if (e.target && FIELDS.indexOf(e.target.name) >= 0) later();
    }
    form.addEventListener("input", watch);
    form.addEventListener("change", watch);
    ask();
  }

  document.addEventListener("DOMContentLoaded", init);
})();
