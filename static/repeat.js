// The event form's repeat choice: the end (times or date) shows only for a repeat, and only
// the input of the chosen end. Without JavaScript every field shows and the server decides.
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
})();
