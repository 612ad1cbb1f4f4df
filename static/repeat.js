// The event form's repeat choice: the end (times or date) shows only for a repeat, and only
// the input of the chosen end. On an occurrence's edit page the repeat belongs to "This and
// following occurrences": hidden and disabled (so not sent) with "Only this occurrence", and a
// note shows when it differs from the series' own. Without JavaScript every field shows and
// the server decides.
(function () {
  "use strict";
  var select = document.getElementById("repeat");
  var end = document.querySelector("[data-repeat-end]");
  if (!select || !end) return;
  var count = document.getElementById("field-repeat_count");
  var until = document.getElementById("field-repeat_until");
  function chosenEnd() {
    var checked = end.querySelector("input[name=repeat_ends]:checked");
    return checked ? checked.value : "count";
  }
  function update() {
    end.hidden = !select.value;
    if (count) count.hidden = chosenEnd() !== "count";
    if (until) until.hidden = chosenEnd() !== "until";
  }
  select.addEventListener("change", update);
  end.addEventListener("change", update);
  update();

  var fieldset = document.getElementById("repeat-fieldset");
  var scopes = document.querySelectorAll("input[name=scope]");
  if (!fieldset || !fieldset.hasAttribute("data-series-repeat") || !scopes.length) return;
  var onlyWith = document.getElementById("repeat-scope-hint");
  var note = document.getElementById("repeat-change-hint");
  if (onlyWith) onlyWith.hidden = true;
  function value(id) {
    var input = document.getElementById(id);
    return input ? input.value.trim() : "";
  }
  function differs() {
    var series = fieldset.dataset;
    var ends = chosenEnd();
    if (select.value !== series.seriesRepeat || ends !== series.seriesEnds) return true;
    return ends === "count"
      ? value("repeat_count") !== series.seriesCount
      : value("repeat_until") !== series.seriesUntil;
  }
  function following() {
    var checked = document.querySelector("input[name=scope]:checked");
    return !!checked && checked.value === "following";
  }
  function byScope() {
    var on = following();
    fieldset.hidden = !on;
    fieldset.disabled = !on;
    if (note) note.hidden = !differs();
  }
  Array.prototype.forEach.call(scopes, function (radio) {
    radio.addEventListener("change", byScope);
  });
  fieldset.addEventListener("input", byScope);
  fieldset.addEventListener("change", byScope);
  byScope();
})();
