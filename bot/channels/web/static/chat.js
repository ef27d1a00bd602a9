// Wasl web chat. No framework, no external files. Every text from the conversation is
// put in the page with textContent, never as HTML.
"use strict";
(function () {
  const config = JSON.parse(document.getElementById("wasl-config").textContent);
  const root = document.documentElement;
  const log = document.getElementById("wasl-log");
  const form = document.getElementById("wasl-form");
  const input = document.getElementById("wasl-input");
  const send = document.getElementById("wasl-send");
  const fileInput = document.getElementById("wasl-file");
  const attach = document.getElementById("wasl-attach");
  const notice = document.getElementById("wasl-notice");
  const menu = document.getElementById("wasl-menu");
  const commands = document.getElementById("wasl-commands");
  let lang = config.lang;
  let last = 0;
  let started = false;
  let offlineTimer = null;
  let lastStatus = 0; // of the latest post: 0 when it did not reach the server
  let pressed = false; // a choice was pressed: its answer's question gets the focus
  const larger = document.getElementById("wasl-larger");

  function words() { return config.strings[lang] || config.strings.ar; }

  function setLanguage(code) {
    if (code !== "ar" && code !== "en") return;
    lang = code;
    root.lang = code;
    root.dir = code === "ar" ? "rtl" : "ltr";
    const w = words();
    document.title = config.name[code];
    document.getElementById("wasl-title").textContent = config.name[code];
    input.placeholder = w.placeholder;
    send.textContent = w.send;
    larger.title = w.larger;
    larger.setAttribute("aria-label", w.larger);
    attach.title = w.attach;
    attach.setAttribute("aria-label", w.attach);
    form.setAttribute("aria-label", w.compose);
    menu.querySelector("span").textContent = w.menu;
    log.setAttribute("aria-label", w.log);
    buildCommands();
  }

  function showNotice(text) {
    notice.textContent = text;
    notice.hidden = !text;
  }

  function buildCommands() {
    commands.replaceChildren();
    for (const [name, label] of config.commands[lang] || []) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "wasl-command";
      button.textContent = label;
      button.addEventListener("click", () => {
        toggleMenu(false);
        post("api/message", JSON.stringify({ command: name }), "application/json");
      });
      commands.appendChild(button);
    }
  }

  function toggleMenu(open) {
    commands.hidden = !open;
    menu.setAttribute("aria-expanded", open ? "true" : "false");
  }

  function latestQuestion() {
    const bots = log.querySelectorAll(".wasl-bot:not(.wasl-announcement)");
    return bots.length ? bots[bots.length - 1] : null;
  }

  function render(item) {
    if (item.id <= last) return;
    last = item.id;
    if (item.hidden) return;
    const mine = item.from === "me";
    const box = document.createElement("div");
    box.className = "wasl-msg " + (mine ? "wasl-me" : "wasl-bot");
    if (item.announcement) box.classList.add("wasl-announcement");
    box.dataset.id = String(item.id);
    if (item.file) {
      if (item.file.url) {
        const link = document.createElement("a");
        link.className = "wasl-file";
        link.href = item.file.url;
        link.target = "_blank";
        link.rel = "noopener";
        if (item.file.mime && item.file.mime.startsWith("image/")) {
          const img = document.createElement("img");
          img.src = item.file.url;
          img.alt = item.file.name;
          link.appendChild(img);
        } else {
          link.textContent = "📄 " + item.file.name;
        }
        box.appendChild(link);
      } else {
        const name = document.createElement("div");
        name.className = "wasl-file-name";
        name.textContent = "📎 " + item.file.name;
        box.appendChild(name);
      }
    }
    if (item.text) {
      const text = document.createElement("div");
      text.className = "wasl-text";
      text.dir = "auto";
      kept(text, item.text);
      box.appendChild(text);
    }
    if (mine) {  // their answer: every earlier button goes, lasting ones too
      for (const old of log.querySelectorAll(".wasl-choices")) old.remove();
    }
    if (!mine && !item.announcement) {
      // a new question: the buttons before it go, but an answer's "did this help?" stays
      // under the question asked again (`lasting`) until they write
      for (const old of log.querySelectorAll(".wasl-choices:not(.wasl-lasting)")) old.remove();
      if (item.choices && item.choices.length) {
        const group = choices(item.choices);
        if (item.lasting) group.classList.add("wasl-lasting");
        box.appendChild(group);
      }
      input.inputMode = item.typed && /national|phone|digits|integer|money/.test(item.kind || "")
        ? "numeric" : "text";
    }
    if (!mine && item.lang && item.lang !== lang) setLanguage(item.lang);
    log.appendChild(box);
    box.scrollIntoView({ block: "end" });
    if (!mine && !item.announcement && pressed) {  // after a choice: to the new question
      pressed = false;
      const first = box.querySelector(".wasl-choice");
      if (first) first.focus({ preventScroll: true });
      else input.focus({ preventScroll: true });
    }
  }

  // A request number, a command, a phone or an IBAN is kept whole and left to right
  // (isolated), so that "BK-2026-000001" never breaks at its hyphen and "/status" never
  // reads "status/" in a right-to-left line. Everything stays text (textContent).
  const WHOLE = /([A-Z]{2,5}-\d{4}-\d{6}|\/[a-z]+(?:@\w+)?|\+?\d[\d ]{7,}\d|SA\d{2}[\dA-Z ]{20,30})/g;

  function kept(element, text) {
    let at = 0;
    for (const found of text.matchAll(WHOLE)) {
      if (found.index > at) element.append(text.slice(at, found.index));
      const whole = document.createElement("bdi");
      whole.className = "wasl-whole";
      whole.dir = "ltr";
      whole.textContent = found[0];
      element.append(whole);
      at = found.index + found[0].length;
    }
    if (at < text.length) element.append(text.slice(at));
  }

  function choices(list) {
    const group = document.createElement("div");
    group.className = "wasl-choices";
    for (const choice of list) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "wasl-choice";
      button.textContent = choice.label;
      button.addEventListener("click", async () => {
        pressed = true;  // the next question takes the focus the pressed button had
        for (const b of group.querySelectorAll("button")) b.disabled = true;
        const ok = await post("api/message", JSON.stringify({ choice: choice.id }),
                              "application/json");
        if (!ok) for (const b of group.querySelectorAll("button")) b.disabled = false;
      });
      group.appendChild(button);
    }
    return group;
  }

  // Anything not taken (503: the server is busy, a lost connection, a limit) shows why,
  // and the caller keeps what was sent: the text goes back in the box, buttons come back.
  async function post(url, body, type) {
    lastStatus = 0;
    try {
      const response = await fetch(url, {
        method: "POST", body, credentials: "same-origin", headers: { "Content-Type": type },
      });
      lastStatus = response.status;
      if (response.ok) { showNotice(""); return true; }
      let message = words().failed;
      try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
      showNotice(message);
    } catch (e) {
      showNotice(words().failed);
    }
    return false;
  }

  async function submitText() {
    const text = input.value.trim();
    if (!text) return;
    send.disabled = true;
    input.value = "";
    const ok = await post("api/message", JSON.stringify({ text }), "application/json");
    if (!ok) input.value = text; // nothing typed is lost
    send.disabled = false;
    resize();
    input.focus();
  }

  function resize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 160) + "px";
  }

  form.addEventListener("submit", (e) => { e.preventDefault(); submitText(); });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submitText(); }
  });
  input.addEventListener("input", resize);
  menu.addEventListener("click", () => toggleMenu(commands.hidden));
  document.addEventListener("keydown", (e) => {  // Escape closes the menu
    if (e.key === "Escape" && !commands.hidden) { toggleMenu(false); menu.focus(); }
  });
  attach.addEventListener("click", () => fileInput.click());  // a real button: keyboard too
  function setLarger(on) {  // larger text, remembered by this browser
    root.classList.toggle("wasl-large", on);
    larger.setAttribute("aria-pressed", on ? "true" : "false");
    try { localStorage.setItem("wasl-large", on ? "1" : "0"); } catch (e) { /* private mode */ }
  }
  larger.addEventListener("click", () => setLarger(!root.classList.contains("wasl-large")));
  try { setLarger(localStorage.getItem("wasl-large") === "1"); } catch (e) { setLarger(false); }
  fileInput.addEventListener("change", async () => {
    const file = fileInput.files[0];
    fileInput.value = "";
    if (!file) return;
    if (file.size > config.maxBytes) {
      showNotice(words().too_big.replace("{max}", String(config.maxMb)));
      return;
    }
    await post("api/file?name=" + encodeURIComponent(file.name), file,
               file.type || "application/octet-stream");
  });

  // The first message of a new chat is the page's own: sent again while the server is
  // busy (503) or out of reach, as nobody is there to press "send" again.
  async function start(wait) {
    if (await post("api/message", JSON.stringify({ start: true }), "application/json")) return;
    if ((lastStatus === 503 || lastStatus === 0) && wait <= 64000) {
      setTimeout(() => start(wait * 2), wait);
    }
  }

  function connect() {
    const source = new EventSource("api/events?after=" + last);
    source.addEventListener("open", () => {
      clearTimeout(offlineTimer);
      offlineTimer = null;
      root.dataset.connected = "1";
      if (notice.textContent === words().offline) showNotice("");
    });
    source.addEventListener("hello", (e) => {
      const hello = JSON.parse(e.data);
      if (hello.lang) setLanguage(hello.lang);
      if (hello.empty && !started) {
        started = true;
        start(2000);
      }
    });
    source.addEventListener("message", (e) => render(JSON.parse(e.data)));
    source.addEventListener("error", () => {
      root.dataset.connected = "0";
      // A stream ends every minute and comes back at once; only a longer gap is news.
      if (!offlineTimer) {
        offlineTimer = setTimeout(() => { showNotice(words().offline); }, 4000);
      }
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        setTimeout(connect, 3000);
      }
    });
  }

  setLanguage(lang);
  connect();
})();
