// Type-ahead pickers over the event form's multiple selects (people per part, vehicles and
// equipment): the WAI-ARIA 1.2 combobox with a listbox, the chosen ones as chips. The select
// stays in the form, hidden, and is what is sent: without this script the form works as a
// plain list box, and after a refused save the chips are rebuilt from what it kept.
(function () {
  "use strict";

  // Case and accents do not matter: "nadege" finds "Nadège", "PB" finds "(PBSO)".
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function words(text) {
    return fold(text).split(/[^a-z0-9]+/).filter(Boolean);
  }

  // Every word typed starts some word of the label (the name and the agency code).
  function matches(entry, typed) {
    var wanted = words(typed);
    return wanted.length > 0 && wanted.every(function (w) {
      return entry.words.some(function (own) { return own.indexOf(w) === 0; });
    });
  }

  var count = 0;

  function picker(select) {
    var id = select.id || "picker-" + (++count);
    var label = document.querySelector('label[for="' + id + '"]');
    var noun = label ? label.textContent.trim() : select.name;
    var entries = Array.prototype.map.call(select.options, function (option) {
      return { option: option, text: option.textContent.trim(), words: words(option.textContent) };
    });

    var box = document.createElement("div");
    box.className = "picker";
    var chips = document.createElement("ul");
    chips.className = "picker-chips";
    chips.setAttribute("aria-label", "Chosen: " + noun);
    var combo = document.createElement("div");
    combo.className = "picker-combo";
    var input = document.createElement("input");
    input.type = "text";
    input.id = id + "-picker";
    input.className = "control picker-input";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", id + "-options");
    input.setAttribute("autocomplete", "off");
    input.setAttribute("autocapitalize", "none");
    input.setAttribute("spellcheck", "false");
    input.placeholder = select.getAttribute("data-picker") || "Type to search";
    ["aria-describedby", "aria-invalid"].forEach(function (name) {
      if (select.hasAttribute(name)) input.setAttribute(name, select.getAttribute(name));
    });
    var list = document.createElement("ul");
    list.id = id + "-options";
    list.className = "picker-options";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", noun);
    list.hidden = true;
    var none = document.createElement("p");
    none.id = id + "-none";
    none.className = "picker-none";
    none.setAttribute("aria-live", "polite");
    none.hidden = true;
    var status = document.createElement("p");
    status.id = id + "-status";
    status.className = "sr-only";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    combo.appendChild(input);
    combo.appendChild(list);
    // the chips below the box, so that the boxes of a row of pickers stay level
    box.appendChild(combo);
    box.appendChild(none);
    box.appendChild(chips);
    box.appendChild(status);
    select.hidden = true;
    select.parentNode.insertBefore(box, select.nextSibling);
    if (label) label.htmlFor = input.id;

    var shown = [], active = -1;

    function say(message) {
      // a change of text is what screen readers announce; the same message twice still is
      status.textContent = "";
      window.setTimeout(function () { status.textContent = message; }, 50);
    }

    function drawChips() {
      chips.textContent = "";
      entries.forEach(function (entry) {
        if (!entry.option.selected) return;
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "picker-chip";
        var hidden = document.createElement("span");
        hidden.className = "sr-only";
        hidden.textContent = "Remove ";
        var cross = document.createElement("span");
        cross.className = "picker-x";
        cross.setAttribute("aria-hidden", "true");
        cross.textContent = "×";
        button.appendChild(hidden);
        button.appendChild(document.createTextNode(entry.text));
        button.appendChild(cross);
        button.addEventListener("click", function () { remove(entry); input.focus(); });
        item.appendChild(button);
        chips.appendChild(item);
      });
      chips.hidden = !chips.children.length;
    }

    function close() {
      list.hidden = true;
      list.textContent = "";
      shown = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      var items = list.children;
      if (!items.length) return;
      active = (index + items.length) % items.length;
      Array.prototype.forEach.call(items, function (item, i) {
        item.setAttribute("aria-selected", i === active ? "true" : "false");
      });
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }

    // everyone not yet chosen whom the typed words find; all of them for an empty input
    function open(everyone) {
      var typed = input.value.trim();
      close();
      shown = entries.filter(function (entry) {
        return !entry.option.selected && (everyone && !typed ? true : matches(entry, typed));
      });
      none.hidden = shown.length > 0 || !typed;
      none.textContent = none.hidden ? "" : (select.getAttribute("data-picker-none") || "Nothing matches") + ": “" + typed + "”";
      if (!shown.length) return;
      shown.forEach(function (entry, i) {
        var item = document.createElement("li");
        item.id = id + "-option-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.textContent = entry.text;
        // keep the focus in the input: a tap or click picks without a blur first
        item.addEventListener("mousedown", function (e) { e.preventDefault(); });
        item.addEventListener("click", function () { pick(entry); });
        list.appendChild(item);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function pick(entry) {
      entry.option.selected = true;
      input.value = "";
      none.hidden = true;
      close();
      drawChips();
      select.dispatchEvent(new Event("change", { bubbles: true }));
      say("Added " + entry.text);
      input.focus();
    }

    function remove(entry) {
      entry.option.selected = false;
      drawChips();
      select.dispatchEvent(new Event("change", { bubbles: true }));
      say("Removed " + entry.text);
    }

    input.addEventListener("input", function () { open(false); });
    input.addEventListener("click", function () {
      if (list.hidden) open(true); else close();
    });
    input.addEventListener("blur", function () { close(); none.hidden = true; });
    input.addEventListener("keydown", function (e) {
      var expanded = !list.hidden;
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        if (!expanded) {
          open(true);
          if (!shown.length) return;
          highlight(e.key === "ArrowDown" ? 0 : shown.length - 1);
        } else if (e.altKey) {
          if (e.key === "ArrowUp") close();
        } else {
          highlight(active < 0 && e.key === "ArrowUp" ? -1 : active + (e.key === "ArrowDown" ? 1 : -1));
        }
      } else if (e.key === "Enter") {
        if (expanded && active >= 0) {
          e.preventDefault();
          pick(shown[active]);
        } else if (input.value.trim()) {
          // typed words are a search, never a submit of the form
          e.preventDefault();
          if (shown.length === 1) pick(shown[0]);
        }
      } else if (e.key === "Escape") {
        if (expanded) { e.preventDefault(); close(); }
        else if (input.value) { e.preventDefault(); input.value = ""; none.hidden = true; }
      } else if (e.key === "Backspace" && !input.value) {
        var chosen = entries.filter(function (entry) { return entry.option.selected; });
        if (chosen.length) { e.preventDefault(); remove(chosen[chosen.length - 1]); }
      } else if (e.key === "Home" || e.key === "End") {
        if (expanded && active >= 0) {
          e.preventDefault();
          highlight(e.key === "Home" ? 0 : shown.length - 1);
        }
      }
    });

    drawChips();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[multiple][data-picker]").forEach(picker);
    document.querySelectorAll("[data-picker-hint]").forEach(function (hint) { hint.hidden = true; });
  });
})();
