// Shop the look: upload a photo, follow the look's job, draw a box per garment found, and show what
// completes the look around the garment the shopper chooses. Plain DOM: every value from the server is
// set as text or an attribute, never parsed as HTML.
(function () {
  "use strict";
  const form = document.getElementById("look-form");
  const input = document.getElementById("look-photo-input");
  const statusLine = document.getElementById("look-status");
  const lookPanel = document.getElementById("look");
  const photo = document.getElementById("look-photo");
  const image = document.getElementById("look-image");
  const garmentList = document.getElementById("garments");
  const unplacedList = document.getElementById("unplaced");
  const suggestionsPanel = document.getElementById("suggestions");
  const suggestionsHeading = document.getElementById("suggestions-heading");
  const suggestionSlots = document.getElementById("suggestion-slots");
  const submit = form.querySelector("button[type=submit]");
  const pollUrl = (id) => form.dataset.poll.replace("00000000-0000-0000-0000-000000000000", id);
  const itemUrl = (id) => form.dataset.item.replace("ITEM", encodeURIComponent(id));
  const POLL_MS = 1500;
  const PENDING = ["pending", "running"];

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function say(message, opts) {
    const o = opts || {};
    statusLine.textContent = message;
    statusLine.className = o.busy ? "busy" : o.error ? "error" : o.kind ? "look-kind" : "";
    submit.disabled = Boolean(o.busy);
    if (o.action) {
      const button = el("button", { type: "button", id: "look-action" }, o.action.label);
      button.addEventListener("click", o.action.run);
      if (o.action.after) {  // not before the API would take it (Retry-After)
        button.disabled = true;
        setTimeout(() => { button.disabled = false; }, o.action.after * 1000);
      }
      statusLine.append(" ", button);
    }
  }

  const tryAgain = (run, after) => ({ label: "Try again", run, after });
  const anotherPhoto = {
    label: "Choose another photo",
    run: () => {
      clearLook();
      form.reset();
      history.replaceState(null, "", location.pathname);
      say("");
      input.focus();
    },
  };

  // The API's error body: {"detail": "...", "errors": {"photo": ["..."]}}; the photo's own words first.
  function errorMessage(body, fallback) {
    const photoErrors = body && body.errors && body.errors.photo;
    if (Array.isArray(photoErrors) && photoErrors.length) return "This photo can't be used: " + photoErrors.join(" ");
    return (body && body.detail) || fallback;
  }

  function secondsToWait(response) {
    const seconds = Math.ceil(Number(response.headers.get("Retry-After")));
    return Number.isFinite(seconds) && seconds > 0 ? seconds : null;
  }

  async function readJson(response) {
    try { return await response.json(); } catch (e) { return null; }
  }

  // Every call goes to the API with the page's public key, never the session's cookies: the look is
  // the storefront key's, and no CSRF token is needed.
  async function callApi(url, init) {
    const response = await fetch(url, Object.assign({
      credentials: "omit", cache: "no-store", headers: { "X-Api-Key": form.dataset.key, Accept: "application/json" },
    }, init));
    return { response, body: await readJson(response) };
  }

  // An answer the page cannot use, in the shopper's words: what went wrong and what they can do.
  function sayRefused(response, body, again) {
    const wait = secondsToWait(response);
    if (response.status === 429) {
      const n = wait || 60;
      say("Too many photos in a short while: please try again in " + n + " second" + (n === 1 ? "" : "s") + ".",
        { error: true, action: tryAgain(again, n) });
    } else if (response.status >= 500) {
      say("The shop isn't answering right now (error " + response.status + "): please try again" +
        (wait ? " in " + wait + " seconds." : " in a moment."), { error: true, action: tryAgain(again, wait) });
    } else if (response.status === 400) {
      say(errorMessage(body, "This photo can't be used."), { error: true });
    } else if (response.status === 404) {
      say("This look is no longer here: upload your photo again.", { error: true, action: anotherPhoto });
    } else {
      say(errorMessage(body, "The shop refused the request (error " + response.status + ")."), { error: true });
    }
  }

  async function upload() {
    if (!input.files.length) { say("Choose a photo first.", { error: true }); return; }
    clearLook();
    say("Uploading your photo…", { busy: true });
    let answer;
    try {
      answer = await callApi(form.action, { method: "POST", body: new FormData(form) });
    } catch (e) {
      say("We couldn't reach the shop to upload your photo: check your connection and try again.",
        { error: true, action: tryAgain(upload) });
      return;
    }
    const { response, body: look } = answer;
    if (response.status !== 202 || !look) { sayRefused(response, look, upload); return; }
    history.replaceState(null, "", "?look=" + encodeURIComponent(look.id));
    follow(look);
  }

  function follow(look) {
    if (PENDING.includes(look.status)) {
      say(look.status === "pending" ? "Your photo is in the queue…" : "Looking for garments in your photo…", { busy: true });
      setTimeout(() => poll(look.id), POLL_MS);
    } else if (look.status === "failed") {
      // The look's error is written for the shop's staff (the worker's reason), not for the shopper.
      showPhoto(look, []);
      lookPanel.querySelector(".look-garments-column").hidden = true;
      say("Sorry, we couldn't read this photo. Please try another one.", { error: true, action: anotherPhoto });
    } else {
      show(look);
    }
  }

  async function poll(id) {
    const again = () => { say("Checking on your photo…", { busy: true }); poll(id); };
    let answer;
    try {
      answer = await callApi(pollUrl(id));
    } catch (e) {
      say("We lost touch with the shop while your photo was read: check your connection and try again.",
        { error: true, action: tryAgain(again) });
      return;
    }
    const { response, body: look } = answer;
    if (!response.ok || !look) { sayRefused(response, look, again); return; }
    follow(look);
  }

  function clearLook() {
    lookPanel.hidden = true;
    suggestionsPanel.hidden = true;
    for (const box of photo.querySelectorAll(".garment-box")) box.remove();
    garmentList.replaceChildren();
    unplacedList.replaceChildren();
    suggestionSlots.replaceChildren();
  }

  function garmentName(garment) {
    // The model's reading names its type as {"value": ..., "confidence": ...}.
    const read = garment.garment && garment.garment.type;
    const type = String((read && (read.value || read)) || garment.part || "garment");
    return type.charAt(0).toUpperCase() + type.slice(1) + ", " + (garment.slot || "unplaced");
  }

  function showPhoto(look, garments) {
    lookPanel.hidden = false;
    const draw = () => drawBoxes(garments);
    image.onload = draw;
    if (look.image_url) image.src = look.image_url;
    if (image.complete && image.naturalWidth) draw();
  }

  // Boxes come in the photo's pixels; placed in percent of its natural size, they scale with it.
  function drawBoxes(garments) {
    for (const box of photo.querySelectorAll(".garment-box")) box.remove();
    const w = image.naturalWidth, h = image.naturalHeight;
    if (!w || !h) return;
    garments.forEach((garment) => {
      if (!garment.box) return;
      const [x0, y0, x1, y1] = garment.box;
      const box = el("button", { type: "button", class: y0 / h < 0.08 ? "garment-box name-below" : "garment-box",
        "aria-label": garmentName(garment),
        "aria-pressed": "false", "data-position": String(garment.position) });
      box.style.left = (100 * x0 / w) + "%";
      box.style.top = (100 * y0 / h) + "%";
      box.style.width = (100 * (x1 - x0) / w) + "%";
      box.style.height = (100 * (y1 - y0) / h) + "%";
      box.append(el("span", { "aria-hidden": "true" }, garmentName(garment)));
      box.addEventListener("click", () => choose(garments, garment.position));
      photo.append(box);
    });
    markChosen();
  }

  let chosenPosition = null;

  function show(look) {
    const result = look.result || {};
    const garments = result.garments || [];
    showPhoto(look, garments);
    for (const garment of result.unplaced || []) {
      unplacedList.append(el("li", {}, "Not used: the " + (garment.part || "garment") + " region (" + garment.reason + ")."));
    }
    if (!garments.length) {
      lookPanel.querySelector(".look-garments-column").hidden = true;
      say("We couldn't spot a garment we know in this photo" + (result.reason ? " (" + result.reason + ")" : "") +
        ". Try a photo where the clothes are laid flat or worn against a plain background.", { kind: true });
      return;
    }
    lookPanel.querySelector(".look-garments-column").hidden = false;
    say("Found " + garments.length + " garment" + (garments.length === 1 ? "" : "s") + ": choose one to complete the look.");
    for (const garment of garments) {
      const item = el("li");
      const button = el("button", { type: "button", class: "garment-choice", "aria-pressed": "false",
        "data-position": String(garment.position) }, garmentName(garment));
      button.addEventListener("click", () => choose(garments, garment.position));
      item.append(button);
      garmentList.append(item);
    }
    const main = garments.find((g) => g.slot === result.garment_slot) || garments[0];
    choose(garments, main.position);
  }

  function markChosen() {
    for (const node of document.querySelectorAll("[data-position]")) {
      node.setAttribute("aria-pressed", String(node.dataset.position === String(chosenPosition)));
    }
  }

  function choose(garments, position) {
    chosenPosition = position;
    markChosen();
    const garment = garments.find((g) => g.position === position);
    suggestionsPanel.hidden = false;
    suggestionsHeading.textContent = "Completes the look with the " + garmentName(garment).toLowerCase().replace(", ", " (") + ")";
    suggestionSlots.replaceChildren();
    const bySlot = new Map();
    for (const row of garment.suggestions || []) {
      if (!bySlot.has(row.slot)) bySlot.set(row.slot, []);
      bySlot.get(row.slot).push(row);
    }
    for (const [slot, rows] of bySlot) {
      suggestionSlots.append(el("h3", {}, slot.charAt(0).toUpperCase() + slot.slice(1)));
      const grid = el("div", { class: "grid" });
      for (const row of rows) grid.append(card(row));
      suggestionSlots.append(grid);
    }
    for (const [slot, why] of Object.entries(garment.empty_slots || {})) {
      suggestionSlots.append(el("p", { class: "muted" }, "No " + slot + ": " + why + "."));
    }
  }

  function card(row) {
    const item = row.item;
    const link = el("a", { class: "card suggestion", href: item.link || itemUrl(item.id) });
    link.append(el("img", { src: item.image_url || "", alt: item.title || item.id, loading: "lazy" }));
    link.append(el("div", {}, item.title || item.id));
    if (item.price !== null && item.price !== undefined) link.append(el("div", { class: "muted" }, String(item.price)));
    const outfits = (row.outfits || []).map((o) => o.external_id);
    const reason = (row.matches || []).join("; ") ||
      (outfits.length ? "worn together in stylist outfit" + (outfits.length === 1 ? " " : "s ") + outfits.join(", ") : "");
    if (reason) link.append(el("div", { class: "reason" }, reason));
    return link;
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); upload(); });
  const asked = new URLSearchParams(location.search).get("look");
  if (asked) { say("Loading your look…", { busy: true }); poll(asked); }
})();
