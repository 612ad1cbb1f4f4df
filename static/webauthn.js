// Passkeys and security keys: WebAuthn ceremonies for the boxes marked data-passkey.
// The server sends options as JSON with base64url fields; the browser's API wants
// ArrayBuffers, and its answers go back as JSON with base64url fields again.
"use strict";

(function () {
  function toBuffer(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var binary = atob(b64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBuffer(item.id) });
    });
  }

  async function post(box, url, body) {
    var response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf },
      body: JSON.stringify(body || {})
    });
    var data = {};
    try { data = await response.json(); } catch (ignored) { data = {}; }
    if (!response.ok) {
      var error = new Error(data.error || "The server refused (" + response.status + ").");
      error.server = true;
      throw error;
    }
    return data;
  }

  function creation(options) {
    var publicKey = Object.assign({}, options);
    publicKey.challenge = toBuffer(options.challenge);
    publicKey.user = Object.assign({}, options.user, { id: toBuffer(options.user.id) });
    publicKey.excludeCredentials = withIds(options.excludeCredentials);
    return publicKey;
  }

  function request(options) {
    var publicKey = Object.assign({}, options);
    publicKey.challenge = toBuffer(options.challenge);
    publicKey.allowCredentials = withIds(options.allowCredentials);
    return publicKey;
  }

  function asJson(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      response: { clientDataJSON: toText(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      json.response.attestationObject = toText(response.attestationObject);
      if (response.getTransports) { json.response.transports = response.getTransports(); }
    } else {
      json.response.authenticatorData = toText(response.authenticatorData);
      json.response.signature = toText(response.signature);
      if (response.userHandle) { json.response.userHandle = toText(response.userHandle); }
    }
    return json;
  }

  function say(box, text, isError) {
    var status = box.querySelector(".passkey-status");
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  function showCodes(codes, next) {
    var section = document.getElementById("passkey-codes");
    if (!codes || !codes.length || !section) {
      window.location.assign(next);
      return;
    }
    var list = section.querySelector("[data-codes]");
    codes.forEach(function (code) {
      var item = document.createElement("li");
      var text = document.createElement("code");
      text.textContent = code;
      item.appendChild(text);
      list.appendChild(item);
    });
    document.querySelectorAll("[data-passkey], .mfa-steps, .mfa-or, .cancel-sign-in").forEach(function (el) {
      el.hidden = true;
    });
    section.hidden = false;
    section.querySelector("a").focus();
  }

  async function run(box, button) {
    var registering = box.dataset.passkey === "register";
    var nameInput = box.querySelector("input[name='passkey-name']");
    var name = nameInput ? nameInput.value : undefined;
    button.disabled = true;
    say(box, "Waiting for your passkey or security key…");
    try {
      var options = await post(box, box.dataset.optionsUrl, { name: name });
      var credential = registering
        ? await navigator.credentials.create({ publicKey: creation(options.publicKey) })
        : await navigator.credentials.get({ publicKey: request(options.publicKey) });
      var result = await post(box, box.dataset.url, { name: name, credential: asJson(credential) });
      say(box, registering ? "Passkey added." : "Signed in.");
      if (registering) {
        showCodes(result.recovery_codes, box.dataset.next);
      } else {
        window.location.assign(box.dataset.next);
      }
    } catch (error) {
      var message = error.server ? error.message
        : error.name === "NotAllowedError" ? "Cancelled or timed out. Try again."
        : error.name === "InvalidStateError" ? "This passkey is already registered."
        : "Your browser could not use a passkey here (" + (error.message || error.name) + ").";
      say(box, message, true);
      button.disabled = false;
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-passkey]").forEach(function (box) {
      var button = box.querySelector("[data-passkey-start]");
      if (!window.PublicKeyCredential) {
        say(box, "This browser does not support passkeys; use a code instead.", true);
        button.disabled = true;
        return;
      }
      button.addEventListener("click", function () { run(box, button); });
    });
  });
})();
