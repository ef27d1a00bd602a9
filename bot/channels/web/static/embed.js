// Wasl chat button for an association's website. Put this one line on any page:
//   <script src="https://YOUR-WASL-SERVER/chat/embed.js" async></script>
// The site must be listed in WASL_WEB_ALLOWED_ORIGINS, or the browser will not show the chat:
// the script asks the server first, and on a site not listed it says so (in the panel, and
// in the console) instead of opening a frame the browser would leave grey.
(function () {
  "use strict";
  var config = /*CONFIG*/{};
  var script = document.currentScript;
  if (!script || document.getElementById("wasl-chat-button")) return;
  var base = script.src.replace(/\/chat\/embed\.js(\?.*)?$/, "");
  var baseOrigin = new URL(base).origin;
  var lang = (document.documentElement.lang || "ar").slice(0, 2) === "en" ? "en" : "ar";
  var words = config.words[lang];
  var end = lang === "ar" ? "left" : "right";
  // On a phone the panel covers the screen (a site without a viewport tag is laid out wider
  // than the phone, hence its device width too).
  var phone = window.matchMedia("(max-width: 480px), (max-device-width: 480px)");
  var FONT = "system-ui,Tahoma,sans-serif";

  // Whether this site may show the chat (null until the server has answered; true if it
  // cannot be asked: the browser then shows what it shows).
  var allowed = null;
  var checked = fetch(base + "/chat/api/embedding", { credentials: "omit", cache: "no-store" })
    .then(function (r) { return r.json(); })
    .then(function (answer) { allowed = answer.allowed !== false; })
    .catch(function () { allowed = true; })
    .then(function () {
      if (!allowed) {
        console.warn("Wasl chat: " + location.origin + " is not in WASL_WEB_ALLOWED_ORIGINS on " +
                     baseOrigin + ", so the chat cannot open on this site. Add it there and " +
                     "restart the chat server.");
      }
    });

  var button = document.createElement("button");
  button.id = "wasl-chat-button";
  button.type = "button";
  button.textContent = "💬 " + words.label;
  button.setAttribute("aria-expanded", "false");
  button.style.cssText = "position:fixed;bottom:16px;" + end + ":16px;z-index:2147483000;" +
    "min-height:48px;padding:12px 18px;border:0;border-radius:24px;background:#0f7a5a;" +
    "color:#fff;font:600 16px " + FONT + ";box-shadow:0 2px 8px rgba(0,0,0,.25);cursor:pointer";
  var badge = document.createElement("span"); // how many replies came while it was closed
  badge.id = "wasl-chat-unread";
  badge.setAttribute("aria-hidden", "true");
  badge.hidden = true;
  badge.style.cssText = "position:absolute;top:-8px;" + (end === "left" ? "right" : "left") +
    ":-8px;min-width:26px;height:26px;padding:0 6px;box-sizing:border-box;border-radius:13px;" +
    "border:2px solid #fff;background:#b3261e;color:#fff;font:700 14px/22px " + FONT +
    ";text-align:center";
  button.appendChild(badge);

  var panel = null; // the chat's frame, or the message that it cannot open here
  var frame = null;
  var ready = false; // the chat in the frame has said so (it may be told things then)
  var siteTitle = document.title;

  function place(el) {
    if (phone.matches) {
      el.style.cssText = "position:fixed;inset:0;z-index:2147483001;width:100%;height:100%;" +
        "box-sizing:border-box;margin:0;border:0;border-radius:0;background:#fff";
    } else {
      el.style.cssText = "position:fixed;bottom:76px;" + end + ":16px;z-index:2147483001;" +
        "width:min(380px,calc(100vw - 32px));height:min(600px,calc(100vh - 100px));" +
        "box-sizing:border-box;margin:0;border:1px solid #6b7d77;border-radius:16px;" +
        "background:#fff;box-shadow:0 4px 16px rgba(0,0,0,.25)";
    }
    if (el !== frame) {
      el.style.padding = "20px";
      el.style.overflow = "auto";
      el.style.font = "17px/1.6 " + FONT;
      el.style.color = "#1d2b27";
    }
  }

  function blockedPanel() {
    var box = document.createElement("div");
    box.id = "wasl-chat-blocked";
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", config.names[lang]);
    box.dir = lang === "ar" ? "rtl" : "ltr";
    box.tabIndex = -1;
    var shut = document.createElement("button");
    shut.type = "button";
    shut.textContent = "×";
    shut.title = words.close;
    shut.setAttribute("aria-label", words.close);
    shut.style.cssText = "float:" + end + ";min-width:44px;min-height:44px;border:1px solid " +
      "#6b7d77;border-radius:8px;background:#fff;color:#1d2b27;font:600 24px " + FONT +
      ";cursor:pointer";
    shut.addEventListener("click", function () { toggle(false); button.focus(); });
    var title = document.createElement("p");
    title.style.cssText = "margin:0 0 12px;font-weight:700";
    title.dir = "auto";
    title.textContent = words.blocked;
    var admin = document.createElement("p");
    admin.style.margin = "0";
    admin.dir = "auto";
    admin.textContent = words.blocked_admin.replace("{origin}", location.origin);
    box.appendChild(shut);
    box.appendChild(title);
    box.appendChild(admin);
    return box;
  }

  function showUnread(count) {
    badge.hidden = !count;
    badge.textContent = count ? String(count) : "";
    if (count) {
      button.setAttribute("aria-label", "💬 " + words.label + " — " +
                          words.unread.replace("{count}", String(count)));
      document.title = "(" + count + ") " + document.title.replace(/^\(\d+\) /, "");
    } else {
      button.removeAttribute("aria-label");
      document.title = document.title.replace(/^\(\d+\) /, "") || siteTitle;
    }
  }

  function tell() { // whether the chat is seen: replies that come while closed are unread
    if (ready && frame.contentWindow) {
      frame.contentWindow.postMessage({ wasl: panel.hidden ? "closed" : "open" }, baseOrigin);
    }
  }

  function toggle(open) {
    panel.hidden = !open;
    button.setAttribute("aria-expanded", open ? "true" : "false");
    tell();
    if (open) panel.focus();
  }

  button.addEventListener("click", function () {
    if (panel) { toggle(panel.hidden); return; }
    checked.then(function () {
      if (panel) return;
      if (allowed) {
        frame = document.createElement("iframe");
        frame.src = base + "/chat/?embed=1";
        frame.title = config.names[lang];
        panel = frame;
      } else {
        panel = blockedPanel();
      }
      place(panel);
      document.body.appendChild(panel);
      toggle(true);
    });
  });
  phone.addEventListener("change", function () { if (panel) place(panel); });

  // The chat in the frame says when to close (its ×) and how many replies are unread.
  window.addEventListener("message", function (e) {
    if (!frame || e.source !== frame.contentWindow || e.origin !== baseOrigin) return;
    var data = e.data || {};
    if (data.wasl === "close") { toggle(false); button.focus(); }
    if (data.wasl === "unread" && typeof data.count === "number") showUnread(data.count);
    if (data.wasl === "ready") { ready = true; tell(); } // (it may have been closed already)
  });
  document.addEventListener("keydown", function (e) { // Escape closes the message panel
    if (e.key === "Escape" && panel && !panel.hidden && !frame) { toggle(false); button.focus(); }
  });
  document.body.appendChild(button);
})();
