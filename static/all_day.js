// The event form's "All day" choice: while it is ticked the start and end take days
// (YYYY-MM-DD), first and last inclusive. What was typed stays: the server reads a time
// typed with a day by its day. Without JavaScript the fields work the same, only their
// hints do not change.
(function () {
  "use strict";
  var box = document.getElementById("all_day");
  if (!box) return;
  var WORDS = { starts_at: ["Starts", "First day"], ends_at: ["Ends", "Last day"] };
  var DAYS = {
    placeholder: "YYYY-MM-DD",
    title: "The day, for example 2027-03-13",
    pattern: "\\s*\\d{4}-\\d{2}-\\d{2}([T ]\\d{1,2}:\\d{2})?\\s*"
  };
  var inputs = Object.keys(WORDS).map(function (id) {
    var input = document.getElementById(id);
    if (!input) return null;
    return {
      input: input,
      label: document.querySelector('label[for="' + id + '"]'),
      words: WORDS[id],
      timed: { placeholder: input.placeholder, title: input.title, pattern: input.pattern }
    };
  }).filter(Boolean);
  function update() {
    var days = box.checked;
    inputs.forEach(function (one) {
      var wanted = days ? DAYS : one.timed;
      Object.keys(wanted).forEach(function (name) { one.input.setAttribute(name, wanted[name]); });
      if (one.label) one.label.textContent = one.words[days ? 1 : 0];
    });
  }
  box.addEventListener("change", update);
  update();
})();
