// Passkeys: "Log in with a passkey" and "Add a passkey". Each is a plain form with an empty
// "credential" field, hidden until this script finds WebAuthn in the browser. On submit, the
// script asks the portal for a challenge (data-passkey-options), lets the browser and the
// authenticator answer it, puts the answer in the field and submits the form. Nothing here is
// needed to log in with a password.
//
// On the Log In page (the form marked data-passkey-autofill) the script also asks, as soon as
// the page loads, for a passkey with conditional mediation: the browser then offers the
// customer's passkeys in the username field's autofill (autocomplete="username webauthn"), and
// a passkey chosen there is posted through the same form. That request waits in the background;
// the button aborts it before asking the usual (modal) way, since a browser runs one at a time.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials || !window.fetch) {
    return;
  }

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    base64 += "====".slice((base64.length + 3) % 4 + 1);
    var raw = atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) {
      bytes[i] = raw.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) {
      return null;
    }
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i += 1) {
      raw += String.fromCharCode(bytes[i]);
    }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function publicKeyOptions(options, mode) {
    options.challenge = toBytes(options.challenge);
    if (mode === "register") {
      options.user.id = toBytes(options.user.id);
    }
    ["excludeCredentials", "allowCredentials"].forEach(function (name) {
      (options[name] || []).forEach(function (item) {
        item.id = toBytes(item.id);
      });
    });
    return options;
  }

  function answer(credential, mode) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toText(response.clientDataJSON) }
    };
    if (mode === "register") {
      json.response.attestationObject = toText(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toText(response.authenticatorData);
      json.response.signature = toText(response.signature);
      json.response.userHandle = toText(response.userHandle);
    }
    return JSON.stringify(json);
  }

  // The autofill request while it waits (its AbortController), or null.
  var waiting = null;

  function stopWaiting() {
    if (waiting) {
      waiting.abort();
      waiting = null;
    }
  }

  function fetchOptions(form) {
    var token = form.querySelector("input[name='csrfmiddlewaretoken']").value;
    return fetch(form.getAttribute("data-passkey-options"), {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      headers: { "X-CSRFToken": token, Accept: "application/json" }
    }).then(function (reply) {
      if (!reply.ok) {
        // Signed out, re-authentication needed, or the login has ended: the plain submit shows
        // the page that says so.
        throw new Error("no options");
      }
      return reply.json();
    });
  }

  function submitAnswer(form, credential, mode) {
    form.querySelector("input[name='credential']").value = answer(credential, mode);
    form.submit();
  }

  function start(form) {
    var mode = form.getAttribute("data-passkey-mode");
    var status = form.querySelector("[data-passkey-status]");
    var button = form.querySelector("button[type='submit']");
    stopWaiting();
    button.disabled = true;
    status.textContent = "";
    fetchOptions(form)
      .then(function (options) {
        var publicKey = publicKeyOptions(options, mode);
        return mode === "register"
          ? navigator.credentials.create({ publicKey: publicKey })
          : navigator.credentials.get({ publicKey: publicKey });
      })
      .then(function (credential) {
        submitAnswer(form, credential, mode);
      })
      .catch(function (problem) {
        button.disabled = false;
        if (problem && problem.message === "no options") {
          form.submit();
          return;
        }
        // Cancelled, timed out or refused by the authenticator: say so and let them try again.
        status.textContent = form.getAttribute("data-passkey-failed");
        if (form.hasAttribute("data-passkey-autofill")) {
          autofill(form); // the username's autofill offers passkeys again
        }
      });
  }

  function autofill(form) {
    var check = window.PublicKeyCredential.isConditionalMediationAvailable;
    if (typeof check !== "function" || typeof window.AbortController !== "function") {
      return;
    }
    var controller = new AbortController();
    waiting = controller;
    check
      .call(window.PublicKeyCredential)
      .then(function (available) {
        if (!available || controller.signal.aborted) {
          throw new Error("not offered");
        }
        return fetchOptions(form);
      })
      .then(function (options) {
        if (controller.signal.aborted) {
          throw new Error("aborted");
        }
        return navigator.credentials.get({
          publicKey: publicKeyOptions(options, "login"),
          mediation: "conditional",
          signal: controller.signal
        });
      })
      .then(function (credential) {
        if (waiting === controller) {
          waiting = null;
        }
        if (credential && !controller.signal.aborted) {
          submitAnswer(form, credential, "login");
        }
      })
      .catch(function () {
        // Not offered, aborted for the button, or dismissed: the button and the password
        // still work, and nothing needs saying.
        if (waiting === controller) {
          waiting = null;
        }
      });
  }

  document.querySelectorAll("[data-passkey]").forEach(function (element) {
    element.hidden = false;
  });
  document.querySelectorAll("[data-passkey-unsupported]").forEach(function (element) {
    element.hidden = true;
  });
  document.querySelectorAll("form[data-passkey-mode]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      start(form);
    });
  });
  var autofillForm = document.querySelector("form[data-passkey-autofill]");
  if (autofillForm) {
    autofill(autofillForm);
  }
})();
