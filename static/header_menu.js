// On a phone the header is one row: the app's name, Inbox and a "Menu" button that shows the
// main links and the account's. Without this script the button stays hidden and every link
// shows, as on a desktop.
(function () {
  "use strict";
  const header = document.querySelector(".topbar");
  const button = header && header.querySelector(".menu-toggle");
  if (!button) return;
  header.classList.add("has-menu");

  function setOpen(open) {
    button.setAttribute("aria-expanded", open ? "true" : "false");
    header.classList.toggle("menu-open", open);
  }

  button.addEventListener("click", function () {
    setOpen(button.getAttribute("aria-expanded") !== "true");
  });
  header.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && header.classList.contains("menu-open")) {
      setOpen(false);
      button.focus();
    }
  });
})();
