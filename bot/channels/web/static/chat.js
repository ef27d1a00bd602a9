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
  const close = document.getElementById("wasl-close");  // only in a frame (embed.js)
  const embedded = root.dataset.embedded === "1";
  let lang = config.lang;
  let last = 0;
  let history = -1; // the latest message when the page opened: later ones are new
  let unread = 0; // bot messages that came while the chat was not seen
  let panelOpen = true; // in a frame: whether the site's chat panel is open
  const previews = new Map(); // a photo being sent: its name -> object URLs, for its bubble
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
    showUnread();
    document.getElementById("wasl-title").textContent = config.name[code];
    document.getElementById("wasl-hours").setAttribute("aria-label", w.hours_label);
    document.getElementById("wasl-hours-text").textContent = w.hours;
    document.getElementById("wasl-after-hours").textContent = w.after_hours;
    document.getElementById("wasl-progress").setAttribute("aria-label", w.uploading);
    if (close) { close.title = w.close; close.setAttribute("aria-label", w.close); }
    for (const time of log.querySelectorAll("time")) time.textContent = clock(time.dateTime);
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
    // first, a person: what the main menu's "talk to a researcher" does, from anywhere
    const items = [[{ researcher: true }, words().researcher]];
    for (const [name, label] of config.commands[lang] || []) items.push([{ command: name }, label]);
    for (const [message, label] of items) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "wasl-command";
      button.textContent = label;
      button.addEventListener("click", async () => {
        toggleMenu(false);
        if (await post("api/message", JSON.stringify(message), "application/json")) asked();
      });
      commands.appendChild(button);
    }
  }

  // The time of a message, in Riyadh as the association keeps it, in the page's language
  // ("٣:٤٥ م", "3:45 PM"), whatever the visitor's device says its time zone is.
  function clock(at) {
    const when = new Date(at);
    if (isNaN(when)) return "";
    return new Intl.DateTimeFormat(lang === "ar" ? "ar-SA" : "en-US", {
      timeZone: "Asia/Riyadh", hour: "numeric", minute: "2-digit",
    }).format(when);
  }

  // Whether researchers are at work now (the profile's days and hours, in Riyadh): if
  // not, the page says before anyone asks that a reply comes in working hours.
  function atWork() {
    const parts = {};
    for (const p of new Intl.DateTimeFormat("en-US", {
      timeZone: "Asia/Riyadh", weekday: "short", hour: "2-digit", minute: "2-digit",
      hourCycle: "h23",
    }).formatToParts(new Date())) parts[p.type] = p.value;
    const day = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].indexOf(parts.weekday);
    const now = parts.hour + ":" + parts.minute;  // "09:30": compared as text
    const work = config.hours;
    return work.days.includes(day) && now >= work.start && now < work.end;
  }

  const hours = document.getElementById("wasl-hours");

  function showHours() {
    document.getElementById("wasl-after-hours").hidden = atWork();
  }

  function asked() { hours.hidden = true; }  // they have read it: the room is the chat's
  if (!words().hours) asked();  // (no hours to tell)

  // Unread: a reply that came while the chat was not seen (another tab, or the site's
  // chat panel closed) counts in the title, "(2) …", and on the site's chat button.
  function seen() { return !document.hidden && panelOpen; }

  function showUnread() {
    const name = config.name[lang] || config.name.ar;
    document.title = unread ? "(" + unread + ") " + name : name;
    if (embedded && window.parent !== window) {
      window.parent.postMessage({ wasl: "unread", count: unread }, parentOrigin());
    }
  }

  function markSeen() {
    if (unread && seen()) { unread = 0; showUnread(); }
  }

  function parentOrigin() {  // the site that shows the frame (only it may hear the count)
    const found = location.ancestorOrigins && location.ancestorOrigins[0];
    return found && found !== "null" ? found : "*";
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
    if (!mine && item.lang && item.lang !== lang) setLanguage(item.lang);  // (its time too)
    const box = document.createElement("div");
    box.className = "wasl-msg " + (mine ? "wasl-me" : "wasl-bot");
    if (item.announcement) box.classList.add("wasl-announcement");
    box.dataset.id = String(item.id);
    if (item.staff) {  // a researcher's own words: a person, not the bot
      box.classList.add("wasl-staff");
      const by = document.createElement("div");
      by.className = "wasl-by";
      by.textContent = item.by;
      box.appendChild(by);
    }
    const preview = mine && item.file && !item.file.url ? takePreview(item.file.name) : null;
    if (item.file) {
      if (preview) {  // the photo they just sent, from their own device
        const img = document.createElement("img");
        img.className = "wasl-thumb";
        img.src = preview;
        img.alt = item.file.name;
        img.addEventListener("error", () => img.remove());  // a type the browser cannot show
        box.appendChild(img);
      }
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
    if (item.at) {
      const time = document.createElement("time");
      time.className = "wasl-time";
      time.dateTime = item.at;
      time.textContent = clock(item.at);
      box.appendChild(time);
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
    log.appendChild(box);
    box.scrollIntoView({ block: "end" });
    if (!mine && history >= 0 && item.id > history && !seen()) { unread += 1; showUnread(); }
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
        if (ok) asked();
        else for (const b of group.querySelectorAll("button")) b.disabled = false;
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
    if (ok) asked();
    else input.value = text; // nothing typed is lost
    send.disabled = false;
    resize();
    input.focus();
  }

  function takePreview(name) {
    const urls = previews.get(name);
    if (!urls || !urls.length) return null;
    const url = urls.shift();
    if (!urls.length) previews.delete(name);
    return url;
  }

  // A file goes with XMLHttpRequest, whose upload reports its progress (fetch does not):
  // a bar and a percentage while it goes, for a photo on a slow phone connection.
  const upload = document.getElementById("wasl-upload");
  const progress = document.getElementById("wasl-progress");
  let sending = 0;  // files on their way (the bar shows the latest)

  function showProgress(name, fraction) {
    const percent = Math.round(fraction * 100);
    const text = new Intl.NumberFormat(lang === "ar" ? "ar-SA" : "en-US",
                                       { style: "percent" }).format(percent / 100);
    document.getElementById("wasl-upload-name").textContent = "📎 " + name;
    document.getElementById("wasl-percent").textContent = text;
    progress.setAttribute("aria-valuenow", String(percent));
    progress.setAttribute("aria-valuetext", text);
    progress.firstElementChild.style.width = percent + "%";
    upload.hidden = false;
  }

  function sendFile(file) {
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "api/file?name=" + encodeURIComponent(file.name));
      xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) showProgress(file.name, e.loaded / e.total);
      });
      const done = (ok, message) => {
        sending -= 1;
        upload.hidden = sending === 0;  // (another file may still be on its way)
        showNotice(ok ? "" : message);
        resolve(ok);
      };
      xhr.addEventListener("load", () => {
        if (xhr.status >= 200 && xhr.status < 300) return done(true);
        let message = words().failed;
        try { message = JSON.parse(xhr.responseText).error || message; } catch (e) { /* not JSON */ }
        done(false, message);
      });
      xhr.addEventListener("error", () => done(false, words().failed));
      xhr.addEventListener("abort", () => done(false, words().failed));
      sending += 1;
      showProgress(file.name, 0);
      xhr.send(file);
    });
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
    let url = null;
    if (/^image\/(jpeg|png|webp|gif)$/.test(file.type)) {  // its thumbnail, in their bubble
      url = URL.createObjectURL(file);
      previews.set(file.name, [...(previews.get(file.name) || []), url]);
    }
    const ok = await sendFile(file);
    if (ok) asked();
    if (!ok && url) {  // not sent: no bubble will take it
      const urls = previews.get(file.name) || [];
      if (urls.includes(url)) {
        urls.splice(urls.indexOf(url), 1);
        if (!urls.length) previews.delete(file.name);
        URL.revokeObjectURL(url);
      }
    }
  });
  document.addEventListener("visibilitychange", markSeen);
  window.addEventListener("focus", markSeen);
  if (embedded) {  // the site's chat panel says when it opens and closes
    window.addEventListener("message", (e) => {
      if (e.source !== window.parent || !e.data || typeof e.data.wasl !== "string") return;
      if (e.data.wasl === "open" || e.data.wasl === "closed") {
        panelOpen = e.data.wasl === "open";
        markSeen();
      }
    });
    if (close) {
      close.addEventListener("click", () => {
        window.parent.postMessage({ wasl: "close" }, parentOrigin());
      });
    }
    window.parent.postMessage({ wasl: "ready" }, parentOrigin());
  }
  showHours();
  setInterval(showHours, 60000);

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
      if (history < 0) history = typeof hello.last === "number" ? hello.last : 0;
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
