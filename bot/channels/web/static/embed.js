// Wasl chat button for an association's website. Put this one line on any page:
//   <script src="https://YOUR-WASL-SERVER/chat/embed.js" async></script>
// The site must be listed in WASL_WEB_ALLOWED_ORIGINS, or the browser will not show the chat.
(function () {
  "use strict";
  var config = /*CONFIG*/{};
  var script = document.currentScript;
  if (!script || document.getElementById("wasl-chat-button")) return;
  var base = script.src.replace(/\/chat\/embed\.js(\?.*)?$/, "");
  var lang = (document.documentElement.lang || "ar").slice(0, 2) === "en" ? "en" : "ar";
  var end = lang === "ar" ? "left" : "right";

  var button = document.createElement("button");
  button.id = "wasl-chat-button";
  button.type = "button";
  button.textContent = "💬 " + config.labels[lang];
  button.setAttribute("aria-expanded", "false");
  button.style.cssText = "position:fixed;bottom:16px;" + end + ":16px;z-index:2147483000;" +
    "padding:12px 18px;border:0;border-radius:24px;background:#0f7a5a;color:#fff;" +
    "font:600 16px system-ui,Tahoma,sans-serif;box-shadow:0 2px 8px rgba(0,0,0,.25);cursor:pointer";

  var frame = null;
  button.addEventListener("click", function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = base + "/chat/?embed=1";
      frame.title = config.names[lang];
      frame.style.cssText = "position:fixed;bottom:76px;" + end + ":16px;z-index:2147483000;" +
        "width:min(380px,calc(100vw - 32px));height:min(600px,calc(100vh - 100px));" +
        "border:1px solid #d5ddda;border-radius:16px;background:#fff;" +
        "box-shadow:0 4px 16px rgba(0,0,0,.25)";
      document.body.appendChild(frame);
    } else {
      frame.hidden = !frame.hidden;
    }
    button.setAttribute("aria-expanded", frame.hidden ? "false" : "true");
  });
  document.body.appendChild(button);
})();
